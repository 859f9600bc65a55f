"""The bounds 3sigma sets: for every threshold pair of every stats filter, mean -/+ k*std of the statistic that
filter sees (:mod:`.bounds`), paired exactly from the op's signature (:mod:`data_juicer_hpo.ops.thresholds`); and
which samples the new bounds -- and the bounds as written -- keep. Pure: ops, statistic columns and k in, plain data
out.

``tighten_only``: each bound only ever tightens the recipe as written -- new min = max(written, 3sigma), new max =
min(written, 3sigma), with 3sigma's bound clamped and cast as always; where the written one is tighter it stays
(``Change.written_kept``, and ``Change.sigma`` is what 3sigma would have set). A side the recipe leaves open (a
``None`` bound) takes 3sigma's."""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from data_juicer_hpo.modes.three_sigma.bounds import (
    bound_value,
    estimate,
    log_scale_problem,
    natural_range,
)
from data_juicer_hpo.ops.thresholds import (
    is_list_valued,
    kept_mask,
    kept_mask_items,
    live_value,
    match_statistic,
    recipe_value,
    threshold_pairs,
)

__all__ = ["Change", "Skip", "plan_bounds", "keep_masks", "removed_masks", "tighter_written"]


@dataclass(frozen=True)
class Change:
    index: int  # op position in the recipe
    op_name: str
    arg: str
    old: object
    new: object  # as the recipe states it (a size threshold: the string of its byte count)
    stat_key: str
    live: object = None  # as the op holds it (a size threshold: bytes); None = same as ``new``
    scale: str = "linear"
    note: str = ""  # why the requested scale was not used
    written_kept: bool = False  # tighten_only: the written bound is tighter than 3sigma's, so it stays
    sigma: object = None  # tighten_only: the bound 3sigma computed (as the recipe would state it)

    @property
    def op_value(self):
        return self.new if self.live is None else self.live


@dataclass(frozen=True)
class Skip:
    index: int
    op_name: str
    reason: str


def tighter_written(written, tuned, side: str) -> bool:
    """Whether the written bound (as the op holds it; None: open) is strictly tighter than the tuned one."""
    if written is None or isinstance(written, bool) or tuned is None:
        return False
    try:
        written, tuned = float(written), float(tuned)
    except (TypeError, ValueError):
        return False
    return written > tuned if side == "min" else written < tuned


def plan_bounds(
    ops, stat_keys, values, k: float, scale: str = "linear", tighten_only: bool = False, estimates=None
) -> Tuple[List[Change], List[Skip]]:
    """The new threshold values of every stats filter, and why the others stay unchanged (``estimates``: per op
    position and stat key, ``(Estimate or None, reason)`` computed elsewhere -- by parts on a Ray cluster --;
    by default from ``values``).

    ``scale="log"`` uses log-scale bounds for every statistic whose values are all > 0; the others stay linear
    (``Change.note`` says why). ``tighten_only`` keeps a written bound that is tighter (see the module doc)."""
    changes, skips = [], []
    for index, keys in stat_keys.items():
        op = ops[index]
        name = op._name
        pairs = threshold_pairs(type(op))
        if not pairs:
            skips.append(Skip(index, name, "has no min_*/max_* threshold argument"))
            continue
        if getattr(op, "reversed_range", False):
            skips.append(Skip(index, name, "reversed_range is set: it keeps what lies outside its bounds"))
            continue
        numeric = {
            key: estimates[index][key] if estimates is not None else estimate(values[index].get(key, []))
            for key in keys
        }
        usable = [key for key, (est, reason) in numeric.items() if est is not None or "constant" in (reason or "")]
        for pair in pairs:
            candidates = usable if usable else keys
            stat_key = match_statistic(pair, candidates, len(pairs))
            label = "/".join(t.arg for t in pair.args)
            if stat_key is None:
                reasons = "; ".join(f"{key}: {r}" for key, (e, r) in numeric.items() if r) or "ambiguous"
                skips.append(Skip(index, name, f"{label}: no numeric statistic to tune ({reasons})"))
                continue
            est, reason = numeric[stat_key]
            if est is None:
                skips.append(Skip(index, name, f"{label}: {stat_key} {reason}"))
                continue
            stat_range = natural_range(stat_key, est)
            used, note = scale, ""
            if scale == "log" and log_scale_problem(est):
                used, note = "linear", f"{stat_key} {log_scale_problem(est)}"
            for threshold in pair.args:
                bound = bound_value(est, k, threshold.side, threshold.type, stat_range, used)
                new = recipe_value(threshold, bound)  # a parsed threshold: the string the op reads back
                old = getattr(op, threshold.arg, None)
                live = live_value(threshold, new) if threshold.parse else None  # what the op holds: bytes, a Fraction
                if tighten_only and tighter_written(old, bound, threshold.side):
                    kept = recipe_value(threshold, old) if threshold.parse else old
                    live = old if threshold.parse else None
                    changes.append(Change(index, name, threshold.arg, old, kept, stat_key, live, used, note, True, new))
                    continue
                changes.append(Change(index, name, threshold.arg, old, new, stat_key, live, used, note))
    return changes, skips


def removed_masks(ops, changes: List[Change], values) -> Dict[int, np.ndarray]:
    """Per op position, the mask of samples its new bounds remove (on the statistic as that op sees it)."""
    return {index: ~keep for index, keep in keep_masks(ops, changes, values).items()}


def keep_masks(ops, changes: List[Change], values, written: bool = False) -> Dict[int, np.ndarray]:
    """Per op position, the mask of samples it keeps on its tuned statistics, with its new bounds or (``written``)
    with the bounds as written -- only the arguments 3sigma tunes count."""
    by_op: Dict[int, Dict[str, Dict[str, object]]] = {}
    for c in changes:
        by_op.setdefault(c.index, {}).setdefault(c.stat_key, {})[c.arg.split("_", 1)[0]] = (
            c.old if written else c.op_value
        )
    kept = {}
    for index, per_stat in by_op.items():
        op = ops[index]
        if any(is_list_valued(values[index][stat_key]) for stat_key in per_stat):
            # one decision per sample from all of its items, by the filter's own any_or_all
            try:
                keep = kept_mask_items(
                    [values[index][stat_key] for stat_key in per_stat],
                    [bounds.get("min") for bounds in per_stat.values()],
                    [bounds.get("max") for bounds in per_stat.values()],
                    getattr(op, "min_closed_interval", True),
                    getattr(op, "max_closed_interval", True),
                    bool(getattr(op, "any", True)),
                )
            except ValueError:  # statistics with different item counts: no count to report, the bounds stand
                continue
            kept[index] = keep
            continue
        mask = np.ones(len(next(iter(values[index].values()))), dtype=bool)
        for stat_key, bounds in per_stat.items():
            mask &= kept_mask(
                values[index][stat_key],
                bounds.get("min"),
                bounds.get("max"),
                getattr(op, "min_closed_interval", True),
                getattr(op, "max_closed_interval", True),
            )
        kept[index] = mask
    return kept
