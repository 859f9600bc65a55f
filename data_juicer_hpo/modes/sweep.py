"""``auto_hpo.mode: wandb``: a W&B sweep over the recipe whose train function is the executor.

Everything is validated before any trial runs (sweep config, parameter targets, objective, storage) and every
problem is reported at once. Then the chosen backend runs the trials -- ``wandb`` (real ``wandb.sweep`` and
``wandb.agent``) or ``local`` (the same sweep config on Optuna, every trial recorded as a W&B offline run) -- and
the outputs are written: ``trials.csv``, ``best_recipe.yaml`` and plots in ``auto_hpo.output_dir`` (with several
objectives also the Pareto outputs, see :mod:`~data_juicer_hpo.pareto`). The best recipe is the best *feasible*
trial's (``auto_hpo.constraints``), or the Pareto trial best on ``auto_hpo.select``; when no trial is feasible,
nothing is written beyond the trials and the run ends with one error line. Finally the best recipe processes the
full data once and exports it (``auto_hpo.process_best``).
"""

import copy
import functools
import os
import re
from typing import List

import yaml
from loguru import logger

from ..errors import AutoHpoError, raise_if_any
from ..ops.recipe import load_recipe_file, recipe_path
from ..section import SECTION, section_of

__all__ = ["EXECUTORS", "check", "run", "load_sweep", "choose_backend"]

EXECUTORS = ("default", "ray")
REFUSED = {
    "ray_partitioned": (
        " (it processes partitions independently, with checkpoints; a sweep evaluates many recipes on one"
        " population: use executor_type ray)"
    )
}


def _dj_keys(cfg) -> frozenset:
    return frozenset(k for k in cfg.keys() if "." not in k) | {"process"}


def load_sweep(path: str, cfg):
    """Read and validate the sweep configuration file (every problem at once)."""
    from ..sweep import parse_sweep_config

    key = f"{SECTION}.hpo_config"
    if not os.path.isfile(path):
        raise AutoHpoError(f"{key}: no such file {path!r}")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise AutoHpoError(f"{key}: {path!r} is not valid YAML ({' '.join(str(e).split())})")
    if not isinstance(raw, dict):
        raise AutoHpoError(f"{key}: {path!r} must hold a mapping (method, metric, parameters, ...)")
    several = section_of(cfg)["objectives"] is not None  # a multi-objective sweep needs no metric
    return parse_sweep_config(raw, source="hpo_config", extra_keys=_dj_keys(cfg), metric_required=not several)


def choose_backend(requested: str, several: bool = False) -> str:
    """The backend to run; ``several``: a multi-objective sweep, which only the local backend runs."""
    from ..tracking import wandb_credentials, wandb_mode

    if several and requested == "wandb":
        raise AutoHpoError(
            f"{SECTION}.objectives: backend 'wandb' optimizes one metric (W&B sweeps); use auto_hpo.backend: local "
            f"for several objectives"
        )
    if several:
        logger.info(f"auto_hpo[sweep]: backend {requested} -> local (several objectives: a multi-objective study)")
        return "local"
    if requested == "wandb":
        if wandb_mode() in ("offline", "disabled", "dryrun"):
            raise AutoHpoError(f"{SECTION}.backend: 'wandb' needs W&B online, but WANDB_MODE={wandb_mode()}")
        if wandb_credentials() is None:
            raise AutoHpoError(
                f"{SECTION}.backend: 'wandb' needs W&B credentials (run `wandb login` or set WANDB_API_KEY); "
                f"use backend 'local' to sweep offline"
            )
        return "wandb"
    if requested == "local":
        return "local"
    source = wandb_credentials()
    if source and wandb_mode() not in ("offline", "disabled", "dryrun"):
        logger.info(f"auto_hpo[sweep]: backend auto -> wandb (credentials from {source})")
        return "wandb"
    why = f"WANDB_MODE={wandb_mode()}" if wandb_mode() else "no W&B credentials"
    logger.info(f"auto_hpo[sweep]: backend auto -> local ({why}); trials are recorded as W&B offline runs")
    return "local"


def _study_name(sweep, cfg) -> str:
    name = sweep.name or f"{cfg.get('project_name') or 'data-juicer'}-sweep"
    return re.sub(r"[^\w.-]+", "-", name)


