"""Where a sweep's statistics are computed: in this process on Hugging Face datasets (Data-Juicer's default
executor), or on a Ray cluster (``executor_type: ray``). Either way the per-sample statistics come back to the
driver in sample order, where keep masks and objectives are cheap; the expensive part runs on the executor."""

import copy
from typing import Dict, List

__all__ = ["LocalData", "RayData", "data_engine", "ray_stats_rows"]


def ray_stats_rows(ray_dataset) -> list:
    """The ``__dj__stats__`` dict of every row of a (materialized) Ray dataset, in order."""
    from data_juicer.utils.constant import Fields

    return [row[Fields.stats] or {} for row in ray_dataset.select_columns([Fields.stats]).take_all()]


class LocalData:
    """Data-Juicer's default executor: datasets in this process."""

    kind = "default"

    def __init__(self, executor):
        from data_juicer.core.executor import default_executor

        self.executor = executor
        self.module = default_executor

    def load_ops(self, process):
        return self.module.load_ops(process)

    def load(self, dataset=None, load_data_np=None):
        from .loading import load_dataset

        return dataset if dataset is not None else load_dataset(self.executor, load_data_np)

    def count(self, dataset) -> int:
        return len(dataset)

    def apply(self, dataset, op):
        return op.run(dataset)

    def compute(self, dataset, ops) -> List[Dict[str, list]]:
        from .stats_pass import compute_statistics

        return compute_statistics(dataset, ops)

    def texts(self, dataset, key: str) -> List[str]:
        return list(dataset[key]) if len(dataset) else []

    def column(self, dataset, key: str) -> list:
        """The values of the top-level field ``key`` of every sample; KeyError when there is no such field."""
        if key not in dataset.column_names:
            raise KeyError(key)
        return list(dataset[key])

    def samples(self, dataset):
        """The dataset handed to custom objectives (its samples without the statistics column)."""
        from data_juicer.utils.constant import Fields

        return dataset.remove_columns([Fields.stats]) if Fields.stats in dataset.features else dataset

    def run_pipeline(self, original_run, dataset):
        out = original_run(self.executor, dataset=dataset, skip_export=True)
        return out, self.texts(out, "text")


class RayData:
    """Data-Juicer's Ray executor: statistics and mappers run on the cluster as Ray Data pipelines."""

    kind = "ray"

    def __init__(self, executor):
        import ray.data
        from data_juicer.core.executor import ray_executor

        self.executor = executor
        self.module = ray_executor
        # samples must come back in the same order from every pipeline so that statistics line up
        ray.data.DataContext.get_current().execution_options.preserve_order = True

    def load_ops(self, process):
        return self.module.load_ops(process, self.executor.op_env_manager)

    def load(self, dataset=None, load_data_np=None):
        from data_juicer.core.data.dataset_builder import deprecated_load_data_np_kwargs

        builder = self.executor.datasetbuilder
        dataset = builder.load_dataset(**deprecated_load_data_np_kwargs(load_data_np, builder.executor_type))
        dataset.data = dataset.data.materialize()
        return dataset

    def count(self, dataset) -> int:
        return dataset.data.count()

    def _copy(self, dataset, drop_stats=False):
        from data_juicer.utils.constant import Fields

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
        from .stats_pass import _probe_stat_keys

        out = self._copy(dataset, drop_stats=True)
        first = {k: v for k, v in out.data.take(1)[0].items()}
        keys = [_probe_stat_keys(op, first) for op in ops]
        out.process(list(ops), stats_only=True)
        rows = ray_stats_rows(out.data)
        return [{key: [row.get(key) for row in rows] for key in op_keys} for op_keys in keys]

    def texts(self, dataset, key: str) -> List[str]:
        return [row[key] for row in dataset.data.select_columns([key]).take_all()]

    def column(self, dataset, key: str) -> list:
        """The values of the top-level field ``key`` of every sample; KeyError when there is no such field."""
        if key not in (dataset.data.columns() or []):
            raise KeyError(key)
        return self.texts(dataset, key)

    def samples(self, dataset):
        """Every field of every sample but the statistics (objectives read labels and metadata from them)."""
        import datasets

        return datasets.Dataset.from_list(self._copy(dataset, drop_stats=True).data.take_all())

    def run_pipeline(self, original_run, dataset):
        out = original_run(self.executor, skip_export=True)
        return self.samples(out), self.texts(out, "text")


def data_engine(executor):
    return RayData(executor) if getattr(executor, "executor_type", "default") == "ray" else LocalData(executor)
