"""Everything a sweep checks before any trial runs -- the sweep file, what each parameter sets in the recipe, the
objectives and constraints, the storage, the backend's credentials -- every problem collected and reported at once.
"""

import os
from typing import List

import yaml
from data_juicer.ops import OPERATORS
from loguru import logger
from sqlalchemy.engine import make_url

from data_juicer_hpo.data.mixture import is_mixture_name, resolve_mixture
from data_juicer_hpo.data.sampling import text_key_of
from data_juicer_hpo.data.paths import inputs_of, output_dir_problems
from data_juicer_hpo.engine import parse_sweep_config, validate_storage_url
from data_juicer_hpo.engine.storage import sqlite_path
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.inputs import load_yaml
from data_juicer_hpo.modes.wandb.backends.tracking import wandb_credentials, wandb_mode
from data_juicer_hpo.modes.wandb.int_arguments import fit_to_arguments
from data_juicer_hpo.modes.wandb.scoring import resolve_scoring
from data_juicer_hpo.modes.wandb.trials.labelled import labelled_recipe_problems
from data_juicer_hpo.objectives.labels import labels_objectives
from data_juicer_hpo.ops.addressing import recipe_problems, resolve_targets
from data_juicer_hpo.ops.coverage import missing_package_problems
from data_juicer_hpo.section import SECTION, section_of

__all__ = [
    "check_sweep",
    "load_sweep",
    "validate",
    "choose_backend",
    "mixture_targets",
    "dj_keys",
    "output_dir",
    "default_storage",
    "text_key_of",
]

# what a sweep writes in its output_dir under fixed names (an input there under one of them would be overwritten)
WRITTEN = ("best_recipe.yaml", "trials.csv", "pareto.csv", "sweep.db")


def output_dir(section, cfg) -> str:
    """``auto_hpo.output_dir``, else ``auto_hpo/`` next to the export: stable across runs (Data-Juicer's work_dir
    gets a new job id each run), so re-running the same command finds the same sweep storage and resumes."""
    if section["output_dir"]:
        return os.path.abspath(section["output_dir"])
    export = cfg.get("export_path")
    base = os.path.dirname(os.path.abspath(export)) if export and "://" not in str(export) else os.getcwd()
    return os.path.join(base, SECTION)


def default_storage(out_dir: str) -> str:
    return f"sqlite:///{os.path.join(out_dir, 'sweep.db')}"


def storage_problems(section, out_dir: str) -> List[str]:
    """The storage URL's (given, or the default file in ``out_dir``) problems: unreachable, empty, damaged or foreign
    SQLite files, and a SQLite file outside ``output_dir`` not asked for on purpose."""
    key = f"{SECTION}.storage"
    url = section["storage"] or default_storage(out_dir)
    problems = validate_storage_url(url, key=key)
    path = sqlite_path(url)
    if problems or path is None or path == os.path.join(out_dir, "sweep.db") or _inside(path, out_dir):
        return problems
    flag = f"{SECTION}.storage_outside_output_dir"
    if not section.get("storage_outside_output_dir"):
        return [
            f"{key}: the SQLite file {path} is outside {SECTION}.output_dir ({out_dir}); keep it there (leave storage "
            f"unset for {out_dir}/sweep.db), or, to share a study file on purpose, give its absolute path "
            f"(sqlite:///{path}) and set {flag}: true"
        ]
    if not os.path.isabs(make_url(url).database):
        return [
            f"{key}: with {flag}, give the SQLite file as an absolute path (four slashes: sqlite:///{path}); "
            f"{make_url(url).database!r} is resolved from wherever the command runs"
        ]
    return []


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip(os.sep) + os.sep)


def dj_keys(cfg) -> frozenset:
    return frozenset(k for k in cfg.keys() if "." not in k) | {"process"}


