"""What a finished sweep writes and chooses: ``trials.csv``, the plots, the Pareto outputs and ``best_recipe.yaml``,
and the trial whose recipe is processed (the best *feasible* one; with several objectives, the front's compromise,
or the Pareto trial best on ``auto_hpo.select``). When no trial completed, or none is feasible, nothing is written
beyond the trials and the run ends with one error line."""

import copy
import functools
import os
from typing import List, Sequence

import optuna
from loguru import logger

from data_juicer_hpo.data.mixture import mixed_dataset_block
from data_juicer_hpo.engine.storage import sqlite_path
from data_juicer_hpo.engine.trial import record_of
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.modes.wandb.outputs.parallel_coordinates import plot_parallel_coordinates
from data_juicer_hpo.modes.wandb.outputs.pareto import compromise, pareto_front, select_trial, write_pareto
from data_juicer_hpo.modes.wandb.outputs.plots import Metric, plot_histories, plot_importance
from data_juicer_hpo.modes.wandb.outputs.trials_csv import write_best_recipe, write_trials_csv
from data_juicer_hpo.ops.recipe import load_recipe_file, recipe_path, refined_recipe
from data_juicer_hpo.progress import Progress
from data_juicer_hpo.section import SECTION

__all__ = ["write_results", "write_plots", "flush_trials", "best_recipe_doc", "choose_trial"]


def best_recipe_doc(cfg, targets, params, mixture=None) -> dict:
    """The user's recipe with the best values set, without the ``auto_hpo`` block or sweep keys."""

    source = recipe_path(cfg)
    original = load_recipe_file(source) if source else {"process": copy.deepcopy(cfg.process)}
    changes = {(t.position, t.arg): params[n] for n, t in targets.items() if t.position is not None and n in params}
    top = [(t.arg, params[n]) for n, t in targets.items() if t.position is None and n in params]
    recipe = refined_recipe(original, changes, top)
    if mixture is not None:  # the user's whole dataset block, with the tuned weights

        block = original.get("dataset") if isinstance(original.get("dataset"), dict) else cfg.dataset
        recipe["dataset"] = mixed_dataset_block(block, mixture.targets, params)
    for key in ("method", "metric", "parameters", "early_terminate", "run_cap", "sweep_max_count", "sweep_name"):
        recipe.pop(key, None)  # the seed's recipes mix sweep keys in; a runnable recipe has none
    return recipe


def flush_trials(storage: str, study: str, path: str, param_names: List[str], goals) -> None:
    """Write ``trials.csv`` from the study as the storage holds it (the last act of a run that stops early: a
    signal, ``fail_fast``, a worker's error)."""
    database = sqlite_path(storage)
    if database is not None and not os.path.exists(database):
        return  # stopped before the storage was made: nothing to write (and no file to make now)
    try:
        try:
            trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
        except KeyError:  # no such study yet (stopped while loading the data): nothing to write
            return
        metric = goals.names if goals.multi else goals.names[0]
        records = [record_of(t) for t in trials]
        write_trials_csv(path, records, param_names, metric, goals.constrained_names, bool(goals.constraints))
    except Exception as e:  # noqa: BLE001  (the trials are safe in the storage; the rerun writes the file)
        logger.warning(f"auto_hpo[sweep]: could not write [{path}] as the run stopped: {type(e).__name__}: {e}")


