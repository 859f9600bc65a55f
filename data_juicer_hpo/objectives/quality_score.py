"""``quality_score``: the mean probability, under a GPT-3-style quality classifier, that a kept document is good.

The name and the idea come from Data-Juicer's HPO seed tool (``tools/hpo/objects.py``) and its quality
classifier (``tools/quality_classifier``): hashed word n-gram features and a logistic regression whose positives
are a reference set of good text and whose negatives are the raw input. Here it is trained with numpy at
:meth:`QualityScore.setup` time instead of loading a pretrained Spark model, so it fits the user's own data.
"""

import hashlib
from typing import List, Optional

import numpy as np
from loguru import logger

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.chunks import map_chunks, setup_processes
from data_juicer_hpo.objectives.exact import exact_mean
from data_juicer_hpo.objectives.quality_fit import (
    MAX_STEPS,
    N_BUCKETS,
    CrossFittedClassifier,
    roc_auc,
    train_quality_classifier,
)
from data_juicer_hpo.objectives.reference import load_reference, reference_problems
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.tokens import CHUNK_DOCS
from data_juicer_hpo.objectives.views import documents

__all__ = [
    "QualityScore",
    "CrossFittedClassifier",
    "train_quality_classifier",
    "train_on_keyed_sample",
    "roc_auc",
    "population_probabilities",
    "document_keys",
    "keyed_sample",
    "smallest_keyed",
    "population_keys",
    "log_auc",
    "N_BUCKETS",
    "MAX_STEPS",
]

# Scoring every population document at once would hold tens of millions of n-gram keys; chunks bound memory.
SCORE_CHUNK_DOCS = CHUNK_DOCS


def document_keys(texts, seed: int) -> np.ndarray:
    """A seeded 64-bit hash of each text (None: the empty text; bytes: a text's UTF-8): the order of the negatives'
    sample."""
    salt = int(seed).to_bytes(8, "little", signed=True)
    blake2b, digests = hashlib.blake2b, []
    for text in texts:
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        elif not isinstance(text, (bytes, memoryview)):
            text = b""
        digests.append(blake2b(text, digest_size=8, key=salt).digest())
    return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)


