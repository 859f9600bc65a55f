"""Data access on Data-Juicer's default executor: Hugging Face datasets in this process."""

from typing import Dict, List

import numpy as np
from data_juicer.core.data import NestedDataset
from data_juicer.core.executor import default_executor
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.data.access import DataAccess
from data_juicer_hpo.data.loading import load_dataset
from data_juicer_hpo.data.sampling import MEDIA_KEYS, document_keys, smallest_keys, threshold_of
from data_juicer_hpo.data.texts import ArrowTexts
from data_juicer_hpo.ops.columns import compute_columns
from data_juicer_hpo.ops.statistics import (
    prepared_pipeline,
    probe_stat_keys,
    run_stats_pass,
    use_prepared_ops,
)

__all__ = ["LocalData"]


class LocalData(DataAccess):
    """Data-Juicer's default executor: datasets in this process."""

    kind = "default"

    def __init__(self, executor):
        self.executor = executor
        self.module = default_executor

    def load_ops(self, process):
        return self.module.load_ops(process)

    def load(self, dataset=None, load_data_np=None):
        return dataset if dataset is not None else load_dataset(self.executor, load_data_np)

    def count(self, dataset) -> int:
        return len(dataset)

    def apply(self, dataset, op):
        return op.run(dataset)

    def compute(self, dataset, ops) -> List[Dict[str, object]]:
        """Each filter's statistics on ``dataset``, computed apart (the same filter may appear with several
        argument sets) in one pass; per op, stat key -> column (numpy when numeric)."""

        if not isinstance(dataset, NestedDataset):
            dataset = NestedDataset(dataset)
        if Fields.stats in dataset.features:
            dataset = dataset.remove_columns([Fields.stats])
        first = dict(dataset[0]) if len(dataset) else {}
        return compute_columns(dataset, ops, [probe_stat_keys(op, first) for op in ops])

    def texts(self, dataset, key: str):
        """The ``key`` column as a sequence read from the dataset's Arrow table (not a list of every text)."""

        return ArrowTexts.of(dataset, key) if len(dataset) else []

    def column(self, dataset, key: str) -> list:
        """The values of the top-level field ``key`` of every sample; KeyError when there is no such field."""
        if key not in dataset.column_names:
            raise KeyError(key)
        return list(dataset[key])

    def samples(self, dataset):
        """The dataset handed to custom objectives (its samples without the statistics column)."""

        return dataset.remove_columns([Fields.stats]) if Fields.stats in dataset.features else dataset

    def run_pipeline(self, original_run, dataset):
        out = original_run(self.executor, dataset=dataset, skip_export=True)
        return out, self.texts(out, "text")

    def sample(self, dataset, spec, seed: int, text_key: str):
        n = len(dataset)
        columns = dataset.column_names
        texts = ArrowTexts.of(dataset, text_key) if text_key in columns and n else [""] * n
        keys = document_keys(texts, [dataset[k] for k in MEDIA_KEYS if k in columns], seed)
        threshold = threshold_of(spec, [smallest_keys(keys, int(spec[1]))] if spec[0] == "count" else [], n)
        return dataset if threshold is None else dataset.select(np.flatnonzero(keys <= threshold))

    def statistics_pass(self, dataset, ops):
        """Every stats filter's statistic on the whole population as that filter sees it (one pass)."""

        return run_stats_pass(dataset, ops)

    def process_tuned(self, original_run, dataset, stats, ops, load_data_np=None, skip_export=False, skip_return=False):
        """Data-Juicer's own ``run`` with the tuned ``ops``, on the data that already carries the statistics."""

        pipeline = prepared_pipeline(stats, ops) if stats.stat_keys else None
        data = stats.dataset
        if pipeline is None:
            if not stats.aligned:
                logger.info("auto_hpo: a non-filter op changed the sample count; processing from the loaded data")
            pipeline, data = ops, dataset
        with use_prepared_ops(self.module, pipeline):
            return original_run(self.executor, dataset=data, skip_export=skip_export, skip_return=skip_return)
