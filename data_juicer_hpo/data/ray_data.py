"""Data access on Data-Juicer's Ray executor: statistics and mappers run on the cluster as Ray Data pipelines."""

import contextlib
import copy
from typing import Dict, List

import datasets
import ray.data
from data_juicer.core.data.dataset_builder import deprecated_load_data_np_kwargs
from data_juicer.core.executor import ray_executor
from data_juicer.ops import Filter
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.data.access import DataAccess
from data_juicer_hpo.ops.statistics import (
    StatsPass,
    is_computed,
    is_stats_filter,
    model_notes,
    probe_stat_keys,
    use_prepared_ops,
)

__all__ = ["RayData", "ray_stats_rows"]


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
        (no sample removed); the materialized dataset carries the statistics."""

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
        rows = ray_stats_rows(dataset.data)
        values = {i: {key: [row.get(key) for row in rows] for key in keys} for i, keys in stat_keys.items()}
        return StatsPass(
            dataset, stat_keys, values, len(prefix), len(rows) == n, notes=model_notes(ops), count=len(rows)
        )

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
