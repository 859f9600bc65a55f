"""Filter statistics as compact columns, for sweeps: what trials keep per document is numbers, not dicts or text.

:func:`compute_columns` computes the statistics of several filter instances in one pass over the data -- also the
same filter with different statistic-shaping arguments (``character_repetition_filter`` with ``rep_len`` 5, 10 and
15), which Data-Juicer's own pass could not do, as each instance would find the others' statistic already present
and skip it. Each instance computes on its own empty statistics, and only the statistics are written back (not the
text); ``character_repetition_filter``'s statistic is computed by :mod:`.char_repetition` (vectorised, checked
against the op). :class:`StatisticRows` turns columns back into the per-sample statistics dicts a filter's
``process`` reads, on demand.
"""

import json
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
from data_juicer.utils.constant import Fields, StatsKeys
from loguru import logger

from data_juicer_hpo.ops import char_repetition

__all__ = ["Column", "as_column", "compute_columns", "StatisticRows"]

Column = Union[np.ndarray, list]
_PREFIX = "__dj_hpo_stat__"


def as_column(values) -> Column:
    """``values`` (a list or an Arrow array) as a numpy array when they are all ints, floats or bools -- ints in
    the smallest of int32/int64 that holds them exactly -- else as a Python list (nested or missing values)."""
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else None
    if array is None:
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            return list(values)
    kind = array.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    if not numeric or array.null_count:
        return array.to_pylist()
    out = array.to_numpy()
    if pa.types.is_integer(kind) and out.size and np.iinfo(np.int32).min <= out.min() and out.max() <= 2**31 - 1:
        out = out.astype(np.int32)
    return out


def compute_columns(dataset, ops, keys: List[List[str]]) -> List[Dict[str, Column]]:
    """The statistics ``keys[i]`` of each filter ``ops[i]`` on every sample of ``dataset`` (a Data-Juicer
    ``NestedDataset``), computed from scratch in one ``map``; per op, stat key -> column."""

    if not ops:
        return []
    if len(dataset) == 0:
        return [{key: np.zeros(0) for key in op_keys} for op_keys in keys]
    names = [[f"{_PREFIX}{i}.{key}" for key in op_keys] for i, op_keys in enumerate(keys)]

    def compute(samples):
        fields = [k for k in samples.keys() if k != Fields.stats]
        n = len(samples[fields[0]]) if fields else 0
        out = {}
        shared: dict = {}  # what several instances of one filter share in this batch (the texts' characters)
        for op, op_keys, op_names in zip(ops, keys, names):
            fast = _fast_statistics(op, samples, fields, n, shared)
            if fast is not None:
                out.update({name: fast.get(key) for key, name in zip(op_keys, op_names)})
                continue
            statistics = _op_statistics(op, samples, fields, n)
            for key, name in zip(op_keys, op_names):
                # as JSON text: Arrow would type each batch on its own (a batch of ints, one of floats, a list
                # statistic whose batch holds only empty lists) and then refuse to concatenate them
                out[name] = [json.dumps(stats.get(key), default=_jsonable) for stats in statistics]
        return out

    mapped = dataset.map(
        compute,
        batched=True,
        batch_size=min(op.batch_size for op in ops),
        num_proc=min(op.runtime_np() for op in ops),
        remove_columns=list(dataset.column_names),
        desc=f"auto_hpo statistics [{','.join(op._name for op in ops)}]",
    )
    table = mapped.data
    return [
        {key: _decoded(table.column(name)) for key, name in zip(op_keys, op_names)}
        for op_keys, op_names in zip(keys, names)
    ]


def _decoded(column: pa.ChunkedArray) -> Column:
    """A statistic column of the pass: JSON text per value, or floats (the vectorised statistics' own column)."""
    if pa.types.is_floating(column.type):
        return as_column(column)
    return as_column([json.loads(v) for v in column.to_pylist()])


