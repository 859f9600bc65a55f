"""Hook: no secret in any crash output of a run with an ``auto_hpo`` mode.

:mod:`.log_redaction` masks log *messages*; a crash carries secrets elsewhere. ``dj-process`` wraps its main in
loguru's ``logger.catch``, and every handler Data-Juicer adds (stderr, ``log.txt``, the serialized
``*_ERROR.txt``...) formats a caught exception with loguru's ``diagnose``: the value of every local variable of
every frame, ``cfg`` with its storage URL included, cut at 128 characters -- so a password can even leak half
masked. Exception texts themselves may embed a URL (SQLAlchemy's, Optuna's storage errors, a user objective's).

So, while a mode runs:

- a loguru patcher (it applies to every handler, Data-Juicer's added later included) renders a record's exception
  itself, as Python's plain traceback (frames and source lines, no variable values), masks it like a message
  and appends it to the message; the record then carries no exception for the handlers to format. The message
  itself is masked as :mod:`.log_redaction` does (a patcher replaces the previous one, so this one does both);
- ``sys.excepthook`` and ``threading.excepthook`` print masked tracebacks (an error escaping ``dj-process`` or a
  thread would otherwise reach stderr untouched).
"""

import sys
import threading
import traceback
from typing import Optional

from loguru import logger

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.redaction import redact

__all__ = ["check", "install", "uninstall", "redacted_traceback"]

NAME = "crash redaction"
_saved: dict = {}


def redacted_traceback(exc_type, value, tb) -> str:
    """The plain Python traceback of an exception (chained causes included), every secret masked."""

    return redact("".join(traceback.format_exception(exc_type, value, tb)))


def _patch(record) -> None:
    message = redact(record["message"])
    exception = record["exception"]
    if exception:
        text = redacted_traceback(exception.type, exception.value, exception.traceback).rstrip("\n")
        message = f"{message}\n{text}" if message else text
        record["exception"] = None
    record["message"] = message


def _excepthook(exc_type, value, tb) -> None:
    stream = sys.stderr or sys.__stderr__
    try:
        stream.write(redacted_traceback(exc_type, value, tb))
        stream.flush()
    except Exception:  # noqa: BLE001  (a closed stream at exit: nothing else to print to)
        pass


def _thread_excepthook(args) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    stream = sys.stderr or sys.__stderr__
    try:
        text = redacted_traceback(args.exc_type, args.exc_value, args.exc_traceback)
        stream.write(f"Exception in thread {name}:\n{text}")
        stream.flush()
    except Exception:  # noqa: BLE001
        pass


def check() -> Optional[str]:

    return expect(logger, "configure", "loguru.logger.configure") or expect(
        threading, "excepthook", "threading.excepthook"
    )


def install() -> None:
    if _saved:
        return
    _saved.update(sys=sys.excepthook, threading=threading.excepthook)
    logger.configure(patcher=_patch)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def uninstall() -> None:
    if not _saved:
        return

    logger.configure(patcher=lambda record: None)  # hooks are undone together, in reverse order (tests)
    sys.excepthook = _saved["sys"]
    threading.excepthook = _saved["threading"]
    _saved.clear()
