"""A mixture sweep's trials: each trial's rows picked from the concatenated sources
(:func:`data_juicer_hpo.data.mixture.mixture_rows`, loaded by :mod:`data_juicer_hpo.data.mixture_sources`).

Mappers and filters are per-sample on the fast path, so taking a trial's rows after them gives what Data-Juicer
gives taking them before: the trial's population is a view on the mapped sources, and its keep mask the sources'
mask read at its rows.
"""

import copy
from typing import Dict, List

import numpy as np
from data_juicer.utils.constant import Fields

from data_juicer_hpo.data.mixture import MixtureTarget, mixed_dataset_block, mixture_rows, trial_mixture
from data_juicer_hpo.objectives.views import PopulationView

__all__ = ["SourceMixture"]


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

        rows = self.rows(params)
        return dataset.select(rows).add_column(Fields.stats, [stats_rows[i] for i in rows])
