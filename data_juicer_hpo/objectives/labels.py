"""``labels``, ``labels_precision``, ``labels_recall``: how well a trial's keep decision matches a person's labels.

A data engineer labels a few hundred documents keep or drop (``auto_hpo.labels: {path: labels.jsonl, label_key:
keep, metric: youden}``). The labelled documents go through the recipe's mappers and statistics like the data (the
sweep does that, :mod:`data_juicer_hpo.modes.wandb.trials.labelled`), and each trial's filters decide which of them
they keep; the objective compares that decision with the labels. It is given to :meth:`score` under
``population.cache[LABELLED_KEPT]`` (indices of the labelled documents the trial keeps), because it depends on the
trial's thresholds and not on which data documents are kept; ``kept`` is ignored.

The metrics read the confusion matrix of the keep class (TP: labelled keep and kept, FN: keep but dropped, FP: drop
but kept, TN: drop and dropped); every one is 0 where its denominator is 0:

- ``youden``: recall of keep minus the false-keep rate, ``TP/(TP+FN) - FP/(FP+TN)``, in [-1, 1]; keeping everything
  or nothing scores 0, a random subset 0 in expectation;
- ``mcc``: Matthews' correlation, ``(TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))``;
- ``f1``: ``2TP / (2TP + FP + FN)`` (keeping everything scores ``2p/(1+p)`` for a keep share ``p``);
- ``balanced_accuracy``: ``(TP/(TP+FN) + TN/(TN+FP)) / 2`` (0.5 for keeping everything or nothing);
- ``precision`` (``labels_precision``): ``TP/(TP+FP)``, ``recall`` (``labels_recall``): ``TP/(TP+FN)``.

A label is ``true``/``false``, ``"keep"``/``"drop"`` or ``1``/``0`` (strings ``"true"``, ``"false"``, ``"1"``,
``"0"`` too, in any case).
"""

import functools
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.objectives.base import Objective, Population, as_indices
from data_juicer_hpo.objectives.class_labels import MISSING, field_value
from data_juicer_hpo.objectives.reference import REFERENCE_SUFFIXES, RecordsError, read_rows
from data_juicer_hpo.objectives.registry import register_objective

__all__ = [
    "KEY",
    "LABELLED_KEPT",
    "METRICS",
    "MIN_LABELS",
    "Confusion",
    "LabelledFile",
    "LabelsObjective",
    "Labels",
    "LabelsPrecision",
    "LabelsRecall",
    "confusion",
    "label_value",
    "labels_config",
    "labels_objectives",
    "load_labelled_file",
    "metric_of_counts",
]

KEY = "auto_hpo.labels"
OPTIONS = ("path", "label_key", "metric", "text_key", "folds")
EXAMPLE = "{path: labels.jsonl, label_key: keep, metric: youden}"
MIN_LABELS = 20
DEFAULT_FOLDS = 5
# the key of ``population.cache`` under which the sweep hands a trial's keep decision on the labelled documents
LABELLED_KEPT = "labels.kept"
_TRUE = {"true", "keep", "1"}
_FALSE = {"false", "drop", "0"}


