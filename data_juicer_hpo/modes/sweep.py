"""``auto_hpo.mode: wandb``: a W&B sweep over the recipe whose train function is the executor.

Everything is validated before any trial runs (sweep config, parameter targets, objective, storage) and every
problem is reported at once. Then the chosen backend runs the trials -- ``wandb`` (real ``wandb.sweep`` and
``wandb.agent``) or ``local`` (the same sweep config on Optuna, every trial recorded as a W&B offline run) -- and
the outputs are written: ``trials.csv``, ``best_recipe.yaml`` and plots in ``auto_hpo.output_dir``. Finally the
best recipe processes the full data once and exports it (``auto_hpo.process_best``).
"""

import copy
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
    return parse_sweep_config(raw, source="hpo_config", extra_keys=_dj_keys(cfg))


def choose_backend(requested: str) -> str:
    from ..tracking import wandb_credentials, wandb_mode

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


def _objective(section, sweep, cfg):
    from ..objectives import get_objective

    spec = section["objective"] or sweep.metric_name
    if not spec:
        raise AutoHpoError(f"{SECTION}.objective: not set and the sweep has no metric.name to take it from")
    options = {**section, "text_key": "text", "goal": sweep.goal}
    objective = get_objective(spec, options)
    problems = objective.validate()
    if objective.goal and objective.goal != sweep.goal:
        logger.warning(
            f"auto_hpo[sweep]: metric.goal is {sweep.goal} (W&B's default when unset) but {spec} is better "
            f"when it is {'larger' if objective.goal == 'maximize' else 'smaller'}; set metric.goal: {objective.goal}"
        )
    return objective, problems


def _validate(section, cfg, sweep):
    """Targets, objective and storage problems, all together (the sweep config was checked on loading)."""
    from data_juicer.ops import OPERATORS

    from ..ops.addressing import recipe_problems, resolve_targets
    from ..sweep import validate_storage_url

    targets, problems = resolve_targets(sweep.parameters, cfg.process, OPERATORS.modules, _dj_keys(cfg))
    problems += recipe_problems(cfg.process, targets, sweep.parameters, OPERATORS.modules)
    if sweep.method != "grid" and sweep.run_cap is None:
        problems.append(f"hpo_config.run_cap: a {sweep.method} sweep needs run_cap (or sweep_max_count) to end")
    objective, objective_problems = _objective(section, sweep, cfg)
    problems += objective_problems
    if section["storage"]:
        problems += validate_storage_url(section["storage"], key=f"{SECTION}.storage")
    if section["path_3sigma_recipe"]:
        logger.warning(f"auto_hpo[sweep]: {SECTION}.path_3sigma_recipe is ignored in mode wandb")
    return targets, objective, problems


def _best_recipe_doc(cfg, targets, params) -> dict:
    """The user's recipe with the best values set, without the ``auto_hpo`` block or sweep keys."""
    from ..ops.recipe import refined_recipe

    source = recipe_path(cfg)
    original = load_recipe_file(source) if source else {"process": copy.deepcopy(cfg.process)}
    changes = {(t.position, t.arg): params[n] for n, t in targets.items() if t.position is not None and n in params}
    top = [(t.arg, params[n]) for n, t in targets.items() if t.position is None and n in params]
    recipe = refined_recipe(original, changes, top)
    for key in ("method", "metric", "parameters", "early_terminate", "run_cap", "sweep_max_count", "sweep_name"):
        recipe.pop(key, None)  # the seed's recipes mix sweep keys in; a runnable recipe has none
    return recipe


def check(cfg) -> List[str]:
    """The sweep file, parameter targets, objective options and storage: every problem, before any work."""
    try:
        sweep = load_sweep(section_of(cfg)["hpo_config"], cfg)
    except AutoHpoError as e:
        return e.problems
    return _validate(section_of(cfg), cfg, sweep)[2]


