"""3sigma's work on one part of the data at a time, as small results that add up: the moments each statistic's
bounds need (:class:`~.bounds.Partial` per statistic) and the counts of documents the bounds keep
(:class:`KeptCounts`). On Data-Juicer's Ray executor each block of the dataset computes them where it lives and the
driver receives a few numbers per statistic (``DataAccess.reduce_blocks``); on the default executor the whole
population is one part, so both executors run the same code.

The functions here are what a Ray task runs: plain data in (stat keys, :class:`Change` lists, :class:`OpRule`
records instead of Data-Juicer's op instances), plain data out.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.modes.three_sigma.bounds import Partial, merge, partial_of
from data_juicer_hpo.modes.three_sigma.plan import Change, keep_masks
from data_juicer_hpo.ops.thresholds import pooled

__all__ = [
    "OpRule",
    "op_rules",
    "block_partials",
    "merged_estimates",
    "KeptCounts",
    "block_counts",
    "kept_counts",
    "block_central_sums",
]


@dataclass(frozen=True)
class OpRule:
    """What a filter's keep decision needs of the op besides its bounds (the attribute names are the op's)."""

    min_closed_interval: bool = True
    max_closed_interval: bool = True
    any: bool = True


def op_rules(ops, indices) -> Dict[int, OpRule]:
    return {
        i: OpRule(
            bool(getattr(ops[i], "min_closed_interval", True)),
            bool(getattr(ops[i], "max_closed_interval", True)),
            bool(getattr(ops[i], "any", True)),
        )
        for i in indices
    }


def block_partials(stat_keys: Dict[int, List[str]], values) -> Dict[Tuple[int, str], Partial]:
    """The moments of every statistic of one part (``values``: op position -> stat key -> that part's values)."""
    return {(i, key): partial_of(values[i].get(key, [])) for i, keys in stat_keys.items() for key in keys}


def merged_estimates(stat_keys: Dict[int, List[str]], parts: List[Dict[Tuple[int, str], Partial]]):
    """Per op position and stat key, ``(Estimate or None, reason)`` of all parts together."""
    return {i: {key: merge([p[(i, key)] for p in parts]) for key in keys} for i, keys in stat_keys.items()}


@dataclass
class KeptCounts:
    """Documents each tuned filter keeps on its statistics with the bounds as written and as tuned, and all of them
    together (None when no filter's keep decision could be counted)."""

    written: Dict[int, int] = field(default_factory=dict)
    tuned: Dict[int, int] = field(default_factory=dict)
    all_written: Optional[int] = None
    all_tuned: Optional[int] = None

    def __add__(self, other: "KeptCounts") -> "KeptCounts":
        def add(a, b):
            return None if a is None and b is None else (a or 0) + (b or 0)

        return KeptCounts(
            {i: self.written.get(i, 0) + other.written.get(i, 0) for i in {**self.written, **other.written}},
            {i: self.tuned.get(i, 0) + other.tuned.get(i, 0) for i in {**self.tuned, **other.tuned}},
            add(self.all_written, other.all_written),
            add(self.all_tuned, other.all_tuned),
        )


def block_counts(rules: Dict[int, OpRule], changes: List[Change], values) -> KeptCounts:
    """:class:`KeptCounts` of one part."""
    written = keep_masks(rules, changes, values, written=True)
    tuned = keep_masks(rules, changes, values)

    def together(masks) -> Optional[int]:
        return int(np.logical_and.reduce(list(masks.values())).sum()) if masks else None

    return KeptCounts(
        {i: int(m.sum()) for i, m in written.items()},
        {i: int(m.sum()) for i, m in tuned.items()},
        together(written),
        together(tuned),
    )


def kept_counts(parts: List[KeptCounts]) -> KeptCounts:
    total = KeptCounts()
    for part in parts:
        total = total + part
    return total


def block_central_sums(centers: Dict[Tuple[int, str, str], float], values) -> Dict[Tuple[int, str, str], tuple]:
    """Per (op position, stat key, scale), the sums of the 3rd and 4th powers of one part's deviations from the
    whole's mean (``centers``; on the log scale, of ln x): what a bound's interval needs."""
    out = {}
    for (i, key, scale), center in centers.items():
        arr = pooled([v for v in values[i][key] if v is not None])
        arr = arr[np.isfinite(arr)]
        if scale == "log":
            arr = np.log(arr[arr > 0])
        d = arr - center
        out[(i, key, scale)] = (float(np.sum(d**3)), float(np.sum(d**4)))
    return out
