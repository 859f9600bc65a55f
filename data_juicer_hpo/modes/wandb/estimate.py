"""What a finished sweep's choice is worth: ``summary.json`` in ``auto_hpo.output_dir``, and the log says it too.

- **Always**: the chosen trial, its parameters and scores, and the same objectives for keeping every document (the
  base population, no filter).
- **Labels** (``labels``, ``labels_precision``, ``labels_recall``): the chosen recipe's metric with a 95 % bootstrap
  interval, the recipe as written and keeping everything beside it, the paired differences, a cross-validated
  estimate of the selection (:mod:`.label_estimate`), and a plain warning when the chosen recipe is not
  distinguishable from the recipe as written.
- **``downstream_task`` with ``downstream.test``**: the chosen recipe's classifier (and the recipe as written's, and
  keeping everything's) scored on the test set, which never chose a trial, with a 95 % bootstrap interval over its
  documents (and the budget's draws averaged).
- **Within noise of keeping everything**: a warning when the best trial's advantage over keeping every document is
  smaller than its noise -- measured by the bootstrap for labels, by the draws' standard errors for a budgeted
  objective (``|difference| < 1.96 * sqrt(se1^2 + se2^2)``), by a paired bootstrap over the eval documents for
  ``downstream_task``, and for ``quality_score`` (a mean of one probability per kept document) by the standard error
  of the paired difference of two means over the documents (the classifier's own training noise is not in it). For
  other objectives no noise estimate exists and only the two scores are given.
"""

import json
import math
import os
from typing import Dict, List, Optional

import numpy as np
from loguru import logger

from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.modes.wandb.label_estimate import (
    RESAMPLES,
    bootstrap,
    cross_validate,
    difference,
    interval,
    resample_weights,
)
from data_juicer_hpo.objectives import Budgeted, DownstreamTask, LabelsObjective, QualityScore
from data_juicer_hpo.objectives.downstream import METRICS as DOWNSTREAM_METRICS
from data_juicer_hpo.objectives.labels import labels_objectives
from data_juicer_hpo.objectives.views import documents
from data_juicer_hpo.progress import Progress

__all__ = ["write_summary", "weighted_metric", "paired_mean_difference"]

SUMMARY = "summary.json"
Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def _show(entry: dict) -> str:
    low, high = entry["interval95"]
    return f"{entry['value']:.4g} [{low:.4g}, {high:.4g}]"


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def _named_labels(scoring) -> Dict[str, LabelsObjective]:
    """The labels objectives that are objectives or constraints of the sweep, by column, the optimized ones first."""
    order = [*scoring.goals.names, *[c.objective for c in scoring.goals.constraints]]
    return {n: scoring.objectives[n] for n in order if isinstance(scoring.objectives.get(n), LabelsObjective)}


def _cross_validated(records, scoring, labelled, named: dict, folds: int, seed: int) -> dict:
    done = [r for r in records if r.state == "COMPLETE"]
    with Progress("re-deciding every trial on the labelled documents", total=len(done), unit="trials") as bar:
        trial_masks = {}
        for r in done:
            trial_masks[r.number] = labelled.mask(r.params)
            bar.update(1)
    return cross_validate(records, scoring.goals, scoring.select, named, trial_masks, labelled.truth, folds, seed)


def _labels(records, scoring, labelled, best, seed: int) -> dict:
    named = _named_labels(scoring)
    parts = {part.name: part for part in labels_objectives(scoring.objectives.values())}  # in a synergy, say
    column, main = next(iter((named or parts).items()))
    truth = labelled.truth
    masks = {"chosen": labelled.mask(best.params), "as_written": labelled.mask({}), "keep_all": np.ones_like(truth)}
    boot = bootstrap(main.metric, truth, masks, resample_weights(len(truth), RESAMPLES, seed))
    folds = main.config["folds"]
    # the choice can be made again on some folds only when the labels score it directly (not inside a synergy)
    cv = _cross_validated(records, scoring, labelled, named, folds, seed) if named else None
    out = {
        "objective": column,
        "metric": main.metric,
        "labels": int(len(truth)),
        "labelled_keep": int(truth.sum()),
        **{name: _public(entry) for name, entry in boot.items()},
        "chosen_vs_as_written": difference(boot["chosen"], boot["as_written"]),
        "chosen_vs_keep_all": difference(boot["chosen"], boot["keep_all"]),
        "cross_validated": cv,
    }
    chosen = boot["chosen"]
    logger.info(
        f"auto_hpo[sweep]: {column} ({main.metric}) on [{len(truth)}] labels, 95 % bootstrap intervals: chosen "
        f"#{best.number} {_show(chosen)} (keeps {chosen['good_kept']:.0%} of keep, {chosen['bad_kept']:.0%} of drop); "
        f"the recipe as written {_show(boot['as_written'])}; keeping everything {_show(boot['keep_all'])}"
    )
    if cv is not None:
        logger.info(
            f"auto_hpo[sweep]: {column} cross-validated ({folds} folds: the choice made again on {folds - 1}/{folds} "
            f"of the labels, judged on the rest): {cv['pooled'][column]:.4g} (per fold "
            f"{', '.join(f'{v:.3g}' for v in cv['per_fold'])}), against {chosen['value']:.4g} on the labels it was "
            f"chosen on"
        )
    versus = out["chosen_vs_as_written"]
    if not versus["distinguishable"]:
        low, high = versus["interval95"]
        logger.warning(
            f"auto_hpo[sweep]: the chosen recipe is NOT distinguishable from the recipe as written on these "
            f"{len(truth)} labels: {column} differs by {versus['value']:+.3g}, 95 % interval [{low:.3g}, {high:.3g}] "
            f"contains 0; label more documents, or keep the recipe as written"
        )
    return out


