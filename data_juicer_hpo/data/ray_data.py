"""Data access on Data-Juicer's Ray executor: statistics and mappers run on the cluster as Ray Data pipelines."""

import contextlib
import copy
import json
import os
import pickle
from typing import Dict, List

import numpy as np
import pyarrow as pa

import datasets
import ray.data
from data_juicer.core.data.dataset_builder import deprecated_load_data_np_kwargs
from data_juicer.core.executor import ray_executor
from data_juicer.ops import Filter
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.data.access import DataAccess
from data_juicer_hpo.data.sampling import MEDIA_KEYS, document_keys, smallest_keys, threshold_of
from data_juicer_hpo.ops.statistics import (
    StatsPass,
    is_computed,
    is_stats_filter,
    model_notes,
    probe_stat_keys,
    use_prepared_ops,
)

__all__ = ["RayData", "ray_stats_rows", "block_values", "VALUES_SAMPLE"]

# a 3sigma statistics pass brings at most about this many samples' statistics (and texts) to the driver, for the
# histograms and the report's example documents; bounds and counts are computed per block on the cluster
VALUES_SAMPLE = 20_000
SAMPLE_SEED = 20_240_601


def _values_sample() -> int:
    return int(os.environ.get("DJ_HPO_RAY_VALUES_SAMPLE", VALUES_SAMPLE))


def _stats_dict(value) -> dict:
    """A row's statistics: a dict (a struct column), JSON text, or nothing."""
    if isinstance(value, str):
        return json.loads(value)
    return value or {}


def _values_of(stats_rows, stat_keys: Dict[int, List[str]]) -> Dict[int, Dict[str, list]]:
    rows = [_stats_dict(row) for row in stats_rows]
    return {i: {key: [row.get(key) for row in rows] for key in keys} for i, keys in stat_keys.items()}


def _table_keys(table, seed: int, text_key: str) -> np.ndarray:
    """:func:`~data_juicer_hpo.data.sampling.document_keys` of the rows of one block."""
    names = table.column_names
    texts = table.column(text_key).to_pylist() if text_key in names else [""] * table.num_rows
    return document_keys(texts, [table.column(k).to_pylist() for k in MEDIA_KEYS if k in names], seed)


def block_values(table, stat_keys: Dict[int, List[str]]) -> Dict[int, Dict[str, list]]:
    """Per op position and stat key, the values of one block (an Arrow table with the statistics column)."""
    return _values_of(table.column(Fields.stats).to_pylist(), stat_keys)


def _block_results(ray_dataset, fn) -> list:
    """``fn(table)`` of every block of ``ray_dataset`` (an Arrow table each), computed where the block lives; only the
    results, one per block, come back to the driver."""

    def per_block(table):
        return {"part": np.array([pickle.dumps(fn(table))], dtype=object)}

    parts = ray_dataset.map_batches(per_block, batch_size=None, batch_format="pyarrow", zero_copy_batch=True)
    return [pickle.loads(row["part"]) for row in parts.take_all()]


def ray_stats_rows(ray_dataset) -> list:
    """The ``__dj__stats__`` dict of every row of a (materialized) Ray dataset, in order."""

    return [row[Fields.stats] or {} for row in ray_dataset.select_columns([Fields.stats]).take_all()]


