"""Hook: a log file that cannot be written (a full disk) never hangs a run with an ``auto_hpo`` mode.

Data-Juicer's log handlers write from a queue (loguru ``enqueue=True``), and it redirects ``sys.stderr`` into its
logger. When a log file's write fails (ENOSPC), loguru reports the error by writing to ``sys.stderr`` -- from the
handler's own writer thread, so the report becomes a log record put into the queue that only that blocked thread
drains: once the pipe behind the queue is full, the writer waits on itself and every logging call of the run
waits on the writer. Plain ``dj-process`` hangs the same way (``loguru/_error_interceptor.py`` and
``data_juicer/utils/logger_utils.py: StreamToLoguru``).

While a mode runs, a failing handler is reported once, in one line on the process's real stderr (never through
the logger), and its later failures are dropped silently: the run goes on, and ends with its own one-line error
when the disk is also where its outputs go. The same for the standard library's ``logging`` (W&B's debug logs in
``output_dir/wandb``): ``logging.raiseExceptions`` is off, so a handler that cannot write prints no
``--- Logging error ---`` traceback per record.
"""

import logging
import sys
from typing import Optional

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.redaction import redact

try:  # a private loguru module: its absence is a mismatch (see check), not a failure to import the plugin
    from loguru._error_interceptor import ErrorInterceptor
except ImportError:  # pragma: no cover
    ErrorInterceptor = None

__all__ = ["check", "install", "uninstall"]

NAME = "log sink errors"
_saved: dict = {}
_reported: set = set()


def _print(self, record=None, *, exception=None):
    handler = getattr(self, "_handler_id", None)
    if handler in _reported:
        return
    _reported.add(handler)
    error = exception if exception is not None else sys.exc_info()[1]
    stream = sys.__stderr__
    if stream is None:
        return
    try:
        what = f"{type(error).__name__}: {error}" if error is not None else "an unknown error"
        stream.write(
            redact(f"data-juicer-hpo: log handler #{handler} cannot write ({what}); its later lines are dropped\n")
        )
        stream.flush()
    except Exception:  # noqa: BLE001  (nowhere left to report to)
        pass


def check() -> Optional[str]:
    if ErrorInterceptor is None:
        return "loguru._error_interceptor.ErrorInterceptor not found"

    return expect(ErrorInterceptor, "print", "loguru ErrorInterceptor.print", ["self", "record"])


def install() -> None:
    if "print" in _saved:
        return
    _saved["print"] = ErrorInterceptor.print
    _saved["raise"] = logging.raiseExceptions
    ErrorInterceptor.print = _print
    logging.raiseExceptions = False


def uninstall() -> None:
    if "print" in _saved:
        ErrorInterceptor.print = _saved.pop("print")
        logging.raiseExceptions = _saved.pop("raise")
        _reported.clear()
