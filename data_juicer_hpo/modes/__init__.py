"""The modes of ``auto_hpo.mode`` (:class:`~data_juicer_hpo.modes.base.Mode`): a registry, and the two calls the
hooks make into it -- :func:`check_config` before Data-Juicer writes anything, :func:`run_mode` in place of an
executor's ``run``.

The hooks reach this package by name (:func:`data_juicer_hpo.imports.lazy_import`), never by import: the plugin's
entry point must stay light, and a mode's module is imported only when a run uses it.
"""

import importlib
import os
from typing import Dict, List, Type, Union

from data_juicer_hpo.data.loading import dataset_path_problem
from data_juicer_hpo.data.paths import export_problems, free_space_problem, inputs_of
from data_juicer_hpo.errors import (
    full_disk_is_one_line,
    inside_dj_process,
    raise_if_any,
    reported,
)
from data_juicer_hpo.modes.base import Mode
from data_juicer_hpo.section import SECTION, section_of, validate_section
from data_juicer_hpo.signals import interruptible

__all__ = ["Mode", "MODES", "register_mode", "mode_of", "check_config", "run_mode"]

# ``auto_hpo.mode`` -> ``"package.module:Class"`` (imported when a run uses it) or a registered Mode subclass
MODES: Dict[str, Union[str, Type[Mode]]] = {
    "3sigma": "data_juicer_hpo.modes.three_sigma:ThreeSigma",
    "wandb": "data_juicer_hpo.modes.wandb:WandbSweep",
}


def _verified(cls, name: str) -> Type[Mode]:
    if not (isinstance(cls, type) and issubclass(cls, Mode)):
        raise TypeError(f"mode {name!r} must be a Mode subclass, but got {cls!r}")
    if cls.name != name:
        raise ValueError(f"mode {name!r}: {cls.__name__}.name must be {name!r}, but got {cls.name!r}")
    if not cls.executors or not all(isinstance(e, str) for e in cls.executors):
        raise ValueError(f"mode {name!r}: {cls.__name__}.executors must name executor types, but got {cls.executors!r}")
    return cls


def register_mode(cls: Type[Mode]) -> Type[Mode]:
    """Class decorator adding a mode under ``cls.name``; checked here, not when a run first uses it."""
    MODES[cls.name] = _verified(cls, getattr(cls, "name", None))
    return cls


def mode_of(name: str) -> Mode:
    """The mode registered as ``name`` (a built-in one is imported now)."""
    entry = MODES[name]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = MODES[name] = _verified(getattr(importlib.import_module(module), attr), name)
    return entry()


def _executor_problem(mode: Mode, executor_type: str):
    if executor_type in mode.executors:
        return None
    why = mode.refused.get(executor_type, "")
    valid = ", ".join(mode.executors)
    return (
        f"executor_type: {SECTION}.mode {mode.name} does not run on executor_type {executor_type!r}{why} "
        f"(valid: {valid})"
    )


def check_config(cfg) -> None:
    """Every problem of a config with an ``auto_hpo`` mode, raised at once (no data loaded, nothing written)."""
    section = section_of(cfg)
    if section["mode"] is None:
        return
    problems: List[str] = validate_section(section)
    if problems or section["mode"] not in MODES:
        raise_if_any(problems)
    mode = mode_of(section["mode"])
    executor_problem = _executor_problem(mode, cfg.get("executor_type") or "default")
    problems += [executor_problem] if executor_problem else []
    dataset_problem = dataset_path_problem(cfg)
    problems += [dataset_problem] if dataset_problem else []
    problems += export_problems(cfg, inputs_of(cfg, section), cfg.get("executor_type") or "default")
    if not problems:
        problems += mode.check(cfg)
    full = free_space_problem(_places(cfg, section))
    raise_if_any(problems + ([full] if full else []))


def _places(cfg, section) -> dict:
    """Where a run writes (key -> path), for a full disk's line."""
    export = cfg.get("export_path")
    recipe = section.get("path_3sigma_recipe")
    return {
        "export_path": os.path.dirname(os.path.abspath(export)) if export and "://" not in str(export) else None,
        "work_dir": cfg.get("work_dir"),
        f"{SECTION}.output_dir": section.get("output_dir"),
        f"{SECTION}.path_3sigma_recipe": os.path.dirname(os.path.abspath(recipe)) if recipe else None,
    }


def run_mode(executor, original_run, executor_type: str, *args, **kwargs):
    """Run the configured mode in place of ``executor.run`` (called by the executor hook). Under ``dj-process``,
    SIGTERM / SIGINT end it with one line and exit 143 / 130 (see :mod:`data_juicer_hpo.signals`)."""
    with interruptible(exit_on_interrupt=inside_dj_process()), reported():
        section = section_of(executor.cfg)
        problems = validate_section(section)
        raise_if_any(problems)
        mode = mode_of(section["mode"])
        raise_if_any([p for p in [_executor_problem(mode, executor_type)] if p])
        with full_disk_is_one_line(_places(executor.cfg, section)):
            return mode.run(executor, original_run, *args, **kwargs)
