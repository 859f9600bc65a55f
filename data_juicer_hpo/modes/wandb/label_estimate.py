"""What the labels say a sweep's choice is worth, honestly.

A sweep that picks the best of 200 trials by a metric measured on 300 labels is optimistic: the best trial is partly
the luckiest. Two numbers correct for that:

- a **bootstrap interval**: the labelled documents resampled with replacement (:data:`RESAMPLES` times, seeded), the
  metric of the chosen recipe's fixed decision recomputed on each resample; its 2.5th and 97.5th percentiles. The
  same resamples give the recipe as written, keeping everything, and the *paired* differences, so "not
  distinguishable from the recipe as written" means the 95 % interval of the difference contains 0;
- a **cross-validated estimate of the selection**: the labels split into k stratified folds (seeded); for each fold the
  choice is made again on the other k - 1 folds -- every completed trial re-scored on them, the constraints that
  read labels re-checked, the same rule (best feasible trial, or the front's compromise / ``select``) -- and the
  trial it chooses decides the held-out fold's documents. The metric of those pooled held-out decisions estimates
  what the whole procedure achieves on documents it did not choose on. The candidates are the sweep's own trials:
  with ``bayes`` their parameters were proposed with every label seen, so the estimate is slightly optimistic
  there (exact for ``random`` and ``grid``).
"""

import dataclasses
from typing import Dict, List

import numpy as np

from data_juicer_hpo.modes.wandb.results import choose_trial
from data_juicer_hpo.objectives.labels import confusion, metric_of_counts

__all__ = ["LEVEL", "RESAMPLES", "resample_weights", "interval", "bootstrap", "stratified_folds", "cross_validate"]

LEVEL = 0.95
RESAMPLES = 2000


def resample_weights(n: int, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """How often each of ``n`` documents is drawn in each bootstrap resample (one row per resample)."""
    return np.random.default_rng([seed, n]).multinomial(n, np.full(n, 1.0 / n), size=resamples)


def interval(values: np.ndarray) -> List[float]:
    """The central :data:`LEVEL` interval of bootstrap values (percentiles)."""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 100 - tail])
    return [float(low), float(high)]


def bootstrap(metric: str, truth: np.ndarray, masks: Dict[str, np.ndarray], weights: np.ndarray) -> Dict[str, dict]:
    """Per decision (name -> boolean mask over the labelled documents): its metric, interval, the share of keep
    (``good_kept``) and drop (``bad_kept``) documents it keeps, and the resampled values (``_resampled``, for paired
    differences)."""
    out = {}
    for name, mask in masks.items():
        counts = confusion(truth, mask)
        resampled = metric_of_counts(metric, confusion(truth, mask, weights))
        out[name] = {
            "value": float(metric_of_counts(metric, counts)),
            "interval95": interval(resampled),
            "good_kept": float(counts.tp / max(1, counts.tp + counts.fn)),
            "bad_kept": float(counts.fp / max(1, counts.fp + counts.tn)),
            "kept": int(mask.sum()),
            "_resampled": resampled,
        }
    return out


def difference(first: dict, second: dict) -> dict:
    """The paired difference of two :func:`bootstrap` entries, and whether its interval excludes 0."""
    resampled = first["_resampled"] - second["_resampled"]
    low, high = interval(resampled)
    return {
        "value": first["value"] - second["value"],
        "interval95": [low, high],
        "distinguishable": bool(low > 0 or high < 0),
    }


def stratified_folds(truth: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A fold id in ``0 .. k-1`` per document; each class is spread evenly over the folds (seeded)."""
    rng = np.random.default_rng([seed, k])
    folds = np.zeros(len(truth), dtype=np.int64)
    offset = 0
    for label in (True, False):
        members = rng.permutation(np.flatnonzero(truth == label))
        folds[members] = (np.arange(len(members)) + offset) % k
        offset += len(members)  # the second class continues where the first left off: fold sizes stay even
    return folds


def _rescored(record, goals, objectives: Dict[str, object], mask: np.ndarray, truth: np.ndarray, train: np.ndarray):
    """``record`` with every labels objective's score recomputed on the documents ``train``."""
    scores = dict(record.scores)
    for column, objective in objectives.items():
        scores[column] = objective.score_mask(mask[train], truth[train])
    changes = {"scores": scores}
    if goals.multi and record.values is not None:
        changes["values"] = tuple(scores[n] if n in objectives else v for n, v in zip(goals.names, record.values))
    elif goals.names[0] in objectives:
        changes["value"] = scores[goals.names[0]]
    if goals.constraints:
        changes["feasible"] = goals.feasible(scores)
    return dataclasses.replace(record, **changes)


def cross_validate(
    records, goals, select, objectives: Dict[str, object], masks: Dict[int, np.ndarray], truth, k: int, seed: int = 0
) -> dict:
    """The cross-validated estimate (see the module doc) of each labels objective (column -> objective; the first is
    the one reported per fold): pooled over the held-out folds, per fold, and the trial each fold chose."""
    folds = stratified_folds(truth, k, seed)
    held = np.zeros(len(truth), dtype=bool)  # the held-out decision on every document
    chosen, per_fold = [], []
    main = next(iter(objectives.values()))
    done = [r for r in records if r.state == "COMPLETE" and r.number in masks]
    for fold in range(k):
        train, test = folds != fold, folds == fold
        rescored = [_rescored(r, goals, objectives, masks[r.number], truth, train) for r in done]
        best, _ = choose_trial(rescored, goals, select)
        if best is None:  # no trial is feasible on these folds: nothing is kept
            chosen.append(None)
            per_fold.append(main.score_mask(np.zeros(int(test.sum()), dtype=bool), truth[test]))
            continue
        held[test] = masks[best.number][test]
        chosen.append(best.number)
        per_fold.append(main.score_mask(masks[best.number][test], truth[test]))
    pooled = {column: objective.score_mask(held, truth) for column, objective in objectives.items()}
    return {"folds": k, "pooled": pooled, "per_fold": per_fold, "chosen_trials": chosen}
