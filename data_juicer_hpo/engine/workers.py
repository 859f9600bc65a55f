"""Which worker runs a trial, and whether it still lives: interrupted trials are failed at once on their machine.

Each trial is made with a ``worker`` user attribute (:func:`new_trial`, one transaction): ``host`` (the hostname),
``pid``, ``started`` (the process's start time, so that a recycled pid is not taken for the dead worker), ``node``
(hostname, boot id and pid namespace: the processes whose pids this process can check) and ``label`` (``w1``,
``w2``... in logs). A worker only ever finishes its own trials (:func:`finish_own`) and fails those of dead workers.

A RUNNING trial whose ``node`` is ours and whose process is gone (or a zombie, or another process now holding
its pid) was interrupted (``kill -9``, OOM killer, a crashed child): it is failed at once, with the error
``interrupted: ...``. Trials of other nodes are left to the heartbeat grace period (see
:mod:`~data_juicer_hpo.engine.storage`). A trial of this very process is alive while the engine runs it.
"""

import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any, Dict, Optional, Set, Tuple

import optuna
from loguru import logger
from optuna.trial import TrialState

from data_juicer_hpo.engine.trial import CLAIM_ATTR, ERROR_ATTR, PARAMS_ATTR, WORKER_ATTR
from data_juicer_hpo.imports import lazy_import, module_installed

# optional: without it a zombie or a recycled pid cannot be told from a live worker
psutil = lazy_import("psutil") if module_installed("psutil") else None

__all__ = [
    "WORKER_ATTR",
    "INTERRUPTED",
    "identity",
    "process_gone",
    "owner_is_gone",
    "new_trial",
    "finish_own",
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


def process_gone(worker: Optional[Dict[str, Any]]) -> Optional[bool]:
    """Whether the process of a ``worker`` identity is gone (True) or alive (False); None when this process cannot
    know (no identity, or a process of another node)."""
    if (
        not isinstance(worker, dict)
        or worker.get("node") != identity()["node"]
        or not isinstance(worker.get("pid"), int)
    ):
        return None
    return not _process_alive(worker["pid"], worker.get("started"))


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


def new_trial(study, storage, study_id: int, user_attrs: Dict[str, Any], outage) -> int:
    """A new RUNNING trial carrying ``user_attrs`` from its first moment -- its ``worker`` and its claim token
    (``CLAIM_ATTR``) among them -- made in one transaction, so no other worker ever sees it untagged; its storage id.

    A creation whose commit reached the server just before the connection dropped is found by its token rather than
    made again; should a retry have made two (Optuna retries the creation itself too), the later ones, which this
    process made and never runs, are failed at once.
    """
    token = user_attrs[CLAIM_ATTR]
    template = optuna.trial.FrozenTrial(
        number=0,
        state=TrialState.RUNNING,
        value=None,
        datetime_start=datetime.now(),
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs=user_attrs,
        system_attrs={},
        intermediate_values={},
        trial_id=0,
    )

    def made():  # read through the study: Optuna's cache of its trials learns of the new one too
        trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        return sorted((t for t in trials if t.user_attrs.get(CLAIM_ATTR) == token), key=lambda t: t.number)

    outage.call(lambda: storage.create_new_trial(study_id, template_trial=template), done=made, what="asking a trial")
    first, *again = made()
    for twin in again:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, twin.number)
        storage.set_trial_user_attr(trial_id, ERROR_ATTR, f"{INTERRUPTED}: a retried storage call made it twice")
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
    return storage.get_trial_id_from_study_id_trial_number(study_id, first.number)


def finish_own(study, storage, trial, trial_id: int, state, error: Optional[str] = None, values=None) -> bool:
    """Finish this worker's own ``trial`` in ``state`` (with ``error``); False, and a warning, when it has ended
    already -- another worker judged this one dead (a heartbeat gone stale in a long stall) and failed it -- so its
    result is dropped instead of crashing the worker (Optuna: "Cannot tell a FAIL trial")."""
    try:
        if error is not None:
            trial.set_user_attr(ERROR_ATTR, error)
        study.tell(trial, values, state=state)
        return True
    except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
        stored = storage.get_trial(trial_id)
        if not stored.state.is_finished():
            raise
    why = stored.user_attrs.get(ERROR_ATTR) or stored.state.name
    logger.warning(f"trial #{trial.number} was ended by another worker meanwhile ({why}); its result is dropped")
    return False


def fail_interrupted(study, storage, study_id: int, url: str, grace_period: float) -> int:
    """Fail every RUNNING trial of ``study`` (kept in ``storage``) whose worker is known dead, with its
    ``interrupted: ...`` error; return how many. Called under the study's lock (see :mod:`.locking`), though it does
    not rely on it: only the trials of dead workers are failed, never a live one.

    A trial is tagged with its worker from its first moment (:func:`new_trial`), so one without a ``worker`` attribute
    comes from elsewhere (an older version of this engine, a plain ``study.ask()``): it is failed once it is older than
    ``grace_period`` seconds (the engines that made such trials tagged them at once).
    """

    name = study.study_name
    reaped = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if WORKER_ATTR in trial.user_attrs:
            why = owner_is_gone(trial.user_attrs[WORKER_ATTR], url, name, trial.number)
        else:
            why = _untagged_is_gone(trial, grace_period)
        if why is None:
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            storage.set_trial_user_attr(trial_id, ERROR_ATTR, why)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:  # it finished meanwhile
            continue
        logger.warning(f"trial #{trial.number} failed: {why} params={trial.user_attrs.get(PARAMS_ATTR, {})}")
        reaped += 1
    return reaped


def _untagged_is_gone(trial, grace_period: float) -> Optional[str]:
    started = trial.datetime_start
    if started is None or datetime.now() - started < timedelta(seconds=grace_period):
        return None
    return f"{INTERRUPTED}: its worker never tagged it in {grace_period:g} s"
