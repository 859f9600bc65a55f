"""SIGTERM, SIGINT and SIGHUP end a run with an ``auto_hpo`` mode cleanly: the running trial is failed
("interrupted"), ``trials.csv`` is written from the storage, one line says how to go on, and the exit status is the
shell's (143 for SIGTERM, 130 for SIGINT, 129 for SIGHUP).

While a mode runs, SIGINT raises :class:`KeyboardInterrupt` and SIGTERM and SIGHUP (a closed terminal, an ssh
session that dropped) raise :class:`Terminated` (a ``KeyboardInterrupt``, so every ``except KeyboardInterrupt``
cleanup of ours, Optuna's or Data-Juicer's runs for it too). The sweep engine fails the trial it was running on any
``BaseException`` and re-raises; the sweep mode writes ``trials.csv`` on the way out; :func:`interruptible` prints
the line and exits. The first signal decides: any later one (a second Ctrl-C while the run winds down) is ignored,
so it can neither cut the clean-up short nor change the exit status.

A signal is never lost: one that arrives while the main thread forks is raised once the fork is over (fork hooks
hold logging locks), one a just-forked child gets before its fork hook ran is sent to it again once the hook has
run, one raised where Python cannot propagate it is delivered again, and one whose exception a
library swallowed is raised again between the run's phases (:func:`raise_if_interrupted`). Processes that other
libraries fork get the handlers back that the process had before the run; the sweep's own workers take the run's
(:func:`handle_in_worker`).

Forked workers die with their parent (:func:`die_with_parent`): when the parent is killed (``kill -9``, the OOM
killer), each worker gets SIGTERM, fails its trial and ends, instead of running the sweep on alone.
"""

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

from loguru import logger

__all__ = [
    "Terminated",
    "interruptible",
    "exit_code",
    "die_with_parent",
    "handle_in_worker",
    "raise_if_interrupted",
    "LINE",
    "SIGNALS",
]

LINE = "auto_hpo: interrupted; rerun the same command to resume"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_REDELIVER_S = 0.05
_state: dict = {
    "active": False,  # a run's handlers are installed
    "fork_hooks": False,
    "forking": 0,  # the main thread is inside os.fork's hooks
    "forker": None,  # the pid of the process that forks
    "deferred": None,  # a signal that arrived meanwhile
    "child_pending": None,  # a signal a just-forked child got before its fork hook ran
    "received": None,  # the first signal of the run (it decides)
    "previous": {},  # the handlers before the run
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP: :attr:`signum`) arrived while a mode ran."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The shell's exit status for a run ended by ``interrupt``: 128 + the signal's number."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


def _ignore_later(signum, frame) -> None:
    pass


def _interrupt(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _deliver_again(signum: int) -> None:
    """Send ``signum`` to the main thread again in a moment, from a timer thread (the moment it could not be raised
    in is over by then)."""
    again = threading.Timer(_REDELIVER_S, signal.pthread_kill, (threading.main_thread().ident, signum))
    again.daemon = True
    again.start()


def _unraisable(args) -> None:
    """A signal's exception raised where Python cannot propagate it (a finalizer, a fork hook) would be printed and
    lost; it is delivered again a moment later instead. Any other unraisable exception goes to the hook that was
    there before."""
    if isinstance(args.exc_value, KeyboardInterrupt) and _state["active"]:
        signum = getattr(args.exc_value, "signum", signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, _on_signal)  # the lost signal was the first: it still decides
        _deliver_again(signum)
        return
    _state.get("unraisable", sys.__unraisablehook__)(args)


def _before_fork() -> None:
    """Before the main thread forks (Data-Juicer's and datasets' worker pools), a signal waits for the fork to end:
    logging's and loguru's fork hooks hold every handler's lock around it, and an exception raised inside one of
    them would leave a lock held (the next log line hangs) and be lost."""
    if threading.current_thread() is threading.main_thread():
        _state["forking"] += 1
        _state["forker"] = os.getpid()


def _after_fork_in_parent() -> None:
    if threading.current_thread() is threading.main_thread() and _state["forking"]:
        _state["forking"] -= 1
        if not _state["forking"] and _state["deferred"] is not None:
            signum, _state["deferred"] = _state["deferred"], None
            _deliver_again(signum)


def _after_fork_in_child() -> None:
    """A forked child is another library's worker (a pool of Data-Juicer's or datasets'): it gets back the handlers
    the process had before the run (so a pool's ``terminate`` ends it, as it expects); the sweep's own workers
    take the run's handling again (:func:`handle_in_worker`).

    A signal the child got before this hook ran (a pool terminated the moment it forked its worker) is sent again
    once the handlers are back, so the child acts on it as it expects (a pool worker dies of SIGTERM) instead of
    losing it: the parent's ``terminate`` would otherwise wait for that worker forever."""
    pending = _state["child_pending"]
    _state.update(forking=0, forker=None, deferred=None, received=None, child_pending=None)
    if _state["active"]:
        for signum, handler in _state["previous"].items():
            signal.signal(signum, handler)
        sys.unraisablehook = _state.get("unraisable", sys.__unraisablehook__)
        _state["active"] = False
    if pending is not None:
        os.kill(os.getpid(), pending)


def _register_fork_hooks() -> None:
    """Once per process, when a run first becomes interruptible: the hooks registered last run first before a fork
    and last after it, so they enclose every other library's fork hooks."""
    if not _state["fork_hooks"] and hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
        )
        _state["fork_hooks"] = True