def run(executor, original_run, *args, **kwargs):
    """The wandb mode; dispatches on the executor's ``run`` signature (the Ray executor's has no ``dataset``)."""
    if getattr(executor, "executor_type", "default") == "ray":
        return _run_sweep(executor, original_run, None, *args, **kwargs)
    return _run_sweep(executor, original_run, *args, **kwargs)


def _run_sweep(executor, original_run, dataset=None, load_data_np=None, skip_export=False, skip_return=False):
    """The wandb mode (see the module doc)."""
    from ..backends import run_trials
    from ..outputs import plot_history, plot_importance, write_best_recipe, write_trials_csv
    from ..trials import TrialEvaluator

    cfg = executor.cfg
    section = section_of(cfg)
    sweep = load_sweep(section["hpo_config"], cfg)
    targets, objective, problems = _validate(section, cfg, sweep)
    raise_if_any(problems)
    backend = choose_backend(section["backend"])
    out_dir = _output_dir(section, cfg)
    storage = section["storage"] or f"sqlite:///{os.path.abspath(os.path.join(out_dir, 'sweep.db'))}"

    from ..data_access import data_access

    dataset = data_access(executor).load(dataset, load_data_np)
    executor._dj_hpo_inner = True
    try:
        evaluator = TrialEvaluator(executor, original_run, dataset, targets, objective, seed=section["seed"])
        evaluator.prepare(sweep.parameters)  # shaping arguments' listed values: their statistics in one pass
        study = _study_name(sweep, cfg)
        os.makedirs(out_dir, exist_ok=True)
        records = run_trials(backend, sweep, evaluator, section, storage, study, out_dir, cfg)
        param_names: List[str] = list(sweep.parameters)
        metric = sweep.metric_name or objective.name or "objective"
        write_trials_csv(os.path.join(out_dir, "trials.csv"), records, param_names, metric)
        for path in (
            plot_history(os.path.join(out_dir, "metric_history.png"), records, metric, sweep.goal),
            plot_importance(os.path.join(out_dir, "param_importance.png"), records, param_names, metric),
        ):
            if path:
                logger.info(f"auto_hpo[sweep]: plot written to [{path}]")
        done = [r for r in records if r.state == "COMPLETE" and r.value is not None]
        if not done:
            raise AutoHpoError(f"{SECTION}: no trial completed (see {os.path.join(out_dir, 'trials.csv')})")
        best = (max if sweep.goal == "maximize" else min)(done, key=lambda r: r.value)
        process, top = evaluator.best_recipe(best.params)
        best_path = os.path.join(out_dir, "best_recipe.yaml")
        write_best_recipe(best_path, _best_recipe_doc(cfg, targets, best.params))
        logger.info(f"auto_hpo[sweep]: best trial #{best.number}: {metric}={best.value:.6g} params={best.params}")
        logger.info(f"auto_hpo[sweep]: trials in [{os.path.join(out_dir, 'trials.csv')}], best recipe in [{best_path}]")
        if not section["process_best"]:
            return None
        evaluator.release(best.params)  # before Data-Juicer forks its workers: they start as copies of this process
        del objective
        return _process_best(executor, original_run, evaluator, best.params, process, top, skip_export, skip_return)
    finally:
        executor._dj_hpo_inner = False


def _process_best(executor, original_run, evaluator, params, process, top, skip_export, skip_return):
    """Process the full data once with the best recipe, reusing the statistics of its population."""
    from data_juicer.core.executor import default_executor
    from data_juicer.ops import Filter

    from ..ops.statistics import reuse_statistics, use_prepared_ops

    cfg = executor.cfg
    cfg.process = process
    for key, value in top.items():
        cfg[key] = value
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
                dataset=evaluator.dataset_with_statistics(bundle),
                skip_export=skip_export,
                skip_return=skip_return,
            )
    return original_run(executor, dataset=evaluator.dataset, skip_export=skip_export, skip_return=skip_return)
