"""Filter statistics as compact columns, for sweeps: what trials keep per document is numbers, not dicts or text.

:func:`compute_columns` computes the statistics of several filter instances in one pass over the data -- also the
same filter with different statistic-shaping arguments (``character_repetition_filter`` with ``rep_len`` 5, 10 and
15), which Data-Juicer's own pass could not do, as each instance would find the others' statistic already present
and skip it. Each instance computes on its own empty statistics, and only the statistics are written back (not the
text); the common text filters' statistics are computed for whole batches (:mod:`.vectorised`, checked against the
op). :class:`StatisticRows` turns columns back into the per-sample statistics dicts a filter's ``process`` reads,
on demand.
"""

import json
from typing import Dict, Iterator, List, Sequence, Union

import numpy as np
import pyarrow as pa
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.ops import vectorised

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
    for line in vectorised.reasons(ops):
        logger.info(line)
    names = [[f"{_PREFIX}{i}.{key}" for key in op_keys] for i, op_keys in enumerate(keys)]
    # a vectorised statistic is a column of numbers in every batch, also where a batch falls back to the op (Arrow
    # would refuse to concatenate a batch of floats with one of JSON text)
    typed = [
        vectorised.applies(op) and op_keys == [vectorised.STATISTIC[type(op)][0]] for op, op_keys in zip(ops, keys)
    ]

    def compute(samples):
        fields = [k for k in samples.keys() if k != Fields.stats]
        n = len(samples[fields[0]]) if fields else 0
        out = {}
        # what several filters share (characters, words) is computed once per slice of the batch
        vectorisable = [i for i, numeric in enumerate(typed) if numeric]
        computed = vectorised.fast_statistics([ops[i] for i in vectorisable], samples, fields, n)
        fast_of = {vectorisable[j]: values for j, values in computed.items()}
        for i, (op, op_keys, op_names, numeric) in enumerate(zip(ops, keys, names, typed)):
            fast = fast_of.pop(i, None)
            if fast is not None:
                out.update({name: fast[key] for key, name in zip(op_keys, op_names)})
                continue
            statistics = vectorised.op_statistics(op, samples, fields, n)
            for key, name in zip(op_keys, op_names):
                if numeric:
                    out[name] = [stats.get(key) for stats in statistics]
                    continue
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
    """A statistic column of the pass: JSON text per value, or numbers (the vectorised statistics' own column)."""
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return as_column(column)
    return as_column([json.loads(v) for v in column.to_pylist()])


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
