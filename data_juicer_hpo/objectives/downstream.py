"""``downstream_task``: train a text classifier on the kept samples and score it on a labelled evaluation set.

The seed's third objective, "replacing the quality scorer with training and evaluation procedures": each trial
fits a multinomial logistic regression (:mod:`~data_juicer_hpo.objectives.softmax`) on the kept samples' text and
label and reports its accuracy or macro-F1 on ``auto_hpo.downstream.eval``. A recipe that removes the samples a
task needs scores lower, one that removes noise can score higher.

Features are hashed word unigrams and bigrams (:func:`~data_juicer_hpo.objectives.features.hashed_ngram_features`,
``log(1 + tf)``, unit L2 norm) in ``N_FEATURES`` buckets, stored dense: 4 KiB per document, computed once per
document, a chunk of documents at a time (their tokens are not kept); a trial only gathers its rows and fits (about
1 s for 10,000 documents and 16 labels on one CPU core). Fewer buckets than the quality classifier's 2**18 keep the fit
cheap: on 10,000 bench documents labelled by ``meta.source``, 2**10 buckets reach 86 % held-out accuracy, 2**11
about 88 % at twice the cost, 2**9 about 84 %.

Configuration::

    auto_hpo:
      objective: downstream_task
      downstream: {label_key: meta.source, eval: eval.jsonl, metric: macro_f1}   # metric: accuracy (default)

``downstream.test`` (a labelled file like ``eval``, or a fraction such as ``0.3`` of the eval file held out,
seeded) never chooses a trial: after the sweep the chosen recipe's classifier is scored on it, with a 95 % interval
(:mod:`data_juicer_hpo.modes.wandb.estimate`, through :meth:`DownstreamTask.predict`).
"""

from typing import Dict, List, Optional

import numpy as np
from loguru import logger

from data_juicer_hpo.objectives.base import Objective, Population, as_indices
from data_juicer_hpo.objectives.chunks import map_chunks, setup_processes
from data_juicer_hpo.objectives.class_labels import (
    labelled_problems,
    load_labelled,
    rows_column,
    sample_labels,
)
from data_juicer_hpo.objectives.features import hashed_ngram_features
from data_juicer_hpo.objectives.registry import register_objective
from data_juicer_hpo.objectives.softmax import fit_softmax
from data_juicer_hpo.objectives.tokens import TokenStreams, token_streams

__all__ = ["DownstreamTask", "METRICS", "accuracy", "macro_f1", "dense_features", "text_features"]