def smallest_keyed(keys: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` smallest distinct ``keys`` (a key's first position), ordered by key."""
    k = min(n, len(keys))
    while True:  # the k smallest keys, k doubled until they hold n distinct ones (copies of a text share a key)
        cut = np.partition(keys, k - 1)[k - 1] if k else None
        candidates = np.flatnonzero(keys <= cut) if k else np.zeros(0, dtype=np.int64)
        if k == len(keys) or len(np.unique(keys[candidates])) >= n:
            break
        k = min(2 * k, len(keys))
    ordered = candidates[np.lexsort((candidates, keys[candidates]))]
    first = np.concatenate([[True], keys[ordered][1:] != keys[ordered][:-1]]) if len(ordered) else ordered
    return ordered[first.astype(bool)][:n]


def population_keys(texts, seed: int) -> np.ndarray:
    """:func:`document_keys` of every text, read a chunk at a time (8 bytes per document); a population's Arrow
    texts are hashed from their buffers (:meth:`~data_juicer_hpo.data.texts.ArrowTexts.encoded`: no strings made)."""
    encoded = getattr(texts, "encoded", None)
    read = encoded if callable(encoded) else (lambda a, b: texts[a:b])
    return np.concatenate(
        [document_keys(read(a, min(a + CHUNK_DOCS, len(texts))), seed) for a in range(0, len(texts), CHUNK_DOCS)]
        + [np.zeros(0, dtype=np.uint64)]
    )


def keyed_sample(texts, n: int, seed: int) -> np.ndarray:
    """The population indices of the classifier's negatives: the documents of the ``n`` smallest distinct
    :func:`document_keys` (fewer when there are fewer distinct texts), in key order. The draw is uniform over the
    distinct texts and does not depend on the documents' order, so every executor draws the same texts (Ray's
    blocks and a directory's files come in no fixed order); a text sampled once is not trained on twice."""
    return smallest_keyed(population_keys(texts, seed), n)


def log_auc(auc: Optional[float]) -> None:
    """The classifier's cross-validated AUC, as every executor logs it (nothing with one fold)."""
    if auc is not None:
        logger.info(
            f"quality_score: the classifier tells the reference from this data with a cross-validated AUC of "
            f"[{auc:.4f}] (each fold's model on the other fold's documents; 0.5: no better than chance)"
        )


def train_on_keyed_sample(reference_texts: List[str], population: Population, seed: int):
    """``(classifier, keys)``: every population document's key (:func:`population_keys`) and the classifier
    whose negatives are the keyed sample (:func:`smallest_keyed`), as many as the reference's documents at most.
    The draw runs while the classifier's worker starts tokenizing (:func:`train_quality_classifier`'s ``draw``)."""
    drawn = []

    def draw():
        keys = population_keys(population.texts, seed)
        drawn.append(keys)
        negatives = smallest_keyed(keys, min(len(reference_texts), len(population)))
        return negatives, keys[negatives]

    return train_quality_classifier(reference_texts, population, seed, draw=draw), drawn[0]


def population_probabilities(
    classifier: CrossFittedClassifier, population: Population, processes: int = 1, keys: np.ndarray = None
):
    """P(good) of every population document, in order: its texts are tokenized, featurised and scored a chunk at a
    time (in ``processes`` worker processes), so what stays is one float per document. ``keys``: every document's
    key (:func:`population_keys`), for a classifier whose negatives were drawn by key."""

    def score(start: int, streams) -> np.ndarray:
        docs = np.arange(len(streams))
        chunk_keys = None if keys is None else keys[start : start + len(docs)]
        return classifier.probabilities(streams, docs, start + docs, chunk_keys)

    out = np.empty(len(population))
    for start, part in map_chunks(score, population.texts, SCORE_CHUNK_DOCS, processes):
        out[start : start + len(part)] = part
    return out


@register_objective
class QualityScore(Objective):
    """Mean quality probability of the kept documents (maximize; 0.0 when nothing is kept), correctly rounded.

    Options: ``reference`` (required), ``text_key`` (of the reference file, default ``text``), ``seed`` (of the
    negative sample, default 0).
    """

    name = "quality_score"
    goal = "maximize"

    def __init__(self, options: dict):
        super().__init__(options)
        self._population = None
        self.probabilities = None  # one per document of :attr:`scored_population`

    def validate(self) -> List[str]:
        return reference_problems(self.options, self.name)

    def setup(self, population: Population) -> None:
        """Train the classifier against this population and score each of its documents once."""
        self._population = population
        if len(population) == 0:
            self.probabilities = np.zeros(0)  # every trial keeps nothing and scores worst()
            return
        reference = load_reference(self.options["reference"], self.options.get("text_key") or "text")
        logger.info(f"quality_score: training on [{len(reference)}] reference docs vs the population sample")
        seed = int(self.options.get("seed") or 0)
        classifier, keys = train_on_keyed_sample(reference, population, seed)
        log_auc(classifier.auc)
        del reference  # the scoring workers fork from this process next (map_chunks trims the heap first)
        self.probabilities = population_probabilities(classifier, population, setup_processes(population), keys)
        logger.info(f"quality_score: population mean [{self.probabilities.mean():.4f}]")

    def score(self, population: Population, kept: np.ndarray) -> float:
        population, kept = documents(population, kept)  # a mixture's repeated rows count repeatedly
        if population is not self._population:
            self.setup(population)
        if kept.size == 0:
            return self.worst()
        # rounded once, exactly: a Ray sweep sums it block by block (modes/wandb/trials/blocks.py) to the same value
        return exact_mean(self.probabilities[kept])

    def worst(self) -> float:
        return 0.0

    @property
    def scored_population(self) -> Optional[Population]:
        """The population :attr:`probabilities` belong to (None before :meth:`setup`)."""
        return self._population