def _output_dir(section, cfg) -> str:
    """``auto_hpo.output_dir``, else ``auto_hpo/`` next to the export: stable across runs (Data-Juicer's work_dir
    gets a new job id each run), so re-running the same command finds the same sweep storage and resumes."""
    if section["output_dir"]:
        return os.path.abspath(section["output_dir"])
    export = cfg.get("export_path")
    base = os.path.dirname(os.path.abspath(export)) if export else os.getcwd()
    return os.path.join(base, SECTION)


def _validate(section, cfg, sweep, log_notes: bool = False):
    """Targets, judging (objectives, constraints) and storage problems, all together (the sweep config was
    checked on loading); the sweep comes back with parameters on int arguments made integer-valued."""
    from data_juicer.ops import OPERATORS

    from ..arg_types import fit_to_arguments
    from ..judging import resolve_judging
    from ..mixture import is_mixture_name
    from ..ops.addressing import recipe_problems, resolve_targets
    from ..sweep import validate_storage_url

    names = [n for n in sweep.parameters if not is_mixture_name(n)]
    targets, problems = resolve_targets(names, cfg.process, OPERATORS.modules, _dj_keys(cfg))
    problems += mixture_targets(cfg, sweep)[1]
    problems += recipe_problems(cfg.process, targets, sweep.parameters, OPERATORS.modules)
    sweep, found, notes = fit_to_arguments(sweep, targets, cfg.process, OPERATORS.modules)
    problems += found
    if sweep.method != "grid" and sweep.run_cap is None:
        problems.append(f"hpo_config.run_cap: a {sweep.method} sweep needs run_cap (or sweep_max_count) to end")
    judging, found = resolve_judging(section, sweep)
    problems += found
    if judging is not None and judging.goals.multi and section["backend"] == "wandb":
        problems.append(
            f"{SECTION}.objectives: backend 'wandb' optimizes one metric (W&B sweeps); use auto_hpo.backend: local "
            f"for several objectives"
        )
    if section["storage"]:
        problems += validate_storage_url(section["storage"], key=f"{SECTION}.storage")
    if section["path_3sigma_recipe"]:
        logger.warning(f"auto_hpo[sweep]: {SECTION}.path_3sigma_recipe is ignored in mode wandb")
    if log_notes and not problems:
        for note in notes:
            logger.info(f"auto_hpo[sweep]: {note}")
    return sweep, targets, judging, problems


def mixture_targets(cfg, sweep):
    """The sweep parameters that tune the data mixture (``dataset.configs[i].weight``, ``dataset.max_sample_num``)
    and their problems."""
    from ..mixture import is_mixture_name, resolve_mixture

    names = [n for n in sweep.parameters if is_mixture_name(n)]
    if not names:
        return {}, []
    keys = ("dataset", "dataset_path", "generated_dataset_config", "executor_type")
    return resolve_mixture(names, {k: cfg.get(k) for k in keys}, sweep.parameters)


def _best_recipe_doc(cfg, targets, params, mixture=None) -> dict:
    """The user's recipe with the best values set, without the ``auto_hpo`` block or sweep keys."""
    from ..ops.recipe import refined_recipe

    source = recipe_path(cfg)
    original = load_recipe_file(source) if source else {"process": copy.deepcopy(cfg.process)}
    changes = {(t.position, t.arg): params[n] for n, t in targets.items() if t.position is not None and n in params}
    top = [(t.arg, params[n]) for n, t in targets.items() if t.position is None and n in params]
    recipe = refined_recipe(original, changes, top)
    if mixture is not None:  # the user's whole dataset block, with the tuned weights
        from ..mixture import mixed_dataset_block

        block = original.get("dataset") if isinstance(original.get("dataset"), dict) else cfg.dataset
        recipe["dataset"] = mixed_dataset_block(block, mixture.targets, params)
    for key in ("method", "metric", "parameters", "early_terminate", "run_cap", "sweep_max_count", "sweep_name"):
        recipe.pop(key, None)  # the seed's recipes mix sweep keys in; a runnable recipe has none
    return recipe


