"""``model_loss``: how well a small language model trained on the kept documents predicts the reference set.

The model is the hashed word-bigram model of :mod:`data_juicer_hpo.objectives.bigram_lm`; the score is its
cross-entropy in nats per token on the whole reference set (``auto_hpo.reference``), which is held out: it is
never trained on. More text from the right distribution lowers the loss, so quantity and quality both count,
as for the downstream model a real recipe feeds.
"""

import math
from typing import List

import numpy as np
from loguru import logger

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.bigram_lm import (
    HeldOut,
    bigram_counts,
    cross_entropy,
    held_out,
    joined_counts,
)
from data_juicer_hpo.objectives.chunks import map_chunks, setup_processes
from data_juicer_hpo.objectives.reference import load_reference, reference_problems
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.tokens import CHUNK_DOCS, token_streams
from data_juicer_hpo.objectives.views import documents

__all__ = ["ModelLoss"]

N_BUCKETS = 2**18
SETUP_CHUNK_DOCS = CHUNK_DOCS  # documents tokenized and counted at a time by the setup


@register_objective
class ModelLoss(Objective):
    """Held-out cross-entropy (nats per token) of a bigram model trained on the kept documents (minimize).

    ``worst()`` is ``log(2**18)`` ~= 12.48, the loss of the uniform distribution over the word buckets, which is
    what the model predicts with no training text. A few documents unlike the reference can score slightly
    above it (their words take probability from the unseen ones); such a trial is worse than keeping nothing.

    Options: ``reference`` (required), ``text_key`` (of the reference file, default ``text``).
    """

    name = "model_loss"
    goal = "minimize"

    def __init__(self, options: dict):
        super().__init__(options)
        self._population = None
        self._evaluation = None
        self._counts = None

    def validate(self) -> List[str]:
        return reference_problems(self.options, self.name)

    def setup(self, population: Population) -> None:
        """Reduce the reference to its bigrams and cache every population document's counts of them (the texts are
        tokenized a chunk at a time; what stays is a bucket id per token and an index per held-out bigram)."""
        evaluation = self.held_out_text()
        chunks = map_chunks(
            lambda _, streams: bigram_counts(streams, evaluation),
            population.texts,
            SETUP_CHUNK_DOCS,
            setup_processes(population),
        )
        self._counts = joined_counts([counts for _, counts in chunks])
        self._population = population

    def held_out_text(self) -> HeldOut:
        """The reference reduced to its bigrams and first words (read once)."""
        if self._evaluation is None:
            reference = load_reference(self.options["reference"], self.options.get("text_key") or "text")
            self._evaluation = held_out(token_streams(reference), N_BUCKETS)
            logger.info(f"model_loss: [{self._evaluation.n_tokens}] held-out reference tokens")
        return self._evaluation

    def score(self, population: Population, kept: np.ndarray) -> float:
        population, kept = documents(population, kept)  # a mixture's repeated rows train the model repeatedly
        if population is not self._population:
            self.setup(population)
        if kept.size == 0:
            return self.worst()
        return cross_entropy(self._counts, self._evaluation, kept)

    def worst(self) -> float:
        return math.log(N_BUCKETS)
