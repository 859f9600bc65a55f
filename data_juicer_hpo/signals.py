"""SIGTERM, SIGINT and SIGHUP end a run with an ``auto_hpo`` mode cleanly: the running trial is failed
("interrupted"), ``trials.csv`` is written from the storage, one line says how to go on, and the exit status is the
shell's (143 for SIGTERM, 130 for SIGINT, 129 for SIGHUP).

While a mode runs, SIGINT raises :class:`KeyboardInterrupt` and SIGTERM and SIGHUP (a closed terminal, an ssh
session that dropped) raise :class:`Terminated` (a ``KeyboardInterrupt``, so every ``except KeyboardInterrupt``
cleanup of ours, Optuna's or Data-Juicer's runs for it too). The sweep engine fails the trial it was running on any
``BaseException`` and re-raises; the sweep mode writes ``trials.csv`` on the way out; :func:`interruptible` prints
the line and exits. The first signal decides: any later one (a second Ctrl-C while the run winds down) is ignored,
so it can neither cut the clean-up short nor change the exit status.

Forked workers die with their parent (:func:`die_with_parent`): when the parent is killed (``kill -9``, the OOM
killer), each worker gets SIGTERM, fails its trial and ends, instead of running the sweep on alone.
"""

import contextlib
import ctypes
import os
import signal
import sys
import threading

from loguru import logger

__all__ = ["Terminated", "interruptible", "exit_code", "die_with_parent", "LINE", "SIGNALS"]

LINE = "auto_hpo: interrupted; rerun the same command to resume"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_REDELIVER_S = 0.05
_state: dict = {"active": False, "fork_hooks": False}


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


def _unraisable(args) -> None:
    """A signal's exception raised where Python cannot propagate it (an ``os.fork`` hook, a finalizer) would be
    printed and lost, and the run would go on; it is delivered again a moment later, from a timer thread to the main
    thread, once the hook is over. Any other unraisable exception goes to the hook that was there before."""
    if isinstance(args.exc_value, KeyboardInterrupt) and _state["active"]:
        signum = getattr(args.exc_value, "signum", signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, _on_signal)  # the lost signal was the first: it still decides
        again = threading.Timer(_REDELIVER_S, signal.pthread_kill, (threading.main_thread().ident, signum))
        again.daemon = True
        again.start()
        return
    _state.get("unraisable", sys.__unraisablehook__)(args)


def _block_for_fork() -> None:
    """Before ``os.fork`` (Data-Juicer's and datasets' worker pools fork): the signals wait until the fork is over,
    so none is handled while a fork hook holds a logging lock (logging's and loguru's hooks take every handler's lock
    around the fork: a signal's exception there would leave one held, and the next log line would hang)."""
    if _state["active"]:
        _state["mask"] = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


def _unblock_after_fork() -> None:
    mask = _state.pop("mask", None)
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _register_fork_hooks() -> None:
    """Once per process, when a run first becomes interruptible: the hooks registered last run first before a fork
    and last after it, so the signals are blocked around every other library's fork hooks."""
    if not _state["fork_hooks"] and hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_block_for_fork, after_in_parent=_unblock_after_fork, after_in_child=_unblock_after_fork
        )
        _state["fork_hooks"] = True


def _on_signal(signum, frame):
    for later in SIGNALS:  # the first signal decides the outcome; the clean-up it starts runs to its end
        signal.signal(later, _ignore_later)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt()
    raise Terminated(signum)


@contextlib.contextmanager
def interruptible(exit_on_interrupt: bool = True):
    """While the block runs, SIGINT raises :class:`KeyboardInterrupt`, SIGTERM and SIGHUP :class:`Terminated`; an
    interrupt escaping the block prints :data:`LINE` and exits 143, 130 or 129 when ``exit_on_interrupt``, else
    propagates. After a signal that ends the process, later ones stay ignored until it has ended; one that
    propagates (a caller of the library's) gives the previous handlers back."""
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signal handlers belong to the main thread
        previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
        _state.setdefault("unraisable", sys.unraisablehook)
        sys.unraisablehook = _unraisable
        _register_fork_hooks()
        _state["active"] = True
    interrupted = False
    try:
        yield
    except KeyboardInterrupt as interrupt:
        interrupted = True
        if not exit_on_interrupt:
            raise
        _print_line()
        raise SystemExit(exit_code(interrupt)) from None
    finally:
        if previous and not (interrupted and exit_on_interrupt):
            for signum, handler in previous.items():
                if signal.getsignal(signum) is _on_signal:
                    signal.signal(signum, handler)
            sys.unraisablehook = _state.pop("unraisable", sys.__unraisablehook__)
            _state["active"] = False


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


def _print_line() -> None:
    try:  # Data-Juicer's log handlers write from a queue: let them finish so the line comes last

        logger.complete()
    except Exception:  # noqa: BLE001
        pass
    stream = sys.__stderr__ or sys.stderr
    stream.write(LINE + "\n")
    stream.flush()
