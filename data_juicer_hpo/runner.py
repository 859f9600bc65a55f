"""The executor hook: when a recipe has an ``auto_hpo`` mode, that mode's runner takes over ``Executor.run``.

Modes are a registry of ``"module:function"`` names, imported only when a mode runs (the entry point stays
light). A runner is called as ``runner(executor, original_run, **run_kwargs)`` and returns what ``run`` returns.
"""

import functools
import importlib

from .errors import raise_if_any, reported
from .section import section_of, validate_section

__all__ = ["MODE_RUNNERS", "register_mode", "wrap_run", "wrap_init"]

MODE_RUNNERS = {
    "3sigma": "data_juicer_hpo.three_sigma:run_three_sigma",
    "wandb": "data_juicer_hpo.sweep_mode:run_sweep_mode",
}


def register_mode(name: str, target: str) -> None:
    """Register a runner (``"package.module:function"``) for ``auto_hpo.mode: name``."""
    MODE_RUNNERS[name] = target


def _resolve(target: str):
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def wrap_run(original_run):
    """Wrap an executor's ``run`` so that the configured ``auto_hpo`` mode runs instead (and calls it back)."""

    @functools.wraps(original_run)
    def run(self, *args, **kwargs):
        mode = section_of(self.cfg)["mode"]
        if mode is None or getattr(self, "_dj_hpo_inner", False):
            return original_run(self, *args, **kwargs)
        with reported():
            raise_if_any(validate_section(section_of(self.cfg)))
            return _resolve(MODE_RUNNERS[mode])(self, original_run, *args, **kwargs)

    run._dj_hpo_original = original_run
    return run


def wrap_init(original_init):
    """Wrap an executor's ``__init__`` so that a configured mode's input is checked before Data-Juicer sets up
    (its dataset builder raises a traceback for a missing ``dataset_path``)."""

    @functools.wraps(original_init)
    def __init__(self, cfg=None, *args, **kwargs):
        section = section_of(cfg) if cfg is not None else {"mode": None}
        if section["mode"] is not None:
            from .loading import dataset_path_problem

            with reported():
                problems = validate_section(section)
                problem = dataset_path_problem(cfg)
                raise_if_any(problems + ([problem] if problem else []))
        return original_init(self, cfg, *args, **kwargs)

    __init__._dj_hpo_original = original_init
    return __init__
