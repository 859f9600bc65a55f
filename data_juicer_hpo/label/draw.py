"""Which documents to label: drawn so that a few hundred labels say as much as they can about the thresholds.

Pure: statistic columns and the values worth labelling around (:class:`Mark`: the recipe's bounds, the sweep space's
edges) in, rows out, seeded. Two halves:

- **spread**: the documents' rank on each tuned statistic is cut into equal bins and one document is drawn from each
  bin, the statistics taking turns, so every part of every distribution is represented (tails included);
- **near a bound**: documents drawn with weights that grow near the marks -- ``exp(-|u - q| / BANDWIDTH)`` summed
  over the marks, ``u`` a document's rank quantile on the mark's statistic, ``q`` the mark's --, because a label
  says most about a threshold where the threshold could fall.

Documents already drawn are not drawn again; a statistic's missing values (NaN) take part in neither half for that
statistic. The result is shuffled (seeded) so that no block of similar documents reaches the person labelling.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

__all__ = ["BANDWIDTH", "NEAR_SHARE", "Mark", "Statistic", "Pick", "draw"]

BANDWIDTH = 0.02  # in rank quantiles: a document 2 % of the corpus away from a mark weighs e^-1 of one on it
NEAR_SHARE = 0.5  # the share of the draws made near the marks (when there are marks)


@dataclass(frozen=True)
class Mark:
    """A value of a statistic worth labelling around, and what it is (``text_length_filter.min_len = 10 (the
    recipe)``)."""

    value: float
    what: str


@dataclass(frozen=True)
class Statistic:
    """One tuned statistic (``text_length_filter.text_len``): every document's value (NaN: none) and its marks."""

    name: str
    values: np.ndarray
    marks: Tuple[Mark, ...] = ()


@dataclass
class Pick:
    """A drawn document: its row, how it was drawn (``spread`` over a statistic, or ``near`` marks) and which marks
    it lies near (within two bandwidths)."""

    row: int
    how: str
    statistic: str
    near: List[str] = field(default_factory=list)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """Every document's rank quantile in (0, 1) -- tied values share their mid-rank --, NaN where it is missing."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    present = ~np.isnan(values)
    ordered = np.sort(values[present])
    below = np.searchsorted(ordered, values[present], side="left")
    up_to = np.searchsorted(ordered, values[present], side="right")
    out[present] = (below + up_to) / 2 / max(1, len(values))
    return out


def _mark_quantile(values: np.ndarray, mark: float) -> float:
    """The share of documents whose value lies below ``mark`` (where ``mark`` falls among the ranks)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.count_nonzero(values < mark)) / max(1, len(values))


def _spread(statistics, quantiles, budget: int, taken: np.ndarray, rng) -> List[Pick]:
    picks: List[Pick] = []
    if budget <= 0 or not statistics:
        return picks
    shares = [budget // len(statistics) + (1 if i < budget % len(statistics) else 0) for i in range(len(statistics))]
    for statistic, u, k in zip(statistics, quantiles, shares):
        if k == 0:
            continue
        edges = np.linspace(0.0, 1.0, k + 1)
        for low, high in zip(edges[:-1], edges[1:]):
            members = np.flatnonzero((u >= low) & (u < high) & ~taken)
            if len(members):
                row = int(rng.choice(members))
                taken[row] = True
                picks.append(Pick(row, "spread", statistic.name))
    return picks


def _near(statistics, quantiles, budget: int, taken: np.ndarray, rng) -> List[Pick]:
    n = len(taken)
    weights = np.zeros(n)
    closeness: Dict[str, np.ndarray] = {}
    owner: Dict[str, str] = {}
    for statistic, u in zip(statistics, quantiles):
        for mark in statistic.marks:
            q = _mark_quantile(statistic.values, mark.value)
            distance = np.abs(np.nan_to_num(u, nan=np.inf) - q)
            weights += np.exp(-distance / BANDWIDTH)
            closeness[mark.what], owner[mark.what] = distance, statistic.name
    weights[taken] = 0.0
    candidates = np.flatnonzero(weights > 0)
    if budget <= 0 or not len(candidates):
        return []
    # weighted sampling without replacement (Efraimidis & Spirakis): the largest log(U) / w win
    keys = np.log(rng.random(len(candidates))) / weights[candidates]
    chosen = candidates[np.argsort(-keys, kind="stable")[:budget]]
    picks = []
    for row in chosen:
        near = [what for what, d in closeness.items() if d[row] <= 2 * BANDWIDTH]
        nearest = min(closeness, key=lambda what: closeness[what][row])
        taken[row] = True
        picks.append(Pick(int(row), "near", owner[nearest], near or [nearest]))
    return picks


def draw(statistics: Sequence[Statistic], n: int, seed: int = 0, near_share: float = NEAR_SHARE) -> List[Pick]:
    """``n`` distinct documents (every one when there are no more) drawn as the module doc says, in a seeded shuffled
    order; every document is described by ``statistics`` (each ``values`` has one entry per document)."""
    size = len(statistics[0].values) if statistics else 0
    rng = np.random.default_rng(seed)
    taken = np.zeros(size, dtype=bool)
    n = min(n, size)
    quantiles = [_quantiles(s.values) for s in statistics]
    marked = any(s.marks for s in statistics)
    near_budget = int(round(n * near_share)) if marked else 0
    picks = _spread(statistics, quantiles, n - near_budget, taken, rng)
    picks += _near(statistics, quantiles, n - len(picks), taken, rng)
    if len(picks) < n:  # bins that held no document left over: fill at random
        rest = rng.permutation(np.flatnonzero(~taken))[: n - len(picks)]
        picks += [Pick(int(row), "random", "") for row in rest]
    return [picks[i] for i in rng.permutation(len(picks))]