def check(cfg) -> List[str]:
    """The sweep file, parameter targets, objectives, constraints and storage: every problem, before any work."""
    from ..ops.coverage import missing_package_problems

    packages = missing_package_problems(cfg.process)
    section = section_of(cfg)
    try:
        sweep = load_sweep(section["hpo_config"], cfg)
    except AutoHpoError as e:
        return packages + e.problems
    problems = packages + _validate(section, cfg, sweep)[3]
    # credentials too, before Data-Juicer writes anything (moot when several objectives already rule wandb out)
    if section["backend"] == "wandb" and not section.get("objectives"):
        try:
            choose_backend("wandb")
        except AutoHpoError as e:
            problems += e.problems
    return problems


def run(executor, original_run, *args, **kwargs):
    """The wandb mode; dispatches on the executor's ``run`` signature (the Ray executor's has no ``dataset``)."""
    if getattr(executor, "executor_type", "default") == "ray":
        return _run_sweep(executor, original_run, None, *args, **kwargs)
    return _run_sweep(executor, original_run, *args, **kwargs)


def _run_sweep(executor, original_run, dataset=None, load_data_np=None, skip_export=False, skip_return=False):
    """The wandb mode (see the module doc)."""
    from ..backends import run_trials
    from ..trials import TrialEvaluator

    cfg = executor.cfg
    section = section_of(cfg)
    sweep = load_sweep(section["hpo_config"], cfg)
    sweep, targets, judging, problems = _validate(section, cfg, sweep, log_notes=True)
    raise_if_any(problems)
    backend = choose_backend(section["backend"], several=judging.goals.multi)
    out_dir = _output_dir(section, cfg)
    storage = section["storage"] or f"sqlite:///{os.path.abspath(os.path.join(out_dir, 'sweep.db'))}"

    from ..data_access import data_access

    access = data_access(executor)
    mixture, _ = mixture_targets(cfg, sweep)
    if mixture:
        from ..mixture_data import SourceMixture, load_sources

        if dataset is not None:
            raise AutoHpoError(
                f"hpo_config.parameters.{next(iter(mixture))}: the executor was given a dataset "
                f"object, so Data-Juicer does not load dataset.configs"
            )
        dataset, sizes = load_sources(cfg, load_data_np)
    else:
        dataset = access.load(dataset, load_data_np)
    for checked in judging.objectives.values():  # e.g. labels, before any work
        raise_if_any(checked.check_data(functools.partial(access.column, dataset)))
    section["scored_on"] = _scored_on(cfg, section, sweep, targets, access.count(dataset))
    executor._dj_hpo_inner = True
    try:
        objective = judging.objectives[judging.main]
        evaluator = TrialEvaluator(
            executor, original_run, dataset, targets, objective, seed=section["seed"], extras=judging.extras
        )
        if mixture:
            evaluator.use_mixture(SourceMixture(cfg.dataset, mixture, sizes))
        evaluator.prepare(sweep.parameters)  # shaping arguments' listed values: their statistics in one pass
        study = _study_name(sweep, cfg)
        os.makedirs(out_dir, exist_ok=True)
        goals = judging.goals
        try:
            records = run_trials(backend, sweep, evaluator, section, storage, study, out_dir, cfg, goals=goals)
        except KeyboardInterrupt:  # SIGINT / SIGTERM (see signals.py): what the storage holds goes to trials.csv
            if backend == "local":
                _flush_trials(storage, study, os.path.join(out_dir, "trials.csv"), list(sweep.parameters), goals)
            raise
        best = _write_outputs(
            out_dir,
            records,
            sweep,
            judging,
            lambda params: _best_recipe_doc(cfg, targets, params, evaluator.mixture),
        )
        if not section["process_best"]:
            return None
        # before Data-Juicer forks its workers, which start as copies of this process: the objectives' per-document
        # state (model_loss: 4 bytes per token) goes with the last references to them, the rest in release
        objective = None  # noqa: F841
        judging.objectives.clear()
        evaluator.release(best.params)
        process, top = evaluator.best_recipe(best.params)
        return _process_best(executor, original_run, evaluator, best.params, process, top, skip_export, skip_return)
    finally:
        executor._dj_hpo_inner = False


