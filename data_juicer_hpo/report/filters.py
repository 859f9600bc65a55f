"""What a report says about each tuned filter, as plain data: how many documents each bound removes -- alone, and in
the chain of the recipe's filters -- as written and as chosen, and which documents to show as examples.

Pure: statistic columns and bounds in, :class:`FilterSection` out; the texts of the few example documents are read
through a callable at the end. The keep rule is Data-Juicer's (:func:`data_juicer_hpo.ops.thresholds.kept_mask`,
:func:`~data_juicer_hpo.ops.thresholds.kept_mask_items` for one value per media item).

Examples of one bound (the chosen value): the documents it removes -- the closest to the bound first, then spread
evenly out to the farthest -- and the documents it keeps just inside it (the closest ones). Where the chosen bounds
differ from the written ones, the documents that change side are shown too.
"""

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from data_juicer_hpo.ops.thresholds import is_list_valued, kept_mask, kept_mask_items, pooled

__all__ = [
    "SIDES",
    "TunedStatistic",
    "BoundRow",
    "Doc",
    "ExampleGroup",
    "FilterSection",
    "spread_nearest",
    "keep_of",
    "version_keeps",
    "chain_keeps",
    "filter_sections",
    "SectionCounts",
    "section_counts",
    "with_counts",
    "fetch_texts",
    "histogram_values",
]

SIDES = ("min", "max")


@dataclass(frozen=True)
class TunedStatistic:
    """One statistic of one filter with its bounds as written and as chosen (per side, as the op holds them: a
    number or None for no bound; ``*_text``: as the recipe states them)."""

    index: int  # the op's position in the recipe
    op_name: str
    stat_key: str
    values: object  # one value (or one list of item values) per document of the population
    args: Dict[str, str]  # side -> argument name ("min" -> "min_len")
    written: Dict[str, Optional[float]]
    chosen: Dict[str, Optional[float]]
    written_text: Dict[str, str] = field(default_factory=dict)
    chosen_text: Dict[str, str] = field(default_factory=dict)
    low_closed: bool = True
    high_closed: bool = True
    any_: bool = True  # a list-valued filter keeps a document when any (else all) of its items are in bounds

    @property
    def anchor(self) -> str:
        return f"filter-{self.index}-{self.stat_key}".replace(".", "-")


@dataclass(frozen=True)
class BoundRow:
    """One bound: its values and the documents it removes, alone and in the chain, as written and as chosen."""

    arg: str
    written: str
    chosen: str
    written_alone: int
    written_chain: int
    chosen_alone: int
    chosen_chain: int

    @property
    def changed(self) -> bool:
        return self.written != self.chosen


@dataclass(frozen=True)
class Doc:
    index: int  # position in the population
    value: str  # the statistic, as shown
    text: str


@dataclass(frozen=True)
class ExampleGroup:
    title: str
    how: str  # how the documents were picked
    total: int  # documents in the group in all
    docs: List[Doc]
    kind: str = ""  # "removed:<side>", "inside:<side>", "changed:removed", "changed:kept"