def _op_statistics(op, samples, fields: List[str], n: int) -> List[dict]:
    """The op's statistics dict of each of the ``n`` samples, computed by the op on empty statistics."""

    # the unwrapped methods: an error must not silently drop a sample and misalign the statistics
    batch = {key: samples[key] for key in fields}
    batch[Fields.stats] = [{} for _ in range(n)]
    if op.is_batched_op():
        return op.compute_stats_batched(batch)[Fields.stats]
    for j in range(n):
        sample = {key: batch[key][j] for key in fields}
        sample[Fields.stats] = batch[Fields.stats][j]
        batch[Fields.stats][j] = op.compute_stats_single(sample)[Fields.stats]
    return batch[Fields.stats]


def _fast_statistics(op, samples, fields: List[str], n: int, shared: dict) -> Optional[Dict[str, list]]:
    """The statistics of ``character_repetition_filter`` computed with numpy (:mod:`.char_repetition`), checked
    against the op itself on two samples of the batch, as stat key -> list of floats (typed alike in every batch,
    so no JSON is needed); None (ask the op) for other filters or on any doubt."""

    if not n or not char_repetition.applies(op) or op.text_key not in samples:
        return None
    key = ("characters", op.text_key)
    if key not in shared:
        shared[key] = char_repetition.characters(samples[op.text_key])
    ratios = char_repetition.char_rep_ratios(samples[op.text_key], op.n, shared[key])
    if ratios is None:
        return None
    values = ratios.tolist()
    probes = sorted({0, n // 2})
    asked = _op_statistics(op, {key: [samples[key][j] for j in probes] for key in fields}, fields, len(probes))
    if asked != [{StatsKeys.char_rep_ratio: values[j]} for j in probes]:
        logger.warning(f"auto_hpo: {op._name}'s own statistics differ from the vectorised ones: the op is used")
        return None
    return {StatsKeys.char_rep_ratio: values}


def _jsonable(value):
    """numpy values inside a statistic (a media filter's per-item array) as JSON can hold them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"statistic value of type {type(value).__name__} is not JSON serializable")


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


class StatisticRows(Sequence):
    """The statistics dict of every sample, as Data-Juicer's filters would read them, made on demand from columns.

    Columns are added in recipe order; a statistic already present is kept (like Data-Juicer, whose filters skip
    a statistic already in a sample's dict), so a statistic's column is that of the first filter producing it.
    """

    def __init__(self, n: int):
        self.n = n
        self.columns: Dict[str, Column] = {}

    def add(self, columns: Dict[str, Column]) -> None:
        for stat, column in columns.items():
            if len(column) != self.n:
                raise ValueError(f"statistic {stat!r} has {len(column)} values for {self.n} samples")
            self.columns.setdefault(stat, column)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        return {stat: _scalar(column[i]) for stat, column in self.columns.items()}

    def take(self, indices) -> List[dict]:
        """The rows ``indices``, in that order (one list per statistic, not one lookup per value)."""
        indices = np.asarray(indices, dtype=np.int64)
        picked = {
            stat: (column[indices].tolist() if isinstance(column, np.ndarray) else [column[i] for i in indices])
            for stat, column in self.columns.items()
        }
        return [dict(zip(picked, values)) for values in zip(*picked.values())] if picked else [{} for _ in indices]

    def chunks(self, size: int = 65536) -> Iterator[List[dict]]:
        """Every row, ``size`` at a time (a full list of dicts would cost ~1 KB per sample)."""
        for start in range(0, self.n, size):
            yield self.take(np.arange(start, min(start + size, self.n)))

    def __iter__(self):
        for chunk in self.chunks():
            yield from chunk

    def column(self, stat: str):
        return self.columns.get(stat)

    def as_arrow(self) -> pa.Array:
        """The rows as one Arrow struct array (Data-Juicer's ``__dj__stats__`` column), built from the columns."""
        if not self.columns:
            return pa.array([{} for _ in range(self.n)], type=pa.struct([]))
        arrays = [
            pa.array(column.astype(np.int64) if isinstance(column, np.ndarray) and column.dtype == np.int32 else column)
            for column in self.columns.values()
        ]
        return pa.StructArray.from_arrays(arrays, names=list(self.columns))

    def nbytes(self) -> int:
        return sum(c.nbytes if isinstance(c, np.ndarray) else 0 for c in self.columns.values())
