"""The keep-mask engine of sweep trials: which samples every filter keeps under a trial's thresholds.

A filter's keep mask is computed with numpy from its statistic columns (``min <= statistic <= max`` per threshold
pair, or per media item for list-valued statistics) and accepted only when the filter itself agrees on the samples
nearest every bound and on a random sample; otherwise the filter's own ``process`` is asked about every sample, so
Data-Juicer's semantics hold either way. Masks are cached per statistics and thresholds, least recently used first
out, within :data:`MASK_CACHE_BYTES`.
"""

import functools
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

import numpy as np
from data_juicer.ops import Filter
from data_juicer.utils.constant import Fields

from data_juicer_hpo.ops.thresholds import (
    is_list_valued,
    kept_mask,
    kept_mask_items,
    live_value,
    match_statistic,
    pooled,
    threshold_pairs,
)

__all__ = ["MASK_CACHE_BYTES", "KeepMasks", "asked_mask"]

MASK_CACHE_BYTES = 256 * 2**20  # keep masks (one byte per sample) cached for repeated thresholds, at most this much
_NO_MASK = np.zeros(0, dtype=bool)


def _thresholds(op) -> dict:
    return _declared(type(op))


@functools.lru_cache(maxsize=None)
def _declared(op_class) -> dict:
    """The threshold arguments an op class declares (read from its signature: once per class, not per trial)."""
    return {t.arg: t for pair in threshold_pairs(op_class) for t in pair.args}


def _as_float(bound):
    """A bound as numpy compares it (a Fraction becomes a float; the probes check the result against the op)."""
    return float(bound) if isinstance(bound, Fraction) else bound


def asked_mask(rows: list, op) -> np.ndarray:
    """The filter's own decision on every given statistics dict: Data-Juicer's semantics, exactly."""

    if op.is_batched_op():
        keep = list(op.process_batched({Fields.stats: rows}))
    else:
        keep = [op.process_single({Fields.stats: row}) for row in rows]
    return np.asarray(keep, dtype=bool)


