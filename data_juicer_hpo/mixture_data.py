"""A mixture sweep's data: every source of ``dataset.configs`` loaded once, whole, and each trial's rows picked
from their concatenation (:func:`data_juicer_hpo.mixture.mixture_rows`), so statistics and the objectives'
per-document work are computed once per source document, not once per trial.

Mappers and filters are per-sample on the fast path, so taking a trial's rows after them gives what Data-Juicer
gives taking them before: the trial's population is a view on the mapped sources, and its keep mask the sources'
mask read at its rows.
"""

import copy
from typing import Dict, List, Tuple

import numpy as np
from loguru import logger

from .errors import AutoHpoError
from .loading import LOAD_ERRORS, load_error
from .mixture import MixtureTarget, mixed_dataset_block, mixture_rows, trial_mixture

__all__ = ["SourceMixture", "load_sources"]


def _load_one(cfg, index: int, entry: dict, load_data_np=None):
    """Source ``index`` alone, whole, loaded by Data-Juicer's own ``DatasetBuilder`` (same strategy, validators
    and loader options as the mixture run would use)."""
    from data_juicer.core.data.dataset_builder import DatasetBuilder, deprecated_load_data_np_kwargs

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
    from data_juicer.core.data import NestedDataset
    from datasets import concatenate_datasets

    parts = [_load_one(cfg, i, entry, load_data_np) for i, entry in enumerate(cfg.dataset["configs"])]
    sizes = [len(part) for part in parts]
    try:
        union = NestedDataset(concatenate_datasets(parts))
    except ValueError as e:  # Data-Juicer's own concatenation of the sampled sources would fail the same way
        raise AutoHpoError(f"dataset.configs: the sources cannot be concatenated ({' '.join(str(e).split())[:300]})")
    logger.info(f"auto_hpo[sweep]: mixture sources loaded whole: {sizes} rows; each trial picks its rows from them")
    return union, sizes


class SourceMixture:
    """The rows of each trial's mixture in the concatenated sources, and its ``dataset`` block."""

    def __init__(self, block: dict, targets: Dict[str, MixtureTarget], sizes: List[int]):
        self.block = copy.deepcopy(block)
        self.targets = dict(targets)
        self.sizes = list(sizes)
        self._rows: Dict[tuple, np.ndarray] = {}
        self._last_view = (None, None, None)

    def names(self) -> List[str]:
        return list(self.targets)

    def rows(self, params: dict) -> np.ndarray:
        """Indices into the concatenated sources of the rows this trial's recipe loads (cached per mixture)."""
        weights, max_sample_num = trial_mixture(self.block, self.targets, params)
        key = (tuple(weights), max_sample_num)
        if key not in self._rows:
            self._rows[key] = mixture_rows(self.sizes, weights, max_sample_num)
        return self._rows[key]

    def dataset_block(self, params: dict) -> dict:
        return mixed_dataset_block(self.block, self.targets, params)

    def documents(self, population, kept: np.ndarray, params: dict):
        """The trial's population -- a view taking its rows of ``population`` (the concatenated sources after
        the mappers), repeats included -- and the positions in it of the rows the filters keep (``kept``, indices
        into ``population``)."""
        from .objectives.views import PopulationView

        rows = self.rows(params)
        cached_population, cached_rows, view = self._last_view
        if cached_population is not population or cached_rows is not rows:
            view = PopulationView(population, rows)
            self._last_view = (population, rows, view)  # one at a time: a view holds its rows' tokens
        keep = np.zeros(len(population), dtype=bool)
        keep[kept] = True
        return view, np.flatnonzero(keep[rows])

    def select(self, dataset, params: dict):
        """The rows of ``dataset`` (the concatenated sources) that the trial's recipe loads."""
        return dataset.select(self.rows(params))

    def with_statistics(self, dataset, stats_rows: list, params: dict):
        """The trial's rows of ``dataset`` with their statistics column (``stats_rows``, one dict per source row)."""
        from data_juicer.utils.constant import Fields

        rows = self.rows(params)
        return dataset.select(rows).add_column(Fields.stats, [stats_rows[i] for i in rows])
