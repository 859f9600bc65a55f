"""The quality classifier's training (``quality_score``): two folds fitted at once, each model scoring the other
fold's documents.

Each fold tokenizes its own documents and fits its model; the second fold runs in a forked worker process at the
same time (tokenizing holds the GIL, so threads would take turns), or in a thread where this process may not fork
(:func:`~data_juicer_hpo.objectives.chunks.may_fork`: a Ray driver). A document's feature row does not depend on the
other documents, so the folds' rows are those of all the sampled documents featurised at once, and the models the
same bit for bit however the work is split.

When the negatives are drawn by key (:func:`train_quality_classifier`'s ``draw``: every population document hashed
first), the worker starts before the draw and tokenizes its fold's positives meanwhile.
"""

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.objectives.base import Population
from data_juicer_hpo.objectives.blas import blas_threads
from data_juicer_hpo.objectives.chunks import forked_call, may_fork
from data_juicer_hpo.objectives.features import SparseRows, hashed_ngram_features
from data_juicer_hpo.objectives.logistic import LogisticModel, fit_logistic, sigmoid
from data_juicer_hpo.objectives.tokens import HashMemo, TokenStreams, joined_streams, texts_at, token_streams
from data_juicer_hpo.progress import Progress

__all__ = ["N_BUCKETS", "MAX_STEPS", "CrossFittedClassifier", "train_quality_classifier", "roc_auc"]

N_BUCKETS = 2**18
MAX_STEPS = 200  # gradient steps of each fold's fit


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
    negative_keys: Optional[np.ndarray] = None  # their document keys, sorted (None: drawn by index)
    key_folds: Optional[np.ndarray] = None  # the fold of each of those keys

    def probabilities(self, streams, docs: np.ndarray, ids: np.ndarray = None, keys: np.ndarray = None) -> np.ndarray:
        """P(good) of documents ``docs`` of ``streams``. Whether a document was a sampled negative is told by its
        key (``keys``, document keys) when the negatives were drawn by key -- every copy of a sampled text is then
        scored alike, wherever it sits -- else by its population index (``ids``, default ``docs``)."""
        rows = hashed_ngram_features(streams, docs, N_BUCKETS)
        logits = np.stack([model.logits(rows) for model in self.models])
        out = logits.mean(axis=0)
        if len(self.models) > 1:
            if self.negative_keys is not None and keys is not None:
                sampled, folds, look = self.negative_keys, self.key_folds, np.asarray(keys, dtype=np.uint64)
            else:
                sampled, folds, look = self.negatives, self.negative_folds, docs if ids is None else ids
            where = np.searchsorted(sampled, look)
            seen = (where < len(sampled)) & (sampled[np.minimum(where, len(sampled) - 1)] == look)
            unseen_by = 1 - folds[where[seen]]  # the other of the two models
            out[seen] = logits[unseen_by, np.flatnonzero(seen)]
        return sigmoid(out)


Draw = Callable[[], Tuple[np.ndarray, np.ndarray]]  # () -> (negatives, their keys)


def train_quality_classifier(
    reference_texts: List[str],
    population: Population,
    seed: int = 0,
    negatives: Optional[np.ndarray] = None,
    negative_keys: Optional[np.ndarray] = None,
    draw: Optional[Draw] = None,
) -> CrossFittedClassifier:
    """A classifier telling reference-like text (1) from the population's raw text (0).

    The negatives are a sample of the population, as many as the positives (or the whole population when it is
    smaller, then the positives are sampled down to match), so that the prior is 0.5 on both sides: ``negatives``
    (population indices, in the order their rows take, with their ``negative_keys``), ``draw()`` giving both (at
    most as many as the population has documents; it runs beside the worker's first tokenizing), or a seeded draw
    of indices.
    """
    rng = np.random.default_rng(seed)
    if draw is not None:
        wanted = min(len(reference_texts), len(population))
    else:
        wanted = min(len(reference_texts), len(population) if negatives is None else len(negatives))
    if wanted == 0:
        raise ValueError("the quality classifier needs at least one reference document and one population document")
    positives = np.sort(rng.choice(len(reference_texts), wanted, replace=False))
    if draw is None and negatives is None:
        negatives = np.sort(rng.choice(len(population), wanted, replace=False))
    elif draw is None and len(negatives) != wanted:
        raise ValueError(f"the quality classifier takes at most {wanted} negatives, but got {len(negatives)}")
    n_folds = 2 if wanted >= 2 else 1  # one document cannot be split; it is then scored by the model it trained
    positive_folds, negative_folds = rng.permutation(wanted) % n_folds, rng.permutation(wanted) % n_folds
    folds = [[reference_texts[i] for i in positives[positive_folds == fold]] for fold in range(n_folds)]
    models = None
    with Progress("fitting the quality classifier", total=n_folds * MAX_STEPS, unit="steps") as progress:
        with blas_threads(1):  # the folds are fitted at once: one CPU each (see objectives.blas)
            if n_folds == 2 and may_fork():  # given negatives are a draw that is done at once
                given = (negatives, negative_keys)
                models, aucs, negatives, negative_keys = _fit_beside_the_draw(
                    folds, population, negative_folds, draw or (lambda: given), progress
                )
            else:
                if draw is not None:
                    negatives, negative_keys = draw()
                if len(negatives) == wanted:
                    negatives = np.asarray(negatives, dtype=np.int64)
                    texts = [texts_at(population.texts, negatives[negative_folds == f]) for f in range(n_folds)]
                    models, aucs = _fit_folds([_Fold(*pair) for pair in zip(folds, texts)], progress)
    if models is None:  # the draw gave fewer negatives (distinct texts) than wanted: fitted on those it gave
        return train_quality_classifier(reference_texts, population, seed, negatives, negative_keys)
    auc = float(np.mean(aucs)) if aucs else None  # each fold's model on the documents it did not see
    order = np.argsort(negatives, kind="stable")  # the classifier looks its negatives up by index, or by key
    by_key = {}
    if negative_keys is not None:
        negative_keys = np.asarray(negative_keys, dtype=np.uint64)
        key_order = np.argsort(negative_keys, kind="stable")
        by_key = dict(negative_keys=negative_keys[key_order], key_folds=negative_folds[key_order])
    return CrossFittedClassifier(tuple(models), negatives[order], negative_folds[order], auc, **by_key)