@dataclass(frozen=True)
class Confusion:
    """Counts of the keep class (arrays of equal shape: one entry per bootstrap resample, or scalars)."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    tn: np.ndarray


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _recall(c: Confusion):
    return _ratio(c.tp, c.tp + c.fn)


def _youden(c: Confusion):
    return _recall(c) - _ratio(c.fp, c.fp + c.tn)


def _mcc(c: Confusion):
    tp, fn, fp, tn = (np.asarray(x, dtype=np.float64) for x in (c.tp, c.fn, c.fp, c.tn))
    return _ratio(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


def _f1(c: Confusion):
    return _ratio(2 * np.asarray(c.tp, dtype=np.float64), 2 * np.asarray(c.tp) + c.fp + c.fn)


def _balanced_accuracy(c: Confusion):
    return (_recall(c) + _ratio(c.tn, c.tn + c.fp)) / 2


def _precision(c: Confusion):
    return _ratio(c.tp, c.tp + c.fp)


METRICS: Dict[str, Callable[[Confusion], np.ndarray]] = {
    "youden": _youden,
    "mcc": _mcc,
    "f1": _f1,
    "balanced_accuracy": _balanced_accuracy,
    "precision": _precision,
    "recall": _recall,
}
CONFIGURABLE = ("youden", "mcc", "f1", "balanced_accuracy")  # ``labels.metric``; the other two have their names


def confusion(truth: np.ndarray, kept: np.ndarray, weights: Optional[np.ndarray] = None) -> Confusion:
    """The confusion counts of boolean ``truth`` (labelled keep) against boolean ``kept``; ``weights`` (one row per
    resample, one column per document: how often a resample draws it) gives one count per row."""
    truth, kept = np.asarray(truth, dtype=bool), np.asarray(kept, dtype=bool)
    cells = [truth & kept, truth & ~kept, ~truth & kept, ~truth & ~kept]
    if weights is None:
        return Confusion(*(np.int64(cell.sum()) for cell in cells))
    return Confusion(*(weights @ cell.astype(np.float64) for cell in cells))


def metric_of_counts(metric: str, counts: Confusion) -> np.ndarray:
    return METRICS[metric](counts)


def label_value(value) -> Optional[bool]:
    """A label as True (keep) or False (drop), or None when it is not one of the accepted values."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    return None


@dataclass(frozen=True)
class LabelledFile:
    """The labelled documents in file order: each record as read (its fields are the data the recipe sees), and
    whether it is labelled keep."""

    rows: Tuple[dict, ...]
    truth: np.ndarray


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float, size: int, text_key: str, label_key: str) -> LabelledFile:
    # mtime and size are part of the cache key so that an edited file is read again.
    rows, truth = [], []
    for number, row in read_rows(path):
        if not isinstance(row, dict) or not isinstance(row.get(text_key), str):
            raise RecordsError(f"record {number} has no string field {text_key!r} (the recipe's text key)")
        raw = field_value(row, label_key)
        if raw is MISSING:
            raise RecordsError(f"record {number} has no label field {label_key!r} ({KEY}.label_key)")
        value = label_value(raw)
        if value is None:
            raise RecordsError(
                f"record {number} has label {raw!r} under {label_key!r} (valid: true/false, \"keep\"/\"drop\", 1/0)"
            )
        rows.append(row)
        truth.append(value)
    truth = np.asarray(truth, dtype=bool)
    if len(rows) < MIN_LABELS:
        raise RecordsError(f"holds {len(rows)} labelled documents; at least {MIN_LABELS} are needed")
    if truth.all() or not truth.any():
        only = "keep" if truth.all() else "drop"
        raise RecordsError(f"labels every document {only}; both keep and drop are needed to tell them apart")
    return LabelledFile(tuple(rows), truth)


def load_labelled_file(path: str, text_key: str, label_key: str) -> LabelledFile:
    """The labelled documents of ``path``; raises ValueError (one line naming the key) when the file is unusable."""
    try:
        stat = os.stat(path)
        return _load(os.path.abspath(path), stat.st_mtime, stat.st_size, text_key, label_key)
    except RecordsError as e:
        raise ValueError(f"{KEY}.path: {path!r} {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{KEY}.path: cannot read {path!r} ({e})") from None


def labels_config(options: dict) -> dict:
    """``auto_hpo.labels`` with its defaults: ``label_key`` keep, ``metric`` youden, ``folds`` 5 and ``text_key``
    the recipe's text key."""
    raw = options.get("labels")
    config = dict(raw) if isinstance(raw, dict) else {}
    config.setdefault("label_key", "keep")
    config.setdefault("metric", "youden")
    config.setdefault("folds", DEFAULT_FOLDS)
    config.setdefault("text_key", options.get("recipe_text_key") or "text")
    return config