KEY = "auto_hpo.downstream"
OPTIONS = ("label_key", "eval", "metric", "test")
EXAMPLE = "{label_key: meta.source, eval: eval.jsonl, metric: accuracy}"
N_FEATURES = 2**10
# Rows are featurised in chunks: the n-gram keys of a whole corpus at once would take gigabytes (1024 bench
# documents: about 50 MiB at a time).
CHUNK_DOCS = 1024


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(truth == predicted)) if len(truth) else 0.0


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 over the labels that occur in ``truth`` or in ``predicted`` (scikit-learn's default label set);
    a label with no true and no predicted positive does not take part."""
    labels = np.union1d(truth, predicted)
    if not len(labels):
        return 0.0
    scores = []
    for label in labels:
        true_positive = np.sum((truth == label) & (predicted == label))
        denominator = np.sum(truth == label) + np.sum(predicted == label)
        scores.append(2.0 * true_positive / denominator)
    return float(np.mean(scores))


METRICS = {"accuracy": accuracy, "macro_f1": macro_f1}


def dense_features(streams: TokenStreams, n_features: int = N_FEATURES) -> np.ndarray:
    """The hashed n-gram features of every document of ``streams``, as a dense float32 matrix."""
    out = np.zeros((len(streams), n_features), dtype=np.float32)
    for start in range(0, len(streams), CHUNK_DOCS):
        docs = np.arange(start, min(start + CHUNK_DOCS, len(streams)))
        rows = hashed_ngram_features(streams, docs, n_features)
        out[start + rows.row_of_value, rows.columns] = rows.values
    return out


def text_features(texts, n_features: int = N_FEATURES, processes: int = 1) -> np.ndarray:
    """:func:`dense_features` of ``texts`` (a sequence that can be sliced), tokenized a chunk at a time (in
    ``processes`` worker processes)."""
    out = np.zeros((len(texts), n_features), dtype=np.float32)
    for start, part in map_chunks(lambda _, streams: dense_features(streams, n_features), texts, CHUNK_DOCS, processes):
        out[start : start + len(part)] = part
    return out


@register_objective
class DownstreamTask(Objective):
    """Accuracy or macro-F1 on ``auto_hpo.downstream.eval`` of a classifier trained on the kept samples (maximize).

    ``worst()`` is 0.0, the score of a trial whose kept samples hold fewer than 2 distinct labels (nothing to tell
    apart: no classifier is trained). Options: ``downstream: {label_key, eval, metric}`` and ``text_key`` (the
    text field of the eval file, default ``text``).
    """

    name = "downstream_task"
    goal = "maximize"

    def __init__(self, options: dict):
        super().__init__(options)
        raw = self.options.get("downstream")
        self.config: Dict = dict(raw) if isinstance(raw, dict) else {}
        self.label_key: Optional[str] = self.config.get("label_key")
        self.metric: str = self.config.get("metric") or "accuracy"
        self._population = None
        self._eval = None  # (features, label ids) of the eval file
        self._test = None  # (features, label ids) of downstream.test
        self._vocabulary: Dict[str, int] = {}

    def validate(self) -> List[str]:
        raw = self.options.get("downstream")
        if raw is None:
            return [f"{KEY}: required by objective {self.name}, a mapping such as {EXAMPLE}"]
        if not isinstance(raw, dict):
            return [f"{KEY}: must be a mapping such as {EXAMPLE} (got {raw!r})"]
        problems = [f"{KEY}.{k}: unknown key (valid: {', '.join(OPTIONS)})" for k in raw if k not in OPTIONS]
        label_key = raw.get("label_key")
        if not isinstance(label_key, str) or not label_key.strip():
            problems.append(f"{KEY}.label_key: required, the field holding each sample's label (got {label_key!r})")
            label_key = None  # the eval file's records can only be checked against a valid label key
        if self.metric not in METRICS:
            problems.append(f"{KEY}.metric: unknown metric {self.metric!r} (valid: {', '.join(METRICS)})")
        problems += labelled_problems(raw.get("eval"), self._text_key(), label_key)
        test = raw.get("test")
        if isinstance(test, (int, float)) and not isinstance(test, bool):
            if not 0 < test < 1:
                problems.append(f"{KEY}.test: a fraction of the eval file must lie in (0, 1) (got {test!r})")
        elif test is not None:
            found = labelled_problems(test, self._text_key(), label_key)
            problems += [p.replace(f"{KEY}.eval:", f"{KEY}.test:", 1) for p in found]
        return problems

    def _text_key(self) -> str:
        return self.options.get("text_key") or "text"

    def check_data(self, column) -> List[str]:
        labels = sample_labels(column, self.label_key)
        where = f"{KEY}.label_key: {self.label_key!r}"
        if labels is None:
            return [f"{where} is not a field of the dataset's samples"]
        missing = [i for i, label in enumerate(labels) if label is None]
        if missing:
            return [
                f"{where} is missing (or null, an object, a list) in {len(missing)} of {len(labels)} samples of "
                f"the dataset (first: sample {missing[0]})"
            ]
        return []

    def setup(self, population: Population) -> None:
        """Featurise the eval file once and every population document once (shared through the cache)."""
        if self._eval is None:
            texts, labels = load_labelled(self.config["eval"], self._text_key(), self.label_key)
            held = self._held_out(len(texts))
            if held is not None:  # downstream.test: a fraction of the eval file, never used to choose a trial
                self._test = self._featurised([texts[i] for i in held], [labels[i] for i in held])
                rest = np.setdiff1d(np.arange(len(texts)), held)
                texts, labels = [texts[i] for i in rest], [labels[i] for i in rest]
            self._eval = self._featurised(texts, labels)
            logger.info(f"downstream_task: [{len(texts)}] eval samples, [{len(set(labels))}] labels")
        cache = population.cache
        feature_key, label_key = f"downstream.features.{N_FEATURES}", f"downstream.labels.{self.label_key}"
        if feature_key not in cache:
            cache[feature_key] = text_features(population.texts, N_FEATURES, setup_processes(population))
        if label_key not in cache:  # the label texts: ids are this objective's own (see _label_id)
            rows = population.dataset if population.dataset is not None else [{"text": t} for t in population.texts]
            labels = sample_labels(rows_column(rows), self.label_key)
            if labels is None or any(label is None for label in labels) or len(labels) != len(population):
                raise ValueError(f"{KEY}.label_key: {self.label_key!r} is missing in samples of this population")
            cache[label_key] = labels
        self._features = cache[feature_key]
        self._labels = np.asarray([self._label_id(x) for x in cache[label_key]], dtype=np.int64)
        self._population = population

    def _held_out(self, n: int):
        """The eval rows held out as the test set when ``downstream.test`` is a fraction (seeded), else None."""
        test = self.config.get("test")
        if not isinstance(test, float) or n < 2:
            return None
        order = np.random.default_rng(int(self.options.get("seed") or 0)).permutation(n)
        return np.sort(order[: min(n - 1, max(1, int(round(test * n))))])

    def _featurised(self, texts, labels):
        return dense_features(token_streams(texts)), np.asarray([self._label_id(x) for x in labels])

    def test_set(self):
        """(features, label ids) of ``downstream.test``, or None without one."""
        test = self.config.get("test")
        if test is None:
            return None
        if self._test is None:
            if isinstance(test, float):
                raise ValueError(f"{KEY}.test: the held-out fraction is drawn when the objective is set up")
            texts, labels = load_labelled(test, self._text_key(), self.label_key)
            self._test = self._featurised(texts, labels)
        return self._test

    def eval_set(self):
        """(features, label ids) of the eval file (without a held-out test fraction)."""
        return self._eval

    def predict(self, population: Population, kept: np.ndarray, features: np.ndarray) -> Optional[np.ndarray]:
        """The label ids a classifier trained on the documents ``kept`` predicts for ``features`` (None when they
        hold fewer than 2 labels)."""
        if population is not self._population:
            self.setup(population)
        kept = as_indices(kept, len(population))
        classes, targets = np.unique(self._labels[kept], return_inverse=True)
        if len(classes) < 2:
            return None
        model = fit_softmax(self._features[kept], targets, len(classes), overwrite_rows=True)  # a gathered copy
        return classes[model.predict(features)]

    def _label_id(self, label: str) -> int:
        """One id per distinct label text across the eval file and every population."""
        return self._vocabulary.setdefault(label, len(self._vocabulary))

    def score(self, population: Population, kept: np.ndarray) -> float:
        if population is not self._population:
            self.setup(population)
        features, truth = self._eval
        predicted = self.predict(population, kept, features)
        return self.worst() if predicted is None else METRICS[self.metric](truth, predicted)

    def worst(self) -> float:
        return 0.0
