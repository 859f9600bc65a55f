"""``kept`` and ``kept_tokens``: how much a trial keeps, in documents and in tokens.

Every trial's scores hold ``kept`` and ``retention`` whatever the objective (the sweep adds them); as objectives
they are usable in constraints (``kept >= 1000``), and they are what a fixed training budget
(:mod:`~data_juicer_hpo.objectives.budget`) checks: a trial that keeps less than the budget is infeasible.
Tokens are counted as the hashed n-gram objectives count them (:func:`~data_juicer_hpo.objectives.tokens.tokenize`).
"""

import numpy as np

from data_juicer_hpo.objectives.base import Objective, Population, as_indices
from data_juicer_hpo.objectives.chunks import map_chunks, setup_processes
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.views import documents

__all__ = ["Kept", "KeptTokens", "token_counts"]

COUNTS = "tokens.counts"  # the population cache key of every document's token count


def token_counts(population: Population) -> np.ndarray:
    """Every document's number of tokens (int64), counted once per population a chunk at a time."""
    counts = population.cache.get(COUNTS)
    if counts is None:
        counts = np.zeros(len(population), dtype=np.int64)
        chunks = map_chunks(lambda _, streams: streams.lengths, population.texts, processes=setup_processes(population))
        for start, lengths in chunks:
            counts[start : start + len(lengths)] = lengths
        population.cache[COUNTS] = counts
    return counts


@register_objective
class Kept(Objective):
    """The number of documents a trial keeps (maximize; 0 when nothing is kept)."""

    name = "kept"
    goal = "maximize"

    def score(self, population: Population, kept: np.ndarray) -> float:
        return float(as_indices(kept, len(population)).size)

    def worst(self) -> float:
        return 0.0


@register_objective
class KeptTokens(Objective):
    """The number of tokens in the documents a trial keeps (maximize; a mixture's repeated rows count each time)."""

    name = "kept_tokens"
    goal = "maximize"

    def setup(self, population: Population) -> None:
        token_counts(population)

    def score(self, population: Population, kept: np.ndarray) -> float:
        base, rows = documents(population, kept)
        return float(token_counts(base)[rows].sum())

    def worst(self) -> float:
        return 0.0
