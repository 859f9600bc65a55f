"""Local worker processes of one sweep: ``n - 1`` forked children and this process, each running ``work``.

Forked, not spawned: the children share the parent's loaded dataset and precomputed statistics copy-on-write.
So the parent must fork before it opens anything that cannot cross a fork -- a SQLAlchemy engine, a W&B run, a
heartbeat thread -- and each worker opens its own storage connection and study lock inside ``work``.

A child reports back through its own pipe, read while waiting for every child to exit, so a child never blocks
on a full pipe and a child that dies (``kill -9``, OOM killer) is seen as an exit without report: nothing waits
for it. A child whose ``work`` raises logs the traceback, sets the shared stop flag (the others end after their
current trial) and exits 1. A child dies with its parent (:func:`~data_juicer_hpo.signals.die_with_parent`): when
the parent is killed, every child gets SIGTERM, fails its trial "interrupted" and ends, rather than sweep on alone.
"""

import multiprocessing
import os
import signal
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, List, Optional, Tuple

from loguru import logger

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.signals import die_with_parent, handle_in_worker

__all__ = ["WorkerExit", "WorkerError", "run_workers", "worker_label"]


class WorkerError(RuntimeError):
    """A child worker's ``work`` raised; its traceback is in the log."""


def worker_label(index: int) -> str:
    """``w1`` for this process (index 0), ``w2``... for the children."""
    return f"w{index + 1}"


@dataclass
class WorkerExit:
    """How a child worker ended: its ``work``'s return value, or the error it raised, or neither (it died)."""

    index: int
    pid: int
    exitcode: Optional[int]
    result: Any = None
    error: Optional[str] = None
    reported: bool = False
    problems: Optional[List[str]] = None  # the lines of a user error (AutoHpoError, e.g. the storage lost)

    @property
    def label(self) -> str:
        return worker_label(self.index)

    @property
    def died(self) -> bool:
        """Ended without a report: killed, or crashed below Python."""
        return not self.reported

    def describe(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                how = f"killed by {signal.Signals(-self.exitcode).name}"
            except ValueError:
                how = f"killed by signal {-self.exitcode}"
        else:
            how = f"exit status {self.exitcode}"
        return f"worker {self.label} (pid {self.pid}) died ({how})"


class _NoStop:
    def is_set(self) -> bool:
        return False

    def set(self) -> None:
        pass


def _child(work, index: int, stop, conn, parent: int) -> None:
    try:
        handle_in_worker()  # a fork gets the handlers of before the run back: this worker is the run's
        die_with_parent(parent)
        message = ("ok", work(index, stop))
        code = 0
    except KeyboardInterrupt as e:  # SIGINT / SIGTERM: its trial is failed "interrupted"; the parent says the rest
        stop.set()
        message, code = ("error", f"interrupted by {type(e).__name__}"), 130
    except AutoHpoError as e:  # one line, no traceback: the parent reports it the same way
        logger.error(f"auto_hpo[sweep]: worker {worker_label(index)} stopped: {e}")
        stop.set()
        message, code = ("problems", list(e.problems)), 1
    except BaseException as e:  # reported to the parent; the traceback stays in this worker's log
        logger.opt(exception=e).error(f"auto_hpo[sweep]: worker {worker_label(index)} stopped: {type(e).__name__}: {e}")
        stop.set()
        message, code = ("error", f"{type(e).__name__}: {e}"), 1
    try:
        conn.send(message)
    except OSError:  # the parent is gone: nobody to report to
        pass
    finally:
        conn.close()
    if code:
        raise SystemExit(code)


def run_workers(n_workers: int, work: Callable[[int, Any], Any]) -> Tuple[Any, List[WorkerExit]]:
    """Run ``work(index, stop)`` in ``n_workers`` processes and return (this process's result, the children's
    exits). Children ``1..n-1`` are forked first, then this process runs index 0, then waits for the children.

    ``stop`` is shared: ``stop.set()`` asks every worker to end after its current trial, ``stop.is_set()`` tells.
    If this process's own ``work`` raises, ``stop`` is set, the children are waited for, and the error propagates.
    """
    if n_workers <= 1:
        return work(0, _NoStop()), []
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    children = []
    for index in range(1, n_workers):
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(work, index, stop, sender, os.getpid()), name=worker_label(index))
        process.start()
        sender.close()  # else the pipe never reports EOF when the child dies
        children.append((index, process, receiver))
    try:
        own = work(0, stop)
    except BaseException:
        stop.set()
        _wait_for(children)
        raise
    return own, _wait_for(children)


def _wait_for(children) -> List[WorkerExit]:
    exits = {index: WorkerExit(index, process.pid, None) for index, process, _ in children}
    pending = {}
    for index, process, receiver in children:
        pending[process.sentinel] = (index, process)
        pending[receiver] = (index, receiver)
    while pending:
        for ready in wait(list(pending)):
            index, thing = pending.pop(ready)
            if isinstance(thing, multiprocessing.process.BaseProcess):
                thing.join()
                exits[index].exitcode = thing.exitcode
                continue
            try:
                kind, payload = thing.recv()
            except (EOFError, OSError):  # died before reporting
                thing.close()
                continue
            pending[ready] = (index, thing)  # read on until EOF
            exits[index].reported = True
            if kind == "ok":
                exits[index].result = payload
            elif kind == "problems":
                exits[index].problems = payload
                exits[index].error = "; ".join(payload)
            else:
                exits[index].error = payload
    return [exits[index] for index, _, _ in children]