class RayData(DataAccess):
    """Data-Juicer's Ray executor: statistics and mappers run on the cluster as Ray Data pipelines."""

    kind = "ray"

    def __init__(self, executor):
        self.executor = executor
        self.module = ray_executor
        # samples must come back in the same order from every pipeline so that statistics line up
        ray.data.DataContext.get_current().execution_options.preserve_order = True

    def load_ops(self, process):
        return self.module.load_ops(process, self.executor.op_env_manager)

    def load(self, dataset=None, load_data_np=None):
        builder = self.executor.datasetbuilder
        dataset = builder.load_dataset(**deprecated_load_data_np_kwargs(load_data_np, builder.executor_type))
        dataset.data = dataset.data.materialize()
        return dataset

    def count(self, dataset) -> int:
        return dataset.data.count()

    def _copy(self, dataset, drop_stats=False):
        out = copy.copy(dataset)
        if drop_stats and Fields.stats in (dataset.data.columns() or []):
            out.data = dataset.data.drop_columns([Fields.stats])
        return out

    def apply(self, dataset, op):
        out = self._copy(dataset)
        out.process([op])
        out.data = out.data.materialize()
        return out

    def compute(self, dataset, ops) -> List[Dict[str, list]]:
        """Each filter's statistics on ``dataset``; instances of one filter (several argument sets) go in separate
        passes, as each would skip a statistic another already wrote."""

        first = {k: v for k, v in self._copy(dataset, drop_stats=True).data.take(1)[0].items()}
        rounds: List[List[int]] = []
        for i, op in enumerate(ops):
            free = next((r for r in rounds if all(ops[j]._name != op._name for j in r)), None)
            if free is None:
                rounds.append([i])
            else:
                free.append(i)
        results: Dict[int, Dict[str, list]] = {}
        for positions in rounds:
            out = self._copy(dataset, drop_stats=True)
            keys = {i: probe_stat_keys(ops[i], first) for i in positions}
            out.process([ops[i] for i in positions], stats_only=True)
            rows = ray_stats_rows(out.data)
            results.update({i: {key: [row.get(key) for row in rows] for key in keys[i]} for i in positions})
        return [results[i] for i in range(len(ops))]

    def texts(self, dataset, key: str) -> List[str]:
        return [row[key] for row in dataset.data.select_columns([key]).take_all()]

    def column(self, dataset, key: str) -> list:
        """The values of the top-level field ``key`` of every sample; KeyError when there is no such field."""
        if key not in (dataset.data.columns() or []):
            raise KeyError(key)
        return self.texts(dataset, key)

    def samples(self, dataset):
        """Every field of every sample but the statistics (objectives read labels and metadata from them)."""

        return datasets.Dataset.from_list(self._copy(dataset, drop_stats=True).data.take_all())

    def run_pipeline(self, original_run, dataset):
        out = original_run(self.executor, skip_export=True)
        return self.samples(out), self.texts(out, "text")

    def statistics_pass(self, dataset, ops):
        """As :meth:`LocalData.statistics_pass`, with Data-Juicer's ``stats_only`` processing on the Ray dataset
        (no sample removed); the materialized dataset carries the statistics, which stay on the cluster: the
        driver gets the statistics (and texts) of a uniform sample of at most ``VALUES_SAMPLE`` samples, for
        pictures and examples, and computes everything else with :meth:`reduce_blocks`."""

        positions = [i for i, op in enumerate(ops) if is_computed(op)]
        n = self.count(dataset)
        if not positions:
            return StatsPass(dataset, {}, {}, 0, True, notes=model_notes(ops), count=n)
        prefix = ops[: positions[-1] + 1]
        first = {k: v for k, v in dataset.data.take(1)[0].items()}
        stat_keys = {i: probe_stat_keys(ops[i], first) for i in positions}
        # a filter that needs a model is not run here (no download by the plugin); Data-Juicer runs it later
        dataset.process([op for op in prefix if is_computed(op) or not is_stats_filter(op)], stats_only=True)
        dataset.data = dataset.data.materialize()
        count = dataset.data.count()
        text_keys = sorted({getattr(ops[i], "text_key", None) or "text" for i in positions})
        columns = [Fields.stats] + [key for key in text_keys if key in (dataset.data.columns() or [])]
        cap = _values_sample()
        drawn = dataset.data if count <= cap else dataset.data.random_sample(cap / count, seed=SAMPLE_SEED)
        rows = drawn.select_columns(columns).take_all()
        values = _values_of([row[Fields.stats] for row in rows], stat_keys)
        texts = {key: [row[key] for row in rows] for key in columns[1:]}
        return StatsPass(
            dataset,
            stat_keys,
            values,
            len(prefix),
            count == n,
            notes=model_notes(ops),
            count=count,
            sampled=count > cap,
            sample_size=len(rows),
            sample_texts=texts,
        )

    def sample(self, dataset, spec, seed: int, text_key: str):
        """The sample drawn where the blocks live: each block's smallest keys (a count) come to the driver, which
        picks the threshold; the blocks keep the rows at or below it."""
        smallest, total = [], self.count(dataset)
        if spec[0] == "count" and total > spec[1]:
            n = int(spec[1])

            smallest = _block_results(dataset.data, lambda table: smallest_keys(_table_keys(table, seed, text_key), n))
        threshold = threshold_of(spec, smallest, total)
        if threshold is None:
            return dataset

        def keep(table):
            return table.filter(pa.array(_table_keys(table, seed, text_key) <= threshold))

        out = self._copy(dataset)
        out.data = dataset.data.map_batches(keep, batch_size=None, batch_format="pyarrow").materialize()
        return out

    def reduce_blocks(self, stats, fn) -> list:
        """``fn`` applied to every block of the statistics pass's dataset where the block lives (one Ray task per
        block, its values read from the statistics column); only the results come back to the driver."""
        keys = dict(stats.stat_keys)
        return _block_results(
            stats.dataset.data.select_columns([Fields.stats]), lambda table: fn(block_values(table, keys))
        )

    def values_texts(self, stats, key: str):
        return stats.sample_texts.get(key, [])

    def process_tuned(self, original_run, dataset, stats, ops, load_data_np=None, skip_export=False, skip_return=False):
        """Data-Juicer's Ray ``run`` with the tuned ``ops``; when the statistics pass kept every sample, on the
        materialized dataset that carries them (the prefix's mappers already applied)."""

        kwargs = dict(load_data_np=load_data_np, skip_export=skip_export, skip_return=skip_return)
        if not stats.stat_keys:
            return original_run(self.executor, **kwargs)
        if not stats.aligned:
            logger.info("auto_hpo: a non-filter op changed the sample count; processing from the source")
            with use_prepared_ops(self.module, ops):
                return original_run(self.executor, **kwargs)
        pipeline = [op for op in ops[: stats.prefix_len] if isinstance(op, Filter)] + list(ops[stats.prefix_len :])
        with self._handing_out(stats.dataset), use_prepared_ops(self.module, pipeline):
            return original_run(self.executor, **kwargs)

    @contextlib.contextmanager
    def _handing_out(self, dataset):
        """Make the executor's next dataset load return ``dataset`` (loaded, carrying the statistics)."""
        builder = self.executor.datasetbuilder
        original = builder.load_dataset
        builder.load_dataset = lambda *a, **k: dataset
        try:
            yield
        finally:
            builder.load_dataset = original