@dataclass
class _Fold:
    positive_texts: List[str]
    negative_texts: List[str]
    positive_streams: Optional[TokenStreams] = None  # tokenized already (by the worker)

    def fit(self, on_step, memo: Optional[HashMemo] = None) -> Tuple[LogisticModel, SparseRows, np.ndarray]:
        """(model, feature rows, labels): the fold's positives then its negatives, each in sample order."""
        memo = HashMemo() if memo is None else memo
        positive = self.positive_streams
        if positive is None:
            positive = token_streams(self.positive_texts, memo)
        streams = joined_streams(positive, token_streams(self.negative_texts, memo))
        rows = hashed_ngram_features(streams, np.arange(len(streams)), N_BUCKETS)
        del streams
        labels = np.concatenate([np.ones(len(positive)), np.zeros(len(self.negative_texts))])
        return fit_logistic(rows, labels, max_iter=MAX_STEPS, on_step=on_step), rows, labels


class _WorkerSteps:
    """The forked worker's steps, counted in shared memory and added to the progress by this process."""

    def __init__(self, progress: Progress):
        self.progress, self.seen = progress, 0
        self.steps = multiprocessing.get_context("fork").Value("i", 0, lock=False)

    def worker_step(self):
        self.steps.value += 1

    def own_step(self):
        self.progress.update()
        self.count()

    def count(self):
        now = self.steps.value
        self.progress.update(now - self.seen)
        self.seen = now

    def wait(self, result):
        while not result.ready():
            result.wait(0.25)
            self.count()
        out = result.get()
        self.count()
        return out


def _fit_folds(folds: List[_Fold], progress: Progress) -> Tuple[List[LogisticModel], List[float]]:
    """Every fold's model (:meth:`_Fold.fit`) in this process, two folds in two threads, and with two folds each
    model's AUC on the other fold's documents (else no AUC); the steps of both count in ``progress``. Where this
    process may fork, two folds are fitted by :func:`_fit_beside_the_draw` instead."""
    if len(folds) == 1:
        return [folds[0].fit(progress.update)[0]], []
    with ThreadPoolExecutor(len(folds), thread_name_prefix="quality-fit") as pool:
        fits = [pool.submit(fold.fit, progress.update) for fold in folds]
        (first, first_rows, first_labels), (last, last_rows, last_labels) = [fit.result() for fit in fits]
    return [first, last], [_auc(last, first_rows, first_labels), _auc(first, last_rows, last_labels)]


def _fit_beside_the_draw(folds: List[List[str]], population: Population, negative_folds, draw: Draw, progress):
    """Two folds' models and AUCs, the second fold fitted in a forked worker, the folds' negatives picked by
    ``draw()``: the worker is forked first and tokenizes its fold's positives during the draw, then reads and
    tokenizes its fold's negatives once told which. This process's model goes to the worker, which scores its own
    rows with it: its rows (10 MiB on the bench corpus) need not come back; a Queue's put returns at once (a thread
    feeds the pipe). Returns
    ``(models, aucs, negatives, keys)``; no models (None) when the draw gave fewer negatives than ``negative_folds``
    has (the worker is then stopped)."""
    context = multiprocessing.get_context("fork")
    to_worker, steps = context.Queue(), _WorkerSteps(progress)

    def fit_last():
        memo = HashMemo()
        positive = token_streams(folds[1], memo)
        negatives = to_worker.get()
        if negatives is None:
            return None
        fold = _Fold(folds[1], texts_at(population.texts, negatives), positive)
        model, rows, labels = fold.fit(steps.worker_step, memo)
        return model, _auc(to_worker.get(), rows, labels)

    try:
        with forked_call(fit_last) as last:
            negatives, keys = draw()
            negatives = np.asarray(negatives, dtype=np.int64)
            if len(negatives) != len(negative_folds):
                to_worker.put(None)
                last.get()
                return None, None, negatives, keys
            to_worker.put(negatives[negative_folds == 1])
            negative_texts = texts_at(population.texts, negatives[negative_folds == 0])
            first, rows, labels = _Fold(folds[0], negative_texts).fit(steps.own_step)
            to_worker.put(first)
            model, auc = steps.wait(last)
    finally:
        to_worker.close()
        to_worker.join_thread()
    return [first, model], [_auc(model, rows, labels), auc], negatives, keys


def _auc(model: LogisticModel, rows: SparseRows, labels: np.ndarray) -> float:
    return roc_auc(model.logits(rows), labels)


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
