"""A mixture sweep's sources: every source of ``dataset.configs`` loaded once, whole, and concatenated; each
trial's rows are then picked from the concatenation (:mod:`data_juicer_hpo.modes.wandb.trials.mixtures`), so
statistics and the objectives' per-document work are computed once per source document, not once per trial.
"""

import copy
from typing import List, Tuple

from data_juicer.core.data import NestedDataset
from data_juicer.core.data.dataset_builder import (
    DatasetBuilder,
    deprecated_load_data_np_kwargs,
)
from datasets import concatenate_datasets
from loguru import logger

from data_juicer_hpo.data.loading import LOAD_ERRORS, load_error
from data_juicer_hpo.errors import AutoHpoError

__all__ = ["load_sources"]


def _load_one(cfg, index: int, entry: dict, load_data_np=None):
    """Source ``index`` alone, whole, loaded by Data-Juicer's own ``DatasetBuilder`` (same strategy, validators
    and loader options as the mixture run would use)."""

    key = f"dataset.configs[{index}]"
    alone = copy.deepcopy(cfg)
    alone.dataset = {"configs": [copy.deepcopy(entry)]}
    alone.dataset_path = None
    alone.generated_dataset_config = None
    try:
        builder = DatasetBuilder(alone, executor_type="default")
        dataset = builder.load_dataset(**deprecated_load_data_np_kwargs(load_data_np, "default"))
    except LOAD_ERRORS as e:
        raise load_error(key, "source", e)
    if len(dataset) == 0:
        raise AutoHpoError(f"{key}: the source has no sample (Data-Juicer cannot sample from it)")
    return dataset


def load_sources(cfg, load_data_np=None) -> Tuple[object, List[int]]:
    """Every source of ``cfg.dataset.configs`` whole, concatenated in config order, and each one's row count."""

    parts = [_load_one(cfg, i, entry, load_data_np) for i, entry in enumerate(cfg.dataset["configs"])]
    sizes = [len(part) for part in parts]
    try:
        union = NestedDataset(concatenate_datasets(parts))
    except ValueError as e:  # Data-Juicer's own concatenation of the sampled sources would fail the same way
        raise AutoHpoError(f"dataset.configs: the sources cannot be concatenated ({' '.join(str(e).split())[:300]})")
    logger.info(f"auto_hpo[sweep]: mixture sources loaded whole: {sizes} rows; each trial picks its rows from them")
    return union, sizes
