"""The modes of ``auto_hpo.mode``: a registry of modules, imported only when a mode runs (the entry point stays
light).

A mode module provides:

- ``EXECUTORS``: the Data-Juicer executor types it runs on (others are refused in one line, never ignored);
- ``check(cfg) -> list of problems``: its input checks, called before Data-Juicer writes anything
  (:mod:`data_juicer_hpo.hooks.config_checks`); cheap, no data is loaded;
- ``run(executor, original_run, *args, **kwargs)``: called in place of the executor's ``run``; returns what
  ``run`` returns.
"""

import errno
import importlib
import os
from typing import Dict, List, Optional

from ..errors import AutoHpoError, exception_chain, raise_if_any, reported
from ..section import SECTION, section_of, validate_section

__all__ = ["MODES", "register_mode", "check_config", "run_mode", "mode_module", "write_failure"]

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
    """Run the configured mode in place of ``executor.run`` (called by the executor hook). Under ``dj-process``,
    SIGTERM / SIGINT end it with one line and exit 143 / 130 (see :mod:`data_juicer_hpo.signals`)."""
    from ..errors import inside_dj_process
    from ..signals import interruptible

    with interruptible(exit_on_interrupt=inside_dj_process()), reported():
        section = section_of(executor.cfg)
        problems = validate_section(section)
        raise_if_any(problems)
        module = mode_module(section["mode"])
        raise_if_any([p for p in [_executor_problem(section["mode"], module, executor_type)] if p])
        try:
            return module.run(executor, original_run, *args, **kwargs)
        except Exception as e:
            cfg = executor.cfg
            places = {
                "export_path": os.path.dirname(os.path.abspath(cfg.get("export_path") or ".")),
                "work_dir": cfg.get("work_dir"),
                f"{SECTION}.output_dir": section.get("output_dir"),
            }
            line = write_failure(e, places)
            if line is None:
                raise
            raise AutoHpoError(line) from None


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _full_places(places: Dict[str, Optional[str]]) -> str:
    """``path (keys) is full`` per filesystem with less than 1 MiB left among ``places``, for a failed write that
    names no file (the shortest path of each filesystem is shown)."""
    full: Dict[int, tuple] = {}
    for key, path in places.items():
        try:
            stat, device = (os.statvfs(path), os.stat(path).st_dev) if path else (None, None)
        except OSError:
            continue
        if stat is not None and stat.f_bavail * stat.f_frsize < 2**20:
            shown, keys = full.get(device, (os.path.abspath(path), []))
            full[device] = (min(shown, os.path.abspath(path), key=len), keys + [key])
    return "; ".join(f"{shown} ({', '.join(keys)}) is full" for shown, keys in full.values())


def write_failure(exc: BaseException, places: Optional[Dict[str, Optional[str]]] = None) -> Optional[str]:
    """One line for a write that failed for lack of room (a full disk, a quota, a file-size limit), found anywhere
    in the exception's chain (Data-Juicer and Hugging Face datasets re-raise with their own types); else None.
    A failed ``write`` names no file: then the ``places`` (key -> directory) on a full filesystem are named."""
    for e in exception_chain(exc):
        if isinstance(e, OSError) and e.errno in _FULL:
            where = f"cannot write {e.filename}" if e.filename else "a write failed"
            full = "" if e.filename else _full_places(places or {})
            where += f" ({full})" if full else ""
            return (
                f"{SECTION}: {where}: {e.strerror or os.strerror(e.errno)} ({errno.errorcode[e.errno]}); make room "
                f"there and rerun the same command to resume"
            )
    return None
