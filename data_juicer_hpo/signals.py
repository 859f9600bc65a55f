"""SIGTERM and SIGINT end a run with an ``auto_hpo`` mode cleanly: the running trial is failed ("interrupted"),
``trials.csv`` is written from the storage, one line says how to go on, and the exit status is the shell's
(143 for SIGTERM, 130 for SIGINT).

SIGINT already raises :class:`KeyboardInterrupt`; while a mode runs, SIGTERM raises :class:`Terminated` (a
``KeyboardInterrupt``, so every ``except KeyboardInterrupt`` cleanup of ours, Optuna's or Data-Juicer's runs for
it too). The sweep engine fails the trial it was running on any ``BaseException`` and re-raises; the sweep mode
writes ``trials.csv`` on the way out; :func:`interruptible` prints the line and exits.
"""

import contextlib
import signal
import sys
import threading

from loguru import logger

__all__ = ["Terminated", "interruptible", "EXIT_CODES", "LINE"]

LINE = "auto_hpo: interrupted; rerun the same command to resume"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while a mode ran."""


EXIT_CODES = {Terminated: 128 + signal.SIGTERM, KeyboardInterrupt: 128 + signal.SIGINT}


def _on_sigterm(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def interruptible(exit_on_interrupt: bool = True):
    """While the block runs, SIGTERM raises :class:`Terminated`; an interrupt escaping the block prints
    :data:`LINE` and exits 143 (SIGTERM) or 130 (SIGINT) when ``exit_on_interrupt``, else propagates."""
    previous = None
    if threading.current_thread() is threading.main_thread():  # signal handlers belong to the main thread
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    except KeyboardInterrupt as interrupt:
        if not exit_on_interrupt:
            raise
        _print_line()
        code = EXIT_CODES[Terminated] if isinstance(interrupt, Terminated) else EXIT_CODES[KeyboardInterrupt]
        raise SystemExit(code) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _print_line() -> None:
    try:  # Data-Juicer's log handlers write from a queue: let them finish so the line comes last

        logger.complete()
    except Exception:  # noqa: BLE001
        pass
    stream = sys.__stderr__ or sys.stderr
    stream.write(LINE + "\n")
    stream.flush()