def _on_signal(signum, frame):
    if _state["forking"] and _state["forker"] != os.getpid():  # a child before its fork hook: sent again by it
        _state["child_pending"] = _state["child_pending"] or signum
        return
    if _state["forking"]:  # inside a fork's hooks: raised once the fork is over
        _state["deferred"] = _state["deferred"] or signum
        return
    if _state["received"] is None:
        _state["received"] = signum
    for later in SIGNALS:  # the first signal decides the outcome; the clean-up it starts runs to its end
        signal.signal(later, _ignore_later)
    raise _interrupt(_state["received"])


def raise_if_interrupted() -> None:
    """Raise the run's interrupt again when a signal arrived but its exception was swallowed on the way (a
    library's ``except BaseException``, a worker pool's clean-up): called between the phases of a run, so a signal
    is never lost."""
    if _state["active"] and _state["received"] is not None:
        raise _interrupt(_state["received"])


def _install() -> None:
    _state["previous"] = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    _state.setdefault("unraisable", sys.unraisablehook)
    sys.unraisablehook = _unraisable
    _register_fork_hooks()
    _state["active"] = True


def handle_in_worker() -> None:
    """In a sweep's forked worker: handle the signals as the run does (a worker's trial is failed "interrupted")."""
    _install()


@contextlib.contextmanager
def interruptible(exit_on_interrupt: bool = True):
    """While the block runs, SIGINT raises :class:`KeyboardInterrupt`, SIGTERM and SIGHUP :class:`Terminated`; an
    interrupt escaping the block prints :data:`LINE` and exits 143, 130 or 129 when ``exit_on_interrupt``, else
    propagates; so does an error that escapes the block after a signal (the signal's exception was replaced on the
    way). After a signal that ends the process, later ones stay ignored until it has ended; one that
    propagates (a caller of the library's) gives the previous handlers back."""
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signal handlers belong to the main thread
        _install()
        previous = _state["previous"]
    interrupted = False
    try:
        yield
        raise_if_interrupted()  # a signal whose exception was swallowed still ends the run as a signal does
    except Exception as error:  # after a signal, an error of the unwinding (a pool's clean-up) is the signal's
        if not (_state["active"] and _state["received"] is not None):
            raise
        interrupted = True
        if not exit_on_interrupt:
            raise _interrupt(_state["received"]) from error
        _exiting()
        raise SystemExit(exit_code(_interrupt(_state["received"]))) from None
    except KeyboardInterrupt as interrupt:
        interrupted = True
        if not exit_on_interrupt:
            raise
        _exiting()
        raise SystemExit(exit_code(interrupt)) from None
    finally:
        if previous and not (interrupted and exit_on_interrupt):
            for signum, handler in previous.items():
                if signal.getsignal(signum) in (_on_signal, _ignore_later):
                    signal.signal(signum, handler)
            sys.unraisablehook = _state.pop("unraisable", sys.__unraisablehook__)
            _state.update(active=False, received=None)


def die_with_parent(parent: int, signum: int = signal.SIGTERM) -> None:
    """In a forked worker: receive ``signum`` when the parent process dies (Linux ``PR_SET_PDEATHSIG``); a parent
    gone before the call (``parent`` is its pid) sends it at once. Elsewhere the worker watches nothing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    except (OSError, AttributeError) as e:  # not Linux: the worker ends when its pipe to the parent breaks
        logger.debug(f"auto_hpo: a worker cannot die with its parent here ({e})")
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


def _exiting() -> None:
    """The process ends on the first signal: print :data:`LINE`, and ignore later signals at the kernel's level. A
    Python handler would not do: the interpreter's finalisation gives every signal with a Python handler its default
    action back before it unloads the modules (a few hundred milliseconds with Data-Juicer's), so a second Ctrl-C
    then would kill the process and change its exit status."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
    _end_stray_children()
    _print_line()


def _end_stray_children(grace_s: float = 5.0) -> None:
    """End the child processes of ``multiprocessing`` (and of ``multiprocess``, the fork of it that ``datasets``
    uses) still running when the process ends on a signal. A signal that lands while a library starts a helper
    process -- a ``Manager``'s server, forked before its clean-up is registered -- leaves that child behind, and the
    interpreter's exit would wait for it forever. Each gets SIGTERM, then SIGKILL after ``grace_s``."""
    children = []
    for name in ("multiprocessing", "multiprocess"):
        module = sys.modules.get(name)
        if module is not None:
            children += module.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace_s
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(1.0)


def _print_line() -> None:
    try:  # Data-Juicer's log handlers write from a queue: let them finish so the line comes last

        logger.complete()
    except Exception:  # noqa: BLE001
        pass
    stream = sys.__stderr__ or sys.stderr
    stream.write(LINE + "\n")
    stream.flush()
