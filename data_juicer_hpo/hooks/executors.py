"""Hook: when a recipe has an ``auto_hpo`` mode, that mode takes over ``run`` of Data-Juicer's executors.

Every executor of Data-Juicer 1.6 is wrapped -- ``default``, ``ray`` and ``ray_partitioned`` -- so a mode is never
silently ignored: the mode registry (:mod:`data_juicer_hpo.modes`) says what each mode does on each executor (or
refuses in one line). Installed when a config with a mode is parsed: importing the executors is not free.
"""

import contextlib
import functools
import importlib
from typing import Optional

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.imports import lazy_import
from data_juicer_hpo.section import section_of

__all__ = ["EXECUTORS", "check", "install", "uninstall", "inner_run", "is_inner_run"]

NAME = "executors"
EXECUTORS = {
    "default": ("data_juicer.core.executor.default_executor", "DefaultExecutor"),
    "ray": ("data_juicer.core.executor.ray_executor", "RayExecutor"),
    "ray_partitioned": ("data_juicer.core.executor.ray_executor_partitioned", "PartitionedRayExecutor"),
}
_saved = {}


def _executor_class(kind: str):
    module_name, class_name = EXECUTORS[kind]
    return getattr(importlib.import_module(module_name), class_name, None)


def check() -> Optional[str]:
    for kind, (module_name, class_name) in EXECUTORS.items():
        try:
            cls = _executor_class(kind)
        except ImportError as e:
            return f"{module_name} does not import ({e})"
        if cls is None:
            return f"{module_name}.{class_name} not found"
        problem = expect(cls, "run", f"{class_name}.run", ["self"])
        if problem:
            return problem
    return None


def wrap_run(original_run, kind: str):
    """``run`` of an executor: the configured mode runs instead (and calls the original back)."""

    @functools.wraps(original_run)
    def run(self, *args, **kwargs):
        if section_of(self.cfg)["mode"] is None or is_inner_run(self):
            return original_run(self, *args, **kwargs)
        # the mode registry by name: it imports the modes, which sit above the hooks (see imports.py)
        return lazy_import("data_juicer_hpo.modes").run_mode(self, original_run, kind, *args, **kwargs)

    run._dj_hpo_original = original_run
    return run


def install() -> None:
    for kind in EXECUTORS:
        if kind in _saved:
            continue
        cls = _executor_class(kind)
        original = cls.__dict__["run"]
        _saved[kind] = (cls, original)
        cls.run = wrap_run(original, kind)


def uninstall() -> None:
    for cls, original in _saved.values():
        cls.run = original
    _saved.clear()


_INNER = "_dj_hpo_inner"  # set on an executor while a mode lets Data-Juicer's own run process


@contextlib.contextmanager
def inner_run(executor):
    """While the block runs, ``executor.run`` is Data-Juicer's own (a mode calling back into the executor, whose
    ``run`` may call itself through ``self``), not the mode again."""
    setattr(executor, _INNER, True)
    try:
        yield
    finally:
        setattr(executor, _INNER, False)


def is_inner_run(executor) -> bool:
    return bool(getattr(executor, _INNER, False))