def _scored_on(cfg, section, sweep, targets, n_samples: int) -> dict:
    """The fingerprint of what the trials are scored on, stored with the study (see fingerprint.py)."""
    from ..fingerprint import fingerprint

    swept = [(t.position, t.arg) for t in targets.values() if t.position is not None]
    return fingerprint(cfg, section, sweep.goal, swept, n_samples)


def _flush_trials(storage: str, study: str, path: str, param_names: List[str], goals) -> None:
    """Write ``trials.csv`` from the study as the storage holds it (an interrupted run's last act)."""
    import optuna

    from ..outputs import write_trials_csv
    from ..sweep.trial import record_of

    try:
        trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
        metric = goals.names if goals.multi else goals.names[0]
        records = [record_of(t) for t in trials]
        write_trials_csv(path, records, param_names, metric, goals.constrained_names, bool(goals.constraints))
    except Exception as e:  # noqa: BLE001  (the trials are safe in the storage; the rerun writes the file)
        logger.warning(f"auto_hpo[sweep]: could not write [{path}] on interrupt: {type(e).__name__}: {e}")


def _write_outputs(out_dir, records, sweep, judging, recipe_of):
    """``trials.csv``, plots, the Pareto outputs, ``best_recipe.yaml``; returns the trial to process. Raises
    (one line) when no trial completed, or none satisfies the constraints: no best recipe then."""
    from ..outputs import Metric, write_best_recipe, write_plots, write_trials_csv

    goals, param_names = judging.goals, list(sweep.parameters)
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
    for path in write_plots(out_dir, records, param_names, metrics):
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
    if goals.multi:
        from ..pareto import pareto_front, select_trial, write_pareto

        front = pareto_front(records, goals)
        best = select_trial(front, goals, judging.select)
        write_pareto(out_dir, records, front, goals, param_names, recipe_of, best)
        logger.info(
            f"auto_hpo[sweep]: [{len(front)}] Pareto trials of [{len(done)}] completed in "
            f"[{os.path.join(out_dir, 'pareto.csv')}], their recipes in [{os.path.join(out_dir, 'pareto')}]; "
            f"selected by {judging.select}: #{best.number}"
        )
    else:
        sign = 1.0 if goals.directions[0] == "maximize" else -1.0
        best = max(feasible, key=lambda r: (sign * r.value, -r.number))  # the earliest one on ties
    write_best_recipe(best_path, recipe_of(best.params))
    shown = ", ".join(f"{k}={v:.6g}" for k, v in _scores(best, goals).items())
    logger.info(f"auto_hpo[sweep]: best trial #{best.number}: {shown} params={best.params}")
    logger.info(f"auto_hpo[sweep]: trials in [{trials_path}], best recipe in [{best_path}]")
    return best


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


def _process_best(executor, original_run, evaluator, params, process, top, skip_export, skip_return):
    """Process the full data once with the best recipe, reusing the statistics of its population."""
    from data_juicer.core.executor import default_executor
    from data_juicer.ops import Filter

    from ..ops.statistics import reuse_statistics, use_prepared_ops

    cfg = executor.cfg
    cfg.process = process
    for key, value in top.items():
        cfg[key] = value
    if evaluator.mixture is not None:
        cfg.dataset = evaluator.mixture.dataset_block(params)
    logger.info("auto_hpo[sweep]: processing the full data once with the best recipe")
    if evaluator.data.kind == "ray":  # Data-Juicer's Ray run loads and processes the data itself, once
        return original_run(executor, skip_export=skip_export, skip_return=skip_return)
    bundle = evaluator.bundle(params)
    if bundle.fast:
        ops = default_executor.load_ops(process)
        pipeline = [op for op in ops if isinstance(op, Filter)]  # the mappers were applied to the bundle's data
        for op in pipeline:
            reuse_statistics(op)
        with use_prepared_ops(default_executor, pipeline):
            return original_run(
                executor,
                dataset=evaluator.best_dataset(bundle, params),
                skip_export=skip_export,
                skip_return=skip_return,
            )
    dataset = evaluator.trial_dataset(params)
    return original_run(executor, dataset=dataset, skip_export=skip_export, skip_return=skip_return)