def _config_problems(raw, config: dict) -> List[str]:
    if raw is None:
        return [f"{KEY}: required by the labels objectives, a mapping such as {EXAMPLE}"]
    if not isinstance(raw, dict):
        return [f"{KEY}: must be a mapping such as {EXAMPLE} (got {raw!r})"]
    problems = [f"{KEY}.{k}: unknown key (valid: {', '.join(OPTIONS)})" for k in raw if k not in OPTIONS]
    for name in ("label_key", "text_key"):
        if not isinstance(config[name], str) or not config[name].strip():
            problems.append(f"{KEY}.{name}: must be a field name (got {config[name]!r})")
    if config["metric"] not in CONFIGURABLE:
        problems.append(f"{KEY}.metric: unknown metric {config['metric']!r} (valid: {', '.join(CONFIGURABLE)})")
    folds = config["folds"]
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= MIN_LABELS:
        problems.append(f"{KEY}.folds: must be an integer from 2 to {MIN_LABELS} (got {folds!r})")
    path = raw.get("path")
    if not path:
        problems.append(f"{KEY}.path: required, a JSON Lines file of documents with a keep/drop label")
    elif not isinstance(path, (str, os.PathLike)):
        problems.append(f"{KEY}.path: must be a file path (got {path!r})")
    elif not os.fspath(path).lower().endswith(REFERENCE_SUFFIXES):
        problems.append(f"{KEY}.path: must end with one of {', '.join(REFERENCE_SUFFIXES)} (got {path!r})")
    elif not os.path.isfile(path):
        problems.append(f"{KEY}.path: file not found (got {os.fspath(path)!r})")
    return problems


class LabelsObjective(Objective):
    """What the three labels objectives share: the configuration, the labels, and scoring the labelled documents
    the trial keeps (``population.cache[LABELLED_KEPT]``) with :attr:`metric` (maximize)."""

    goal = "maximize"
    fixed_metric: Optional[str] = None  # the metric of labels_precision / labels_recall (else labels.metric)

    def __init__(self, options: dict):
        super().__init__(options)
        self.config = labels_config(self.options)
        self._file: Optional[LabelledFile] = None

    @property
    def metric(self) -> str:
        return self.fixed_metric or self.config["metric"]

    def validate(self) -> List[str]:
        problems = _config_problems(self.options.get("labels"), self.config)
        if problems:
            return problems
        try:
            self._file = self.labelled()
        except ValueError as e:
            return [str(e)]
        return []

    def labelled(self) -> LabelledFile:
        """The labelled documents (read once; ValueError worded for the user)."""
        if self._file is None:
            self._file = load_labelled_file(
                os.fspath(self.config["path"]), self.config["text_key"], self.config["label_key"]
            )
        return self._file

    @property
    def truth(self) -> np.ndarray:
        return self.labelled().truth

    def score_mask(self, kept: np.ndarray, truth: Optional[np.ndarray] = None) -> float:
        """The metric of a boolean keep decision on the labelled documents (``truth``: a subset's labels)."""
        truth = self.truth if truth is None else truth
        return float(metric_of_counts(self.metric, confusion(truth, kept)))

    def score(self, population: Population, kept: np.ndarray) -> float:
        decided = population.cache.get(LABELLED_KEPT)
        if decided is None:
            raise ValueError(f"{self.name}: the trial's decision on the labelled documents was not given")
        truth = self.truth
        mask = np.zeros(len(truth), dtype=bool)
        mask[as_indices(decided, len(truth))] = True
        return self.score_mask(mask, truth)

    def worst(self) -> float:
        """The score of keeping none of the labelled documents."""
        return self.score_mask(np.zeros(len(self.truth), dtype=bool))


@register_objective
class Labels(LabelsObjective):
    """``auto_hpo.labels.metric`` (youden, mcc, f1, balanced_accuracy) of the trial's keep decision."""

    name = "labels"


@register_objective
class LabelsPrecision(LabelsObjective):
    """The share of the labelled documents a trial keeps that are labelled keep."""

    name = "labels_precision"
    fixed_metric = "precision"


@register_objective
class LabelsRecall(LabelsObjective):
    """The share of the documents labelled keep that a trial keeps."""

    name = "labels_recall"
    fixed_metric = "recall"


def labels_objectives(objectives) -> List[LabelsObjective]:
    """The labels objectives among ``objectives`` (and among the parts of a ``synergy``)."""
    found = []
    for objective in objectives:
        if isinstance(objective, LabelsObjective):
            found.append(objective)
        found.extend(labels_objectives(getattr(objective, "parts", {}).values()))
    return found
