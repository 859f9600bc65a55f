"""The modes of ``auto_hpo.mode``: a registry of modules, imported only when a mode runs (the entry point stays
light).

A mode module provides:

- ``EXECUTORS``: the Data-Juicer executor types it runs on (others are refused in one line, never ignored);
- ``check(cfg) -> list of problems``: its input checks, called before Data-Juicer writes anything
  (:mod:`data_juicer_hpo.hooks.config_checks`); cheap, no data is loaded;
- ``run(executor, original_run, *args, **kwargs)``: called in place of the executor's ``run``; returns what
  ``run`` returns.
"""

import importlib
from typing import List

from ..errors import raise_if_any, reported
from ..section import SECTION, section_of, validate_section

__all__ = ["MODES", "register_mode", "check_config", "run_mode", "mode_module"]

MODES = {
    "3sigma": "data_juicer_hpo.modes.three_sigma",
    "wandb": "data_juicer_hpo.modes.sweep",
}


def register_mode(name: str, module: str) -> None:
    """Register a mode module (``"package.module"``, see the module doc) for ``auto_hpo.mode: name``."""
    MODES[name] = module


def mode_module(name: str):
    return importlib.import_module(MODES[name])


def _executor_problem(mode: str, module, executor_type: str):
    if executor_type in module.EXECUTORS:
        return None
    why = getattr(module, "REFUSED", {}).get(executor_type, "")
    valid = ", ".join(module.EXECUTORS)
    return f"executor_type: {SECTION}.mode {mode} does not run on executor_type {executor_type!r}{why} (valid: {valid})"


def check_config(cfg) -> None:
    """Every problem of a config with an ``auto_hpo`` mode, raised at once (no data loaded, nothing written)."""
    from ..loading import dataset_path_problem

    section = section_of(cfg)
    if section["mode"] is None:
        return
    problems: List[str] = validate_section(section)
    if problems or section["mode"] not in MODES:
        raise_if_any(problems)
    module = mode_module(section["mode"])
    executor_problem = _executor_problem(section["mode"], module, cfg.get("executor_type") or "default")
    problems += [executor_problem] if executor_problem else []
    dataset_problem = dataset_path_problem(cfg)
    problems += [dataset_problem] if dataset_problem else []
    if not problems:
        problems += module.check(cfg)
    raise_if_any(problems)


def run_mode(executor, original_run, executor_type: str, *args, **kwargs):
    """Run the configured mode in place of ``executor.run`` (called by the executor hook)."""
    with reported():
        section = section_of(executor.cfg)
        problems = validate_section(section)
        raise_if_any(problems)
        module = mode_module(section["mode"])
        raise_if_any([p for p in [_executor_problem(section["mode"], module, executor_type)] if p])
        return module.run(executor, original_run, *args, **kwargs)