def load_sweep(path: str, cfg):
    """Read and validate the sweep configuration file (every problem at once)."""

    key = f"{SECTION}.hpo_config"
    if not os.path.isfile(path):
        raise AutoHpoError(f"{key}: no such file {path!r}")
    try:
        raw = load_yaml(key, path)  # within a size and an alias-expansion limit
    except yaml.YAMLError as e:
        raise AutoHpoError(f"{key}: {path!r} is not valid YAML ({' '.join(str(e).split())})")
    if not isinstance(raw, dict):
        raise AutoHpoError(f"{key}: {path!r} must hold a mapping (method, metric, parameters, ...)")
    several = section_of(cfg)["objectives"] is not None  # a multi-objective sweep needs no metric
    return parse_sweep_config(raw, source="hpo_config", extra_keys=dj_keys(cfg), metric_required=not several)


def choose_backend(requested: str, several: bool = False) -> str:
    """The backend to run; ``several``: a multi-objective sweep, which only the local backend runs."""

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


def validate(section, cfg, sweep, log_notes: bool = False):
    """Targets, scoring (objectives, constraints) and storage problems, all together (the sweep config was
    checked on loading); the sweep comes back with parameters on int arguments made integer-valued."""
    names = [n for n in sweep.parameters if not is_mixture_name(n)]
    targets, problems = resolve_targets(names, cfg.process, OPERATORS.modules, dj_keys(cfg))
    mixture, found = mixture_targets(cfg, sweep)
    problems += found
    if mixture and section.get("sample") is not None:
        problems.append(
            f"{SECTION}.sample: not with a mixture sweep (its trials draw their own mixtures of the sources)"
        )
    problems += recipe_problems(cfg.process, targets, sweep.parameters, OPERATORS.modules)
    sweep, found, notes = fit_to_arguments(sweep, targets, cfg.process, OPERATORS.modules)
    problems += found
    if sweep.method != "grid" and sweep.run_cap is None:
        problems.append(f"hpo_config.run_cap: a {sweep.method} sweep needs run_cap (or sweep_max_count) to end")
    scoring, found = resolve_scoring({**section, "recipe_text_key": text_key_of(cfg)}, sweep)
    problems += found
    if scoring is not None and labels_objectives(scoring.objectives.values()):
        problems += labelled_recipe_problems(cfg.process)
    if scoring is not None and scoring.goals.multi and section["backend"] == "wandb":
        problems.append(
            f"{SECTION}.objectives: backend 'wandb' optimizes one metric (W&B sweeps); use auto_hpo.backend: local "
            f"for several objectives"
        )
    out_dir = output_dir(section, cfg)
    # the default storage is a file in output_dir: checked once output_dir itself is right
    problems += output_dir_problems(f"{SECTION}.output_dir", out_dir, inputs_of(cfg, section), WRITTEN) or (
        storage_problems(section, out_dir)
    )
    if section["path_3sigma_recipe"]:
        logger.warning(f"auto_hpo[sweep]: {SECTION}.path_3sigma_recipe is ignored in mode wandb")
    if log_notes and not problems:
        for note in notes:
            logger.info(f"auto_hpo[sweep]: {note}")
    return sweep, targets, scoring, problems


def mixture_targets(cfg, sweep):
    """The sweep parameters that tune the data mixture (``dataset.configs[i].weight``, ``dataset.max_sample_num``)
    and their problems."""

    names = [n for n in sweep.parameters if is_mixture_name(n)]
    if not names:
        return {}, []
    keys = ("dataset", "dataset_path", "generated_dataset_config", "executor_type")
    return resolve_mixture(names, {k: cfg.get(k) for k in keys}, sweep.parameters)


def check_sweep(cfg) -> List[str]:
    """The sweep file, parameter targets, objectives, constraints and storage: every problem, before any work."""

    packages = missing_package_problems(cfg.process)
    section = section_of(cfg)
    try:
        sweep = load_sweep(section["hpo_config"], cfg)
    except AutoHpoError as e:
        return packages + e.problems
    problems = packages + validate(section, cfg, sweep)[3]
    # credentials too, before Data-Juicer writes anything (moot when several objectives already rule wandb out)
    if section["backend"] == "wandb" and not section.get("objectives"):
        try:
            choose_backend("wandb")
        except AutoHpoError as e:
            problems += e.problems
    return problems