def weighted_metric(metric: str, truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``downstream_task``'s metric (accuracy or macro-F1) per row of ``weights`` (how often each test document is
    drawn in a bootstrap resample)."""
    weights = np.asarray(weights, dtype=np.float64)
    if metric == "accuracy":
        return weights @ (truth == predicted) / weights.sum(axis=1)
    scores, present = [], []
    for label in np.union1d(truth, predicted):
        true_positive = weights @ ((truth == label) & (predicted == label))
        denominator = weights @ (truth == label) + weights @ (predicted == label)
        scores.append(np.divide(2 * true_positive, denominator, out=np.zeros_like(denominator), where=denominator > 0))
        present.append(denominator > 0)
    return np.sum(scores, axis=0) / np.maximum(1, np.sum(present, axis=0))


def _trial_documents(evaluator, params: Optional[dict]):
    """The population and the documents kept by ``params`` (None: every document of the base population)."""
    bundle = evaluator.bundle(params or {})
    if params is None:
        return bundle.population, np.arange(len(bundle.population))
    return evaluator.trial_documents(bundle, params, evaluator.kept_indices(bundle, params))


def _predictions(objective, population, kept, features) -> List[Optional[np.ndarray]]:
    """The classifier's predictions of ``features`` for each training draw (one without a budget)."""
    task = objective.inner if isinstance(objective, Budgeted) else objective
    sets = objective.draws(population, kept) if isinstance(objective, Budgeted) else [kept]
    return [task.predict(population, d, features) for d in sets]


def _scored_predictions(metric, truth, predictions, weights) -> Optional[dict]:
    """The mean metric over the draws' predictions, its interval and the resampled values (None: nothing trained)."""
    if not predictions or any(p is None for p in predictions):
        return None
    value = float(np.mean([DOWNSTREAM_METRICS[metric](truth, p) for p in predictions]))
    resampled = np.mean([weighted_metric(metric, truth, p, weights) for p in predictions], axis=0)
    return {"value": value, "interval95": interval(resampled), "_resampled": resampled}


