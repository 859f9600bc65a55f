"""A trial's population as a view on the population whose per-document work is cached.

A data-mixture trial (:mod:`data_juicer_hpo.data.mixture`) takes some rows of the concatenated sources, in
Data-Juicer's order and as often as Data-Juicer takes them (an upsampled source repeats rows). Its population is a
:class:`PopulationView`: to an objective that knows nothing of views it is an ordinary :class:`Population` of the
rows taken (a repeated row is a separate document, so every objective counts it with its multiplicity, and
``len`` is the number of rows sampled). Objectives whose per-document work is expensive call :func:`documents` to
score on the base population instead, set up once for every trial.
"""

from typing import Tuple

import numpy as np

from data_juicer_hpo.objectives.base import Population, as_indices
from data_juicer_hpo.objectives.tokens import TokenStreams, population_streams

__all__ = ["PopulationView", "documents", "gather_streams"]

STREAMS = "tokens.streams"  # the key population_streams caches under


def gather_streams(streams: TokenStreams, rows: np.ndarray) -> TokenStreams:
    """The token streams of documents ``rows`` (repeats allowed), in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    lengths = streams.lengths[rows]
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    starts = np.repeat(streams.offsets[:-1][rows] - offsets[:-1], lengths)
    return TokenStreams(streams.hashes[starts + np.arange(offsets[-1], dtype=np.int64)], offsets)


class _ViewCache(dict):
    """A view's cache: the token streams are gathered from the base population's, never tokenized again."""

    def __init__(self, view: "PopulationView"):
        super().__init__()
        self._view = view

    def get(self, key, default=None):
        if key == STREAMS and key not in self:
            self[key] = gather_streams(population_streams(self._view.base), self._view.rows)
        return super().get(key, default)


class PopulationView(Population):
    """Documents ``rows`` of ``base`` (indices, repeats allowed) in that order.

    :param base: the population whose documents the view takes (its per-document work is shared).
    :param rows: int indices into ``base``; a row taken twice is two documents of the view.
    """

    def __init__(self, base: Population, rows):
        self.base = base
        self.rows = np.asarray(rows, dtype=np.int64)
        dataset = base.dataset.select(self.rows) if base.dataset is not None else None
        super().__init__([base.texts[i] for i in self.rows], dataset=dataset, cfg=base.cfg)
        self.cache = _ViewCache(self)

    def __repr__(self) -> str:
        return f"PopulationView(n={len(self)}, base n={len(self.base)})"


def documents(population: Population, kept) -> Tuple[Population, np.ndarray]:
    """The population to cache per-document work on, and the kept documents as indices into it -- one per
    occurrence when ``population`` is a view that takes a row several times (sorted otherwise)."""
    kept = as_indices(kept, len(population))
    if isinstance(population, PopulationView):
        return population.base, population.rows[kept]
    return population, kept