class KeepMasks:
    """Keep masks of a bundle's filters (a bundle: ``ops``, ``rows`` -- :class:`~.ops.columns.StatisticRows` --
    and ``stat_keys``, filter position -> key of its statistics in ``statistics``).

    :param statistics: filter statistics key -> stat key -> column, shared with whoever computes them.
    """

    def __init__(self, statistics: Dict[tuple, Dict[str, list]]):
        self.statistics = statistics
        self.masks: Dict[tuple, np.ndarray] = {}
        self.columns: Dict[tuple, Optional[tuple]] = {}  # statistic -> (values, order or owner, lists or None)
        self.mask_bytes = 0

    def clear(self) -> None:
        self.masks.clear()
        self.columns.clear()
        self.mask_bytes = 0

    def kept(self, bundle, process: List[dict]) -> np.ndarray:
        """Indices of the bundle's samples that every filter keeps with the thresholds of ``process`` (the
        bundle's recipe with the trial's threshold values)."""

        keep = np.ones(len(bundle.rows), dtype=bool)
        for position, op in enumerate(bundle.ops):
            if not isinstance(op, Filter):
                continue
            args = next(iter(process[position].values())) or {}
            declared = _thresholds(op)
            thresholds = tuple(sorted((a, repr(args[a])) for a in declared if a in args))
            for arg, _ in thresholds:
                setattr(op, arg, live_value(declared[arg], args[arg]))  # a size string: the bytes the op holds
            keep &= self.mask(bundle, position, op, thresholds)
        return np.flatnonzero(keep)

    def mask(self, bundle, position: int, op, values: tuple) -> np.ndarray:
        """The keep mask of the filter at ``position`` with its current thresholds (``values``: their cache key)."""
        cache_key = (bundle.stat_keys.get(position), position, values)
        mask = self.masks.pop(cache_key, None)  # popped and put back: the least recently used goes first
        if mask is None:
            mask = self.interval_mask(bundle, position, op)
            if mask is None:
                mask = np.concatenate([asked_mask(chunk, op) for chunk in bundle.rows.chunks()] + [_NO_MASK])
            self.mask_bytes += mask.nbytes
            while self.masks and self.mask_bytes > MASK_CACHE_BYTES:
                self.mask_bytes -= self.masks.pop(next(iter(self.masks))).nbytes
        self.masks[cache_key] = mask
        return mask

    def column(self, bundle, position: int, stat: str) -> Optional[Tuple[np.ndarray, np.ndarray, list]]:
        """A numeric statistic as an array, its sort order and None (None when it is not numeric), made once.

        A list-valued statistic (one value per media item) gives every item's value, the sample each item belongs
        to (items in sample order) and the per-sample lists."""

        key = (bundle.stat_keys.get(position), stat)
        if key not in self.columns:
            column = bundle.rows.column(stat)
            try:
                if isinstance(column, list) and is_list_valued(column):
                    lengths = [len(v) if v is not None else 0 for v in column]
                    values = pooled([v if v is not None else [] for v in column])
                    self.columns[key] = (values, np.repeat(np.arange(len(column)), lengths), column)
                else:
                    values = column
                    if not (isinstance(values, np.ndarray) and values.dtype.kind in "if"):
                        values = np.asarray(values, dtype=np.float64)  # None (a missing value) becomes NaN: asked
                    if values.ndim != 1:
                        self.columns[key] = None
                    else:
                        order = np.argsort(values, kind="stable")
                        order = order.astype(np.int32) if len(order) < 2**31 else order
                        self.columns[key] = (values, order, None)
            except (TypeError, ValueError):
                self.columns[key] = None
        return self.columns[key]

    def items_mask(self, bundle, position: int, op, pairs, stats) -> Optional[Tuple[np.ndarray, set]]:
        """The keep mask of a filter over list-valued statistics (an item is kept when within every pair's
        bounds, a sample by the filter's ``any_or_all``), and samples whose items lie nearest the bounds."""

        columns, lows, highs, probes = [], [], [], set()
        for pair in pairs:
            stat = match_statistic(pair, stats, len(pairs))
            found = None if stat is None else self.column(bundle, position, stat)
            if found is None or found[2] is None or np.isnan(found[0]).any():
                return None
            values, owner, raw = found
            lo = _as_float(getattr(op, pair.low.arg, None) if pair.low else None)
            hi = _as_float(getattr(op, pair.high.arg, None) if pair.high else None)
            columns.append(raw)
            lows.append(lo)
            highs.append(hi)
            order = np.argsort(values, kind="stable")
            for bound in (lo, hi):
                if isinstance(bound, (int, float)) and values.size:
                    at = int(np.searchsorted(values[order], bound))
                    probes.update(int(owner[order[i]]) for i in range(max(0, at - 2), min(len(order), at + 2)))
        if not isinstance(getattr(op, "any", None), bool):
            return None
        try:
            mask = kept_mask_items(
                columns,
                lows,
                highs,
                getattr(op, "min_closed_interval", True),
                getattr(op, "max_closed_interval", True),
                op.any,
            )
        except ValueError:  # statistics of one item that do not line up: ask the filter
            return None
        return mask, probes

    def interval_mask(self, bundle, position: int, op) -> Optional[np.ndarray]:
        """The keep mask of an interval filter (``min <= statistic <= max`` per threshold pair) computed with
        numpy, accepted only when the filter itself agrees on the samples nearest every bound and on a random
        sample; None (ask the filter about every sample) otherwise."""

        pairs = threshold_pairs(type(op))
        stats = list(self.statistics.get(bundle.stat_keys.get(position), {}))
        if not pairs or not stats or getattr(op, "reversed_range", False):
            return None
        mask = np.ones(len(bundle.rows), dtype=bool)
        probes = set()
        first = match_statistic(pairs[0], stats, len(pairs))
        found = None if first is None else self.column(bundle, position, first)
        if found is not None and found[2] is not None:
            items = self.items_mask(bundle, position, op, pairs, stats)
            if items is None:
                return None
            mask, probes = items
            pairs = []
        for pair in pairs:
            stat = match_statistic(pair, stats, len(pairs))
            found = None if stat is None else self.column(bundle, position, stat)
            if found is None or found[2] is not None or np.isnan(found[0]).any():
                return None
            column, order, _ = found
            lo = _as_float(getattr(op, pair.low.arg, None) if pair.low else None)
            hi = _as_float(getattr(op, pair.high.arg, None) if pair.high else None)
            mask &= kept_mask(
                column, lo, hi, getattr(op, "min_closed_interval", True), getattr(op, "max_closed_interval", True)
            )
            for bound in (lo, hi):
                if isinstance(bound, (int, float)):
                    at = int(np.count_nonzero(column < bound))  # = searchsorted(column[order], bound), no gather
                    probes.update(int(order[i]) for i in range(max(0, at - 2), min(len(order), at + 2)))
        rng = np.random.default_rng(len(bundle.rows))
        probes.update(int(i) for i in rng.choice(len(bundle.rows), size=min(64, len(bundle.rows)), replace=False))
        sample = sorted(probes)
        if not np.array_equal(asked_mask(bundle.rows.take(sample), op), mask[sample]):
            return None
        return mask