def _downstream(scoring, evaluator, best, seed: int) -> Optional[dict]:
    found = [(c, o) for c, o in scoring.objectives.items() if isinstance(getattr(o, "inner", o), DownstreamTask)]
    if not found:
        return None
    column, objective = found[0]
    task = getattr(objective, "inner", objective)
    out = {}
    sets = {"eval": task.eval_set(), "test": task.test_set()}
    decisions = {"chosen": best.params, "as_written": {}, "keep_all": None}
    for name, found_set in sets.items():
        if found_set is None or (name == "eval" and isinstance(objective, Budgeted)):
            continue  # a budget's standard errors measure the eval noise (see _keep_all)
        features, truth = found_set
        weights = resample_weights(len(truth), RESAMPLES // 2, seed)
        scored = {}
        for decision, params in decisions.items():
            population, kept = _trial_documents(evaluator, params)
            predictions = _predictions(objective, population, kept, features)
            entry = _scored_predictions(task.metric, truth, predictions, weights)
            if entry is not None:
                scored[decision] = entry
        out[name] = {k: _public(v) for k, v in scored.items()}
        if "chosen" in scored and "keep_all" in scored:
            out[name]["chosen_vs_keep_all"] = difference(scored["chosen"], scored["keep_all"])
    if "test" in out and "chosen" in out["test"]:
        test = out["test"]
        written = f"; the recipe as written {_show(test['as_written'])}" if "as_written" in test else ""
        logger.info(
            f"auto_hpo[sweep]: {column} on the test set ({len(sets['test'][1])} documents, never used to choose), "
            f"{task.metric} with 95 % interval: chosen #{best.number} {_show(test['chosen'])}{written}"
        )
    return {"objective": column, **out}


def _quality_noise(objective: QualityScore, evaluator, best) -> Optional[dict]:
    """``quality_score`` is the mean of one probability per kept document: its noise is that of a mean over the
    documents. The difference between the chosen recipe's mean and keeping everything's is paired (the same
    documents), and its standard error comes from each document's influence on it (the delta method: what a paired
    bootstrap over the documents estimates, in one pass). None when the trial kept nothing or its documents are
    not the ones the classifier scored."""
    chosen = documents(*_trial_documents(evaluator, best.params))
    everything = documents(*_trial_documents(evaluator, None))
    if chosen[0] is not objective.scored_population or everything[0] is not chosen[0] or chosen[1].size == 0:
        return None
    difference, se = paired_mean_difference(objective.probabilities, chosen[1], everything[1])
    return {
        "difference": difference,
        "interval95": [difference - Z95 * se, difference + Z95 * se],
        "within_noise": bool(abs(difference) <= Z95 * se),
        "how": f"the standard error of a mean over the {objective.probabilities.size} documents",
    }


def paired_mean_difference(values: np.ndarray, first: np.ndarray, second: np.ndarray):
    """The mean of ``values`` over the documents ``first`` minus its mean over ``second`` (indices, a document
    counted as often as it occurs), and the standard error of that difference when the documents are a sample:
    ``sqrt(sum(psi^2)) / n`` with each document's influence ``psi_i = a_i (v_i - m_1) / mean(a) - b_i (v_i - m_2) /
    mean(b)`` (``a``, ``b``: how often it occurs in each)."""
    values = np.asarray(values, dtype=np.float64)
    a = np.bincount(first, minlength=values.size).astype(np.float64)
    b = np.bincount(second, minlength=values.size).astype(np.float64)
    m1, m2 = float(a @ values / a.sum()), float(b @ values / b.sum())
    psi = a * (values - m1) / a.mean() - b * (values - m2) / b.mean()
    return m1 - m2, float(np.sqrt(psi @ psi) / values.size)


def _keep_all(scoring, evaluator, best, downstream: Optional[dict]) -> dict:
    """Every objective's score for keeping every document, and whether the best trial is within noise of it."""
    main = scoring.goals.names[0]
    if not evaluator.bundle({}).fast:  # each trial ran Data-Juicer's pipeline: no population to keep whole
        return {}
    value = evaluator.keep_all(-1)
    scores = {main: value, **evaluator.scores.pop(-1, {})}
    out = {"scores": scores}
    if scoring.goals.multi:
        return out
    chosen = best.value if best.value is not None else best.scores.get(main)
    se_best, se_all = best.scores.get(f"{main}_se"), scores.get(f"{main}_se")
    noise = None
    if se_best is not None and se_all is not None:
        low = abs(chosen - value) - Z95 * math.sqrt(se_best**2 + se_all**2)
        noise = {"difference": chosen - value, "within_noise": bool(low <= 0), "how": "standard errors of the draws"}
    elif downstream and "chosen_vs_keep_all" in downstream.get("eval", {}):
        versus = downstream["eval"]["chosen_vs_keep_all"]
        noise = {**versus, "within_noise": not versus["distinguishable"], "how": "paired bootstrap over eval"}
    elif isinstance(scoring.objectives.get(main), QualityScore):
        noise = _quality_noise(scoring.objectives[main], evaluator, best)
    if noise is not None:
        out["noise"] = noise
        if noise["within_noise"]:
            logger.warning(
                f"auto_hpo[sweep]: the best trial #{best.number} is within noise of keeping everything: {main} "
                f"{chosen:.4g} against {value:.4g} ({noise['how']}); the sweep has not shown that filtering helps"
            )
    return out


def write_summary(out_dir: str, records, scoring, evaluator, best, seed: int = 0) -> str:
    """Write ``summary.json`` (see the module doc) and return its path."""
    summary = {
        "chosen": {"trial": best.number, "params": best.params, "scores": dict(best.scores)},
    }
    if best.value is not None:
        summary["chosen"]["scores"] = {scoring.goals.names[0]: best.value, **summary["chosen"]["scores"]}
    if evaluator.labelled is not None:
        summary["labels"] = _labels(records, scoring, evaluator.labelled, best, seed)
    downstream = _downstream(scoring, evaluator, best, seed)
    if downstream is not None:
        summary["downstream_task"] = downstream
    summary["keep_all"] = _keep_all(scoring, evaluator, best, downstream)
    path = os.path.join(out_dir, SUMMARY)
    write_atomic(path, json.dumps(summary, indent=2, default=str) + "\n")
    logger.info(f"auto_hpo[sweep]: what the choice is worth in [{path}]")
    return path
