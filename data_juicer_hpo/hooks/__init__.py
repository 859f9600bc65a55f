"""Every place data-juicer-hpo touches Data-Juicer internals, one module per patch point.

Each hook module has ``NAME``, ``check()`` (what it patches exists with the expected shape; ``None`` or what is
missing), ``install()`` and ``uninstall()``. Two phases:

- :func:`install`, when Data-Juicer loads the plugin (``ops/entry.py``): only the config parser gets the
  ``auto_hpo`` section (:mod:`.parser`). Recipes without ``auto_hpo`` run exactly as without the plugin.
- :func:`activate`, when a parsed config has an ``auto_hpo`` mode: every other hook is checked, then installed --
  the checks before anything is written (:mod:`.config_checks`), the executors (:mod:`.executors`), the install
  guard (:mod:`.install_guard`), secret redaction in logs and config outputs (:mod:`.log_redaction`,
  :mod:`.config_outputs`) and in crash output (:mod:`.crash_redaction`), the export written atomically
  (:mod:`.atomic_export`), log files that fail without hanging the run (:mod:`.log_sink_errors`). A hook whose
  target does not match refuses the run in one line naming the Data-Juicer version and the missing piece.
"""

import os
from typing import Optional

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.hooks import (
    atomic_export,
    config_checks,
    config_outputs,
    crash_redaction,
    executors,
    install_guard,
    log_redaction,
    log_sink_errors,
    parser,
)
from data_juicer_hpo.hooks._base import clear as clear_mismatches
from data_juicer_hpo.hooks._base import mismatches, note_mismatch, refusal
from data_juicer_hpo.redaction import register_secrets, secrets_of

__all__ = ["install", "uninstall", "is_installed", "activate", "mismatches", "RUN_HOOKS", "BLOCK_INSTALLS_ENV"]

# crash_redaction after log_redaction: its loguru patcher replaces (and does the work of) the message-only one
RUN_HOOKS = (
    config_checks,
    config_outputs,
    executors,
    install_guard,
    log_redaction,
    crash_redaction,
    atomic_export,
    log_sink_errors,
)
# Data-Juicer 1.6 installs torch (a multi-GB CUDA build) at run time after every op when torch is missing; we leave
# recipes without auto_hpo alone, but a user (and our tests) can opt in to the guard for every recipe.
BLOCK_INSTALLS_ENV = "DJ_HPO_BLOCK_RUNTIME_INSTALLS"
_state = {"installed": False, "active": False}


def install() -> None:
    """Give Data-Juicer's parser the ``auto_hpo`` section. Idempotent."""
    if _state["installed"]:
        return
    problem = parser.check()
    if problem:
        note_mismatch(parser.NAME, problem)
    else:
        parser.install(on_mode=activate)
    if os.environ.get(BLOCK_INSTALLS_ENV, "").lower() in ("1", "true", "yes"):
        problem = install_guard.check()
        if problem:
            note_mismatch(install_guard.NAME, problem)
        else:
            install_guard.install()
    _state["installed"] = True


def activate(section: Optional[dict] = None, cfg=None) -> None:
    """Install the hooks of a run with an ``auto_hpo`` mode (idempotent), or refuse in one line; the secrets of
    its config (the storage URL's password, ``ray_address``'s) and of the environment are masked from now on."""
    if not _state["active"]:
        for hook in RUN_HOOKS:
            problem = hook.check()
            if problem:
                note_mismatch(hook.NAME, problem)
        line = refusal()
        if line:
            raise AutoHpoError(line)
        for hook in RUN_HOOKS:
            hook.install()
        _state["active"] = True
    if section is not None:
        ray_address = cfg.get("ray_address") if hasattr(cfg, "get") else None
        register_secrets(secrets_of(section.get("storage"), ray_address))


def uninstall() -> None:
    """Undo :func:`install` and :func:`activate` (tests)."""
    for hook in reversed(RUN_HOOKS):
        hook.uninstall()
    parser.uninstall()
    clear_mismatches()
    _state.update(installed=False, active=False)


def is_installed() -> bool:
    return _state["installed"]


def is_active() -> bool:
    return _state["active"]
