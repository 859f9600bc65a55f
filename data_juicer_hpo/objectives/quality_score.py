"""``quality_score``: the mean probability, under a GPT-3-style quality classifier, that a kept document is good.

The name and the idea come from Data-Juicer's HPO seed tool (``tools/hpo/objects.py``) and its quality
classifier (``tools/quality_classifier``): hashed word n-gram features and a logistic regression whose positives
are a reference set of good text and whose negatives are the raw input. Here it is trained with numpy at
:meth:`QualityScore.setup` time instead of loading a pretrained Spark model, so it fits the user's own data.
"""

import hashlib
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from loguru import logger

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.blas import blas_threads
from data_juicer_hpo.objectives.chunks import forked_call, map_chunks, may_fork, setup_processes
from data_juicer_hpo.objectives.exact import exact_mean
from data_juicer_hpo.objectives.features import SparseRows, hashed_ngram_features
from data_juicer_hpo.objectives.logistic import LogisticModel, fit_logistic, sigmoid
from data_juicer_hpo.objectives.reference import load_reference, reference_problems
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.tokens import CHUNK_DOCS, HashMemo, texts_at, token_streams
from data_juicer_hpo.objectives.views import documents
from data_juicer_hpo.progress import Progress

__all__ = [
    "QualityScore",
    "CrossFittedClassifier",
    "train_quality_classifier",
    "roc_auc",
    "population_probabilities",
    "document_keys",
    "keyed_sample",
    "smallest_keyed",
    "population_keys",
    "log_auc",
]

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
    negative_keys: Optional[np.ndarray] = None  # their document keys, sorted (None: drawn by index)
    key_folds: Optional[np.ndarray] = None  # the fold of each of those keys

    def probabilities(self, streams, docs: np.ndarray, ids: np.ndarray = None, keys: np.ndarray = None) -> np.ndarray:
        """P(good) of documents ``docs`` of ``streams``. Whether a document was a sampled negative is told by its
        key (``keys``, :func:`document_keys`) when the negatives were drawn by key -- every copy of a sampled text
        is then scored alike, wherever it sits -- else by its population index (``ids``, default ``docs``)."""
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


def train_quality_classifier(
    reference_texts: List[str],
    population: Population,
    seed: int = 0,
    negatives: Optional[np.ndarray] = None,
    negative_keys: Optional[np.ndarray] = None,
):
    """A classifier telling reference-like text (1) from the population's raw text (0).

    The negatives are a random sample of the population, as many as the positives (or the whole population when
    it is smaller, then the positives are sampled down to match), so that the prior is 0.5 on both sides:
    ``negatives`` (population indices, in the order their rows take: :func:`keyed_sample`, with their
    ``negative_keys``), or a seeded draw of indices. Each of the two folds tokenizes its own documents and fits its
    model; the second fold runs in a forked worker process at the same time (tokenizing holds the GIL, so threads
    would take turns), or in a thread where this process may not fork
    (:func:`~data_juicer_hpo.objectives.chunks.may_fork`: a Ray driver). A document's feature row does not depend
    on the other documents, so the folds' rows are those of all the documents featurised at once.
    """
    rng = np.random.default_rng(seed)
    n = min(len(reference_texts), len(population) if negatives is None else len(negatives))
    if n == 0:
        raise ValueError("the quality classifier needs at least one reference document and one population document")
    positives = np.sort(rng.choice(len(reference_texts), n, replace=False))
    if negatives is None:
        negatives = np.sort(rng.choice(len(population), n, replace=False))
    elif len(negatives) != n:
        raise ValueError(f"the quality classifier takes at most {n} negatives, but got {len(negatives)}")
    negatives = np.asarray(negatives, dtype=np.int64)
    n_folds = 2 if n >= 2 else 1  # one document cannot be split; it is then scored by the model it trained
    positive_folds, negative_folds = rng.permutation(n) % n_folds, rng.permutation(n) % n_folds
    # only the sampled documents are tokenized (the same features as from the whole population's streams)
    negative_texts = texts_at(population.texts, negatives)
    folds = [
        _Fold(
            [reference_texts[i] for i in positives[positive_folds == fold]],
            [negative_texts[i] for i in np.flatnonzero(negative_folds == fold)],
        )
        for fold in range(n_folds)
    ]
    del negative_texts
    with Progress("fitting the quality classifier", total=n_folds * MAX_STEPS, unit="steps") as progress:
        with blas_threads(1):  # the folds are fitted at once: one CPU each (see objectives.blas)
            models, aucs = _fit_folds(folds, progress)
    auc = float(np.mean(aucs)) if aucs else None  # each fold's model on the documents it did not see
    order = np.argsort(negatives, kind="stable")  # the classifier looks its negatives up by index, or by key
    by_key = {}
    if negative_keys is not None:
        negative_keys = np.asarray(negative_keys, dtype=np.uint64)
        key_order = np.argsort(negative_keys, kind="stable")
        by_key = dict(negative_keys=negative_keys[key_order], key_folds=negative_folds[key_order])
    return CrossFittedClassifier(tuple(models), negatives[order], negative_folds[order], auc, **by_key)


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


