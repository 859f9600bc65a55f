"""Which worker runs a trial, and whether it still lives: interrupted trials are failed at once on their machine.

Each trial gets a ``worker`` user attribute when it is asked for: ``host`` (the hostname), ``pid``, ``started``
(the process's start time, so that a recycled pid is not taken for the dead worker), ``node`` (hostname, boot id
and pid namespace: the processes whose pids this process can check) and ``label`` (``w1``, ``w2``... in logs).

A RUNNING trial whose ``node`` is ours and whose process is gone (or a zombie, or another process now holding
its pid) was interrupted (``kill -9``, OOM killer, a crashed child): it is failed at once, with the error
``interrupted: ...``. Trials of other nodes are left to the heartbeat grace period (see
:mod:`~data_juicer_hpo.engine.storage`). A trial of this very process is alive while the engine runs it.
"""

import os
import socket
import threading
from typing import Any, Dict, Optional, Set, Tuple

import optuna
from loguru import logger
from optuna.trial import TrialState

from data_juicer_hpo.engine.trial import ERROR_ATTR, PARAMS_ATTR, WORKER_ATTR
from data_juicer_hpo.imports import lazy_import, module_installed

# optional: without it a zombie or a recycled pid cannot be told from a live worker
psutil = lazy_import("psutil") if module_installed("psutil") else None

__all__ = [
    "WORKER_ATTR",
    "INTERRUPTED",
    "identity",
    "owner_is_gone",
    "mark_running",
    "unmark_running",
    "fail_interrupted",
]

INTERRUPTED = "interrupted"  # prefix of the error of a trial whose worker stopped in its middle

# (masked storage URL, study, trial number) of the trials this process is running now; guarded by _LOCK.
_RUNNING_HERE: Set[Tuple[str, str, int]] = set()
_LOCK = threading.Lock()
_IDENTITY: Dict[int, Dict[str, Any]] = {}  # pid -> identity (a forked child computes its own)


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # another thread may have held it at the fork
    _RUNNING_HERE.clear()  # the parent's trials are not run by the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _node() -> str:
    pid_namespace = ""
    try:
        pid_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        pass
    return "|".join((socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), pid_namespace))


def _start_time(pid: int) -> Optional[float]:
    if psutil is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except Exception:  # the process gone: the pid alone must do
        return None


def identity(label: Optional[str] = None) -> Dict[str, Any]:
    """This process as stored in a trial's ``worker`` attribute."""
    pid = os.getpid()
    if pid not in _IDENTITY:
        _IDENTITY[pid] = {"host": socket.gethostname(), "pid": pid, "started": _start_time(pid), "node": _node()}
    return {**_IDENTITY[pid], "label": label}


def mark_running(url: str, study: str, number: int) -> None:
    """This process runs the trial from now on (until :func:`unmark_running`)."""
    with _LOCK:
        _RUNNING_HERE.add((url, study, number))


def unmark_running(url: str, study: str, number: int) -> None:
    with _LOCK:
        _RUNNING_HERE.discard((url, study, number))


def _process_alive(pid: int, started: Optional[float]) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    if psutil is None:  # the pid exists; without psutil a zombie or a recycled pid cannot be told apart
        return True
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # dead, not yet reaped by its parent
            return False
        return started is None or abs(process.create_time() - started) < 1.0
    except psutil.NoSuchProcess:  # gone meanwhile (ZombieProcess is one too)
        return False
    except psutil.Error:  # no access: it exists
        return True


def owner_is_gone(worker: Optional[Dict[str, Any]], url: str, study: str, number: int) -> Optional[str]:
    """Why the worker of a RUNNING trial is known to be dead (the ``interrupted: ...`` error), or None.

    None also when it cannot be known here: no ``worker`` attribute, or a worker of another node.
    """
    if not isinstance(worker, dict) or worker.get("node") != identity()["node"]:
        return None
    pid, started = worker.get("pid"), worker.get("started")
    if not isinstance(pid, int):
        return None
    label = f" {worker['label']}" if worker.get("label") else ""
    where = f"worker{label} (pid {pid} on {worker.get('host')})"
    me = identity()
    if pid == me["pid"] and (started is None or me["started"] is None or abs(started - me["started"]) < 1.0):
        with _LOCK:
            if (url, study, number) in _RUNNING_HERE:
                return None
        return f"{INTERRUPTED}: {where} left it unfinished"
    if _process_alive(pid, started):
        return None
    return f"{INTERRUPTED}: {where} is gone (killed?)"


def fail_interrupted(study, storage, study_id: int, url: str, exact_lock: bool) -> int:
    """Fail every RUNNING trial of ``study`` (kept in ``storage``) whose worker is known dead, with its
    ``interrupted: ...`` error; return how many. Called under the study's lock (see ``sweep.locking``).

    Under an exact lock a RUNNING trial without a ``worker`` attribute is failed too: the engine tags each trial
    right after asking for it, under the same lock, so such a trial's worker died in between and nothing else
    (no heartbeat either) would ever fail it.
    """

    name = study.study_name
    reaped = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if WORKER_ATTR in trial.user_attrs:
            why = owner_is_gone(trial.user_attrs[WORKER_ATTR], url, name, trial.number)
        else:
            why = f"{INTERRUPTED}: its worker died while asking for it" if exact_lock else None
        if why is None:
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            storage.set_trial_user_attr(trial_id, ERROR_ATTR, why)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:  # it finished after all (a best-effort lock)
            continue
        logger.warning(f"trial #{trial.number} failed: {why} params={trial.user_attrs.get(PARAMS_ATTR, {})}")
        reaped += 1
    return reaped