def write_results(out_dir, records, sweep, scoring, recipe_of):
    """``trials.csv``, plots, the Pareto outputs, ``best_recipe.yaml``; returns the trial to process. Raises
    (one line) when no trial completed, or none satisfies the constraints: no best recipe then."""

    goals, param_names = scoring.goals, list(sweep.parameters)
    metric = goals.names if goals.multi else goals.names[0]
    trials_path = os.path.join(out_dir, "trials.csv")
    write_trials_csv(trials_path, records, param_names, metric, goals.constrained_names, bool(goals.constraints))
    if goals.multi:
        metrics = [
            Metric(name, direction, value=functools.partial(_objective_value, index=i, name=name))
            for i, (name, direction) in enumerate(zip(goals.names, goals.directions))
        ]
    else:
        metrics = [Metric(goals.names[0], goals.directions[0])]
    with Progress("drawing the plots"):
        paths = write_plots(out_dir, records, param_names, metrics)
    for path in paths:
        logger.info(f"auto_hpo[sweep]: plot written to [{path}]")
    best_path = os.path.join(out_dir, "best_recipe.yaml")
    done = [r for r in records if r.state == "COMPLETE" and (r.values is not None or r.value is not None)]
    feasible = [r for r in done if r.feasible is not False]
    if not done or not feasible:
        if os.path.exists(best_path):  # left by an earlier run: it is not this sweep's answer
            os.remove(best_path)
    if not done:
        raise AutoHpoError(f"{SECTION}: no trial completed (see {trials_path})")
    if not feasible:
        closest = min(done, key=lambda r: (goals.total_violation(_scores(r, goals)), r.number))
        logger.error(
            f"auto_hpo[sweep]: no trial satisfies the constraints; the closest, #{closest.number}, has "
            f"{goals.describe_violation(_scores(closest, goals))}"
        )
        raise AutoHpoError(
            f"{SECTION}.constraints: none of the {len(done)} completed trials satisfies them (closest "
            f"#{closest.number}: {goals.describe_violation(_scores(closest, goals))}); no best recipe written, "
            f"nothing processed; "
            f"trials in {trials_path}"
        )
    best, how = choose_trial(records, goals, scoring.select)
    if goals.multi:
        front = pareto_front(records, goals)
        write_pareto(out_dir, records, front, goals, param_names, recipe_of, best)
        logger.info(
            f"auto_hpo[sweep]: [{len(front)}] Pareto trials of [{len(done)}] completed in "
            f"[{os.path.join(out_dir, 'pareto.csv')}], their recipes in [{os.path.join(out_dir, 'pareto')}]; "
            f"selected {how}: #{best.number}"
        )
    write_best_recipe(best_path, recipe_of(best.params))
    shown = ", ".join(f"{k}={v:.6g}" for k, v in _scores(best, goals).items())
    logger.info(f"auto_hpo[sweep]: best trial #{best.number}: {shown} params={best.params}")
    logger.info(f"auto_hpo[sweep]: trials in [{trials_path}], best recipe in [{best_path}]")
    return best


def choose_trial(records, goals, select=None):
    """The trial whose recipe is processed and how it was chosen: the best feasible COMPLETE trial (the earliest
    on ties); with several objectives the front's compromise, or its best on ``select``. (None, "") when no
    trial qualifies."""
    if goals.multi:
        front = pareto_front(records, goals)
        if select is not None:
            return select_trial(front, goals, select), f"by {select}"
        best, distances = compromise(front, goals)
        how = (
            "as the front's compromise (nearest the ideal point once each objective is min-max normalised over the "
            f"front; distance {distances[best.number]:.3g})"
            if best is not None
            else ""
        )
        return best, how
    done = [r for r in records if r.state == "COMPLETE" and r.value is not None and r.feasible is not False]
    if not done:
        return None, ""
    sign = 1.0 if goals.directions[0] == "maximize" else -1.0
    return max(done, key=lambda r: (sign * r.value, -r.number)), f"by {goals.names[0]}"


def _objective_value(record, index: int, name: str):
    """Objective ``index`` (named ``name``) of a multi-objective trial record, for the plots."""
    if record.values is not None:
        return record.values[index]
    return record.scores.get(name)


def _scores(record, goals) -> dict:
    """Every objective's score of a trial, the optimized ones first."""
    scores = dict(record.scores)
    if not goals.multi and record.value is not None:
        scores = {goals.names[0]: record.value, **scores}
    return scores


def write_plots(out_dir: str, records, param_names: List[str], metrics: Sequence[Metric]) -> List[str]:
    """``metric_history.png``, ``param_importance.png`` and ``parallel_coordinates.png`` in ``out_dir``, one panel
    (or axis) per objective in ``metrics``; a plot that cannot be drawn is skipped with a log line saying why."""
    paths = [
        plot_histories(os.path.join(out_dir, "metric_history.png"), records, metrics),
        plot_importance(os.path.join(out_dir, "param_importance.png"), records, param_names, metrics),
        plot_parallel_coordinates(os.path.join(out_dir, "parallel_coordinates.png"), records, param_names, metrics),
    ]
    return [p for p in paths if p]