@dataclass
class _Fold:
    positive_texts: List[str]
    negative_texts: List[str]

    def fit(self, on_step) -> Tuple[LogisticModel, SparseRows, np.ndarray]:
        """(model, feature rows, labels): the fold's positives then its negatives, each in sample order."""
        streams = token_streams(self.positive_texts + self.negative_texts, HashMemo())
        rows = hashed_ngram_features(streams, np.arange(len(streams)), N_BUCKETS)
        del streams
        labels = np.concatenate([np.ones(len(self.positive_texts)), np.zeros(len(self.negative_texts))])
        return fit_logistic(rows, labels, max_iter=MAX_STEPS, on_step=on_step), rows, labels


def _fit_folds(folds: List[_Fold], progress: Progress) -> Tuple[List[LogisticModel], List[float]]:
    """Every fold's model (:meth:`_Fold.fit`), the last one's fitted beside this process's work (see
    :func:`train_quality_classifier`), and with two folds each model's AUC on the other fold's documents (else no
    AUC); the steps of both count in ``progress``."""
    if len(folds) == 1:
        return [folds[0].fit(progress.update)[0]], []
    if not may_fork():
        with ThreadPoolExecutor(len(folds), thread_name_prefix="quality-fit") as pool:
            fits = [pool.submit(fold.fit, progress.update) for fold in folds]
            (first, first_rows, first_labels), (last, last_rows, last_labels) = [fit.result() for fit in fits]
        return [first, last], [_auc(last, first_rows, first_labels), _auc(first, last_rows, last_labels)]
    context = multiprocessing.get_context("fork")
    steps = context.Value("i", 0, lock=False)  # the worker's steps, shared memory
    # this process's model goes to the worker, which scores its own rows with it: its rows (10 MiB on the bench
    # corpus) need not come back; a Queue's put returns at once (a thread feeds the pipe)
    first_model = context.Queue(1)
    seen = [0]

    def count_worker_steps():
        now = steps.value
        progress.update(now - seen[0])
        seen[0] = now

    def worker_step():
        steps.value += 1

    def own_step():
        progress.update()
        count_worker_steps()

    def fit_last():
        model, rows, labels = folds[-1].fit(worker_step)
        return model, _auc(first_model.get(), rows, labels)

    try:
        with forked_call(fit_last) as last:
            first, rows, labels = folds[0].fit(own_step)
            first_model.put(first)
            while not last.ready():
                last.wait(0.25)
                count_worker_steps()
            model, auc = last.get()
        count_worker_steps()
    finally:
        first_model.close()
        first_model.join_thread()
    return [first, model], [_auc(model, rows, labels), auc]


def _auc(model: LogisticModel, rows: SparseRows, labels: np.ndarray) -> float:
    return roc_auc(model.logits(rows), labels)


def log_auc(auc: Optional[float]) -> None:
    """The classifier's cross-validated AUC, as every executor logs it (nothing with one fold)."""
    if auc is not None:
        logger.info(
            f"quality_score: the classifier tells the reference from this data with a cross-validated AUC of "
            f"[{auc:.4f}] (each fold's model on the other fold's documents; 0.5: no better than chance)"
        )


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
        keys = population_keys(population.texts, seed)
        negatives = smallest_keyed(keys, min(len(reference), len(population)))
        classifier = train_quality_classifier(reference, population, seed, negatives, keys[negatives])
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
