"""``quality_score``: the mean probability, under a GPT-3-style quality classifier, that a kept document is good.

The name and the idea come from Data-Juicer's HPO seed tool (``tools/hpo/objects.py``) and its quality
classifier (``tools/quality_classifier``): hashed word n-gram features and a logistic regression whose positives
are a reference set of good text and whose negatives are the raw input. Here it is trained with numpy at
:meth:`QualityScore.setup` time instead of loading a pretrained Spark model, so it fits the user's own data.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from loguru import logger

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.chunks import map_chunks, setup_processes
from data_juicer_hpo.objectives.features import (
    hashed_ngram_features,
    stack_rows,
    take_rows,
)
from data_juicer_hpo.objectives.logistic import LogisticModel, fit_logistic, sigmoid
from data_juicer_hpo.objectives.reference import load_reference, reference_problems
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.tokens import CHUNK_DOCS, HashMemo, texts_at, token_streams
from data_juicer_hpo.objectives.views import documents
from data_juicer_hpo.progress import Progress

__all__ = ["QualityScore", "CrossFittedClassifier", "train_quality_classifier", "roc_auc", "population_probabilities"]

N_BUCKETS = 2**18
MAX_STEPS = 200  # gradient steps of each fold's fit
# Scoring every population document at once would hold tens of millions of n-gram keys; chunks bound memory.
SCORE_CHUNK_DOCS = CHUNK_DOCS


@dataclass(frozen=True)
class CrossFittedClassifier:
    """Two logistic models, each trained on one half of the positives and of the negatives.

    A model gives the documents it was trained on as negatives a lower probability than their unseen peers
    (measured on the bench corpus: 20-50 % lower), which would penalise the sampled documents in every trial. So
    each sampled negative is scored by the model that did not see it and every other document by both models'
    mean logit; the training cost is that of one model on all the data.
    """

    models: Tuple[LogisticModel, ...]
    negatives: np.ndarray  # population indices of the sampled negatives
    negative_folds: np.ndarray  # the fold (= model) each one was trained in
    auc: Optional[float] = None  # each model's AUC on the other fold's documents, averaged (None: one fold)

    def probabilities(self, streams, docs: np.ndarray, ids: np.ndarray = None) -> np.ndarray:
        """P(good) of documents ``docs`` of ``streams``; ``ids``: their population indices (default ``docs``),
        which say whether a document was a sampled negative."""
        rows = hashed_ngram_features(streams, docs, N_BUCKETS)
        logits = np.stack([model.logits(rows) for model in self.models])
        out = logits.mean(axis=0)
        if len(self.models) > 1:
            docs = docs if ids is None else ids
            where = np.searchsorted(self.negatives, docs)
            seen = (where < len(self.negatives)) & (self.negatives[np.minimum(where, len(self.negatives) - 1)] == docs)
            unseen_by = 1 - self.negative_folds[where[seen]]  # the other of the two models
            out[seen] = logits[unseen_by, np.flatnonzero(seen)]
        return sigmoid(out)


def train_quality_classifier(reference_texts: List[str], population: Population, seed: int = 0):
    """A classifier telling reference-like text (1) from the population's raw text (0).

    The negatives are a random sample of the population, as many as the positives (or the whole population when
    it is smaller, then the positives are sampled down to match), so that the prior is 0.5 on both sides. The two
    folds' models are fitted at the same time, in two threads (numpy and BLAS release the GIL).
    """
    rng = np.random.default_rng(seed)
    n = min(len(reference_texts), len(population))
    if n == 0:
        raise ValueError("the quality classifier needs at least one reference document and one population document")
    positives = np.sort(rng.choice(len(reference_texts), n, replace=False))
    negatives = np.sort(rng.choice(len(population), n, replace=False))
    memo = HashMemo()  # a token's hash is the same on both sides: each distinct token is hashed once
    with Progress("tokenizing the quality classifier's documents"):
        positive_streams = token_streams([reference_texts[i] for i in positives], memo)
        positive_rows = hashed_ngram_features(positive_streams, np.arange(n), N_BUCKETS)
        # only the sampled documents are tokenized (the same features as from the whole population's streams)
        negative_streams = token_streams(texts_at(population.texts, negatives), memo)
        negative_rows = hashed_ngram_features(negative_streams, np.arange(n), N_BUCKETS)
    n_folds = 2 if n >= 2 else 1  # one document cannot be split; it is then scored by the model it trained
    positive_folds, negative_folds = rng.permutation(n) % n_folds, rng.permutation(n) % n_folds

    def fold_rows(fold: int, inside: bool):
        pick = (lambda folds: folds == fold) if inside else (lambda folds: folds != fold)
        rows = stack_rows(
            take_rows(positive_rows, np.flatnonzero(pick(positive_folds))),
            take_rows(negative_rows, np.flatnonzero(pick(negative_folds))),
        )
        labels = np.concatenate([np.ones(np.sum(pick(positive_folds))), np.zeros(np.sum(pick(negative_folds)))])
        return rows, labels

    with Progress("fitting the quality classifier", total=n_folds * MAX_STEPS, unit="steps") as progress:
        with ThreadPoolExecutor(n_folds, thread_name_prefix="quality-fit") as pool:
            fits = [
                pool.submit(fit_logistic, *fold_rows(fold, True), max_iter=MAX_STEPS, on_step=progress.update)
                for fold in range(n_folds)
            ]
            models = [fit.result() for fit in fits]
    auc = None
    if n_folds > 1:  # each fold's model on the documents it did not see
        with Progress("the quality classifier's cross-validated AUC"):
            held_out = [fold_rows(fold, False) for fold in range(n_folds)]
            auc = float(np.mean([roc_auc(m.logits(rows), labels) for m, (rows, labels) in zip(models, held_out)]))
    return CrossFittedClassifier(tuple(models), negatives, negative_folds, auc)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The area under the ROC curve: the chance that a random positive scores above a random negative (ties count
    half), from the ranks of the scores (Mann-Whitney U)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_scores[1:] != sorted_scores[:-1]]))
    sizes = np.diff(np.append(starts, len(scores)))
    ranks[order] = np.repeat(starts + (sizes + 1) / 2.0, sizes)  # tied scores share their mean rank (1-based)
    positive = labels == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def population_probabilities(classifier: CrossFittedClassifier, population: Population, processes: int = 1):
    """P(good) of every population document, in order: its texts are tokenized, featurised and scored a chunk at a
    time (in ``processes`` worker processes), so what stays is one float per document."""

    def score(start: int, streams) -> np.ndarray:
        docs = np.arange(len(streams))
        return classifier.probabilities(streams, docs, start + docs)

    out = np.empty(len(population))
    for start, part in map_chunks(score, population.texts, SCORE_CHUNK_DOCS, processes):
        out[start : start + len(part)] = part
    return out


@register_objective
class QualityScore(Objective):
    """Mean quality probability of the kept documents (maximize; 0.0 when nothing is kept).

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
        classifier = train_quality_classifier(reference, population, seed=int(self.options.get("seed") or 0))
        if classifier.auc is not None:
            logger.info(
                f"quality_score: the classifier tells the reference from this data with a cross-validated AUC of "
                f"[{classifier.auc:.4f}] (each fold's model on the other fold's documents; 0.5: no better than chance)"
            )
        del reference  # the scoring workers fork from this process next (map_chunks trims the heap first)
        self.probabilities = population_probabilities(classifier, population, setup_processes(population))
        logger.info(f"quality_score: population mean [{self.probabilities.mean():.4f}]")

    def score(self, population: Population, kept: np.ndarray) -> float:
        population, kept = documents(population, kept)  # a mixture's repeated rows count repeatedly
        if population is not self._population:
            self.setup(population)
        if kept.size == 0:
            return self.worst()
        return float(self.probabilities[kept].mean())

    def worst(self) -> float:
        return 0.0

    @property
    def scored_population(self) -> Optional[Population]:
        """The population :attr:`probabilities` belong to (None before :meth:`setup`)."""
        return self._population