@dataclass
class FilterSection:
    stat: TunedStatistic
    n: int
    rows: List[BoundRow]
    kept_written: int  # documents this filter keeps on its own, as written
    kept_chosen: int
    groups: List[ExampleGroup] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.stat.op_name} (#{self.stat.index}): {self.stat.stat_key}"


def spread_nearest(indices: np.ndarray, distance: np.ndarray, n: int, spread: bool = True) -> np.ndarray:
    """``n`` of ``indices`` ordered by ``distance`` (ties: lower index first): the nearest first and, with
    ``spread``, the others evenly spaced out to the farthest; without it, the ``n`` nearest."""
    indices = np.asarray(indices, dtype=np.int64)
    order = indices[np.lexsort((indices, np.asarray(distance, dtype=np.float64)[indices]))]
    if n <= 0:
        return order[:0]
    if len(order) <= n:
        return order
    if not spread:
        return order[:n]
    picks = np.unique(np.round(np.linspace(0, len(order) - 1, n)).astype(np.int64))
    return order[picks]


def keep_of(stat: TunedStatistic, low, high) -> np.ndarray:
    """Which documents the filter keeps on this statistic with these bounds (None: no bound on that side)."""
    if is_list_valued(stat.values):
        return kept_mask_items([stat.values], [low], [high], stat.low_closed, stat.high_closed, stat.any_)
    return kept_mask(stat.values, low, high, stat.low_closed, stat.high_closed)


def _ordering(stat: TunedStatistic, side: str) -> np.ndarray:
    """A number per document to measure its distance to a bound on ``side`` (a list-valued statistic: its item
    nearest to that side's bound from inside, so the largest item for a lower bound)."""
    if not is_list_valued(stat.values):
        return np.asarray(stat.values, dtype=np.float64)
    pick = max if side == "min" else min
    return np.asarray([pick(v) if v else np.nan for v in stat.values], dtype=np.float64)


def version_keeps(stats: Sequence[TunedStatistic], version: str) -> List[np.ndarray]:
    """Per statistic, the documents its filter keeps on it with its bounds of ``version`` ("written", "chosen")."""
    return [keep_of(s, getattr(s, version).get("min"), getattr(s, version).get("max")) for s in stats]


def chain_keeps(stats: Sequence[TunedStatistic], keeps: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Per statistic (in recipe order), the documents that reach its filter: kept by every earlier filter (``keeps``:
    per statistic, what its filter keeps on it)."""
    n = len(stats[0].values) if stats else 0
    by_op: Dict[int, np.ndarray] = {}
    for stat, keep in zip(stats, keeps):
        by_op[stat.index] = by_op.get(stat.index, np.ones(n, dtype=bool)) & keep
    reach, reached = np.ones(n, dtype=bool), {}
    for index in sorted(by_op):
        reached[index] = reach.copy()
        reach &= by_op[index]
    return [reached[stat.index] for stat in stats]


def _shown(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        items = ", ".join(_shown(v) for v in list(value)[:6])
        return f"[{items}{', ...' if len(value) > 6 else ''}]"
    if value is None:
        return "none"
    value = float(value)
    return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _groups(stat: TunedStatistic, written_keep, chosen_keep, n_examples: int) -> List[tuple]:
    """(kind, title, how, all indices of the group, the picked ones) of one statistic, before the texts are read."""
    groups = []
    for side in SIDES:
        bound = stat.chosen.get(side)
        if bound is None or side not in stat.args:
            continue
        arg, order = stat.args[side], _ordering(stat, side)
        alone = keep_of(stat, bound if side == "min" else None, bound if side == "max" else None)
        removed = np.flatnonzero(~alone)
        distance = np.abs(order - float(bound))
        where = "below" if side == "min" else "above"
        text = stat.chosen_text.get(side, _shown(bound))
        picked = spread_nearest(removed, distance, n_examples)
        groups.append(
            (f"removed:{side}", f"removed {where} {arg} = {text}", "closest to the bound first, then spread out",
             removed, picked)
        )  # fmt: skip
        inside = np.flatnonzero(chosen_keep)
        groups.append((f"inside:{side}", f"kept just inside {arg} = {text}", "the closest to the bound", inside,
                       spread_nearest(inside, distance, n_examples, spread=False)))  # fmt: skip
    order = _ordering(stat, "min")
    for kind, title, mask in (
        ("changed:removed", "removed by the chosen bounds, kept as written", written_keep & ~chosen_keep),
        ("changed:kept", "kept by the chosen bounds, removed as written", ~written_keep & chosen_keep),
    ):
        changed = np.flatnonzero(mask)
        if changed.size:
            picked = spread_nearest(changed, np.abs(order - np.nanmedian(order[changed])), n_examples)
            groups.append((kind, title, "around the median of the group", changed, picked))
    return groups


def fetch_texts(texts, rows: Sequence[int]) -> List[str]:
    """The texts of ``rows`` (ints) of a population's texts (a list, or a sequence with ``take``)."""
    rows = [int(r) for r in rows]
    if not rows:
        return []
    take = getattr(texts, "take", None)
    return list(take(rows)) if callable(take) else [texts[r] for r in rows]


def filter_sections(
    stats: Sequence[TunedStatistic], texts: Optional[Callable[[List[int]], List[str]]], n_examples: int = 3
) -> List[FilterSection]:
    """A section per statistic (in recipe order), its counts and example documents (``texts(rows)`` reads the
    texts of the picked documents, all in one call; None: no examples)."""
    stats = sorted(stats, key=lambda s: s.index)
    if not stats:
        return []
    n = len(stats[0].values)
    keeps = {version: version_keeps(stats, version) for version in ("written", "chosen")}
    reach = {version: chain_keeps(stats, keeps[version]) for version in keeps}
    sections, pending = [], []
    for i, stat in enumerate(stats):
        rows = []
        for side in SIDES:
            if side not in stat.args:
                continue
            counts = {}
            for version in ("written", "chosen"):
                bound = getattr(stat, version).get(side)
                alone = ~keep_of(stat, bound if side == "min" else None, bound if side == "max" else None)
                counts[version] = (int(alone.sum()), int((alone & reach[version][i]).sum()))
            rows.append(
                BoundRow(
                    stat.args[side],
                    stat.written_text.get(side, _shown(stat.written.get(side))),
                    stat.chosen_text.get(side, _shown(stat.chosen.get(side))),
                    *counts["written"],
                    *counts["chosen"],
                )
            )
        section = FilterSection(stat, n, rows, int(keeps["written"][i].sum()), int(keeps["chosen"][i].sum()))
        sections.append(section)
        if texts is not None:
            pending.append((section, _groups(stat, keeps["written"][i], keeps["chosen"][i], n_examples)))
    rows = sorted({int(r) for _, groups in pending for *_, picked in groups for r in picked})
    read = dict(zip(rows, texts(rows))) if rows else {}
    for section, groups in pending:
        for kind, title, how, members, picked in groups:
            docs = [Doc(int(r), _shown(section.stat.values[int(r)]), read[int(r)]) for r in picked]
            section.groups.append(ExampleGroup(title, how, int(len(members)), docs, kind))
    return sections


@dataclass
class SectionCounts:
    """The counts of one :class:`FilterSection` on one part of the documents; parts add up."""

    rows: List[tuple]  # per bound row: written alone, written in the chain, chosen alone, chosen in the chain
    kept_written: int
    kept_chosen: int
    changed: Dict[str, int]  # group kind -> documents ("changed:removed", "changed:kept")
    n: int

    def __add__(self, other: "SectionCounts") -> "SectionCounts":
        return SectionCounts(
            [tuple(a + b for a, b in zip(x, y)) for x, y in zip(self.rows, other.rows)],
            self.kept_written + other.kept_written,
            self.kept_chosen + other.kept_chosen,
            {k: self.changed.get(k, 0) + other.changed.get(k, 0) for k in {**self.changed, **other.changed}},
            self.n + other.n,
        )


def section_counts(stats: Sequence[TunedStatistic], values) -> Dict[Tuple[int, str], SectionCounts]:
    """Per (op position, stat key), the counts :func:`filter_sections` gives on one part of the documents
    (``stats`` without their values; ``values``: op position -> stat key -> that part's values) -- what a block of
    a Ray dataset sends back instead of its values."""
    stats = [replace(s, values=values[s.index][s.stat_key]) for s in stats]
    out = {}
    for section in filter_sections(stats, None):
        stat = section.stat
        written = keep_of(stat, stat.written.get("min"), stat.written.get("max"))
        chosen = keep_of(stat, stat.chosen.get("min"), stat.chosen.get("max"))
        out[(stat.index, stat.stat_key)] = SectionCounts(
            [(r.written_alone, r.written_chain, r.chosen_alone, r.chosen_chain) for r in section.rows],
            section.kept_written,
            section.kept_chosen,
            {"changed:removed": int((written & ~chosen).sum()), "changed:kept": int((~written & chosen).sum())},
            section.n,
        )
    return out


def with_counts(sections: List[FilterSection], counts: Dict[Tuple[int, str], SectionCounts]) -> List[FilterSection]:
    """``sections`` (drawn on a sample of the documents: their example documents) with the counts of all of them."""
    for section in sections:
        total = counts[(section.stat.index, section.stat.stat_key)]
        section.n, section.kept_written, section.kept_chosen = total.n, total.kept_written, total.kept_chosen
        section.rows = [BoundRow(r.arg, r.written, r.chosen, *c) for r, c in zip(section.rows, total.rows)]
        removed = {f"removed:{side}": c[2] for side, c in zip([s for s in SIDES if s in section.stat.args], total.rows)}
        inside = {f"inside:{side}": total.kept_chosen for side in SIDES}
        totals = {**removed, **inside, **total.changed}
        section.groups = [replace(g, total=totals.get(g.kind, g.total)) for g in section.groups]
    return sections


def histogram_values(stat: TunedStatistic) -> np.ndarray:
    """The statistic's values as a histogram draws them (every item of a list-valued statistic)."""
    return pooled(stat.values)
