"""The one user-error type of data-juicer-hpo, and how it reaches a user of ``dj-process``."""

import contextlib
import sys
from typing import Iterable

__all__ = ["AutoHpoError", "raise_if_any", "reported", "print_problems", "inside_dj_process"]


class AutoHpoError(Exception):
    """Bad user input: one line per problem, each naming the key and what is wrong.

    An ordinary exception, so a notebook or library caller catches it with ``except Exception``. ``dj-process``
    (see :func:`reported`) and the scripts turn it into its lines on stderr and exit status 1, no traceback.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(f"error: {p}" for p in self.problems))

    def __str__(self):
        return "; ".join(self.problems)


def print_problems(err: AutoHpoError) -> None:
    """Write the error lines once to the process's real stderr.

    Data-Juicer redirects ``sys.stderr`` into its logger once the run has started, and its log handlers write from
    a queue: let them finish first, so that lines do not interleave, then write to the real stream.
    """
    if getattr(err, "_reported", False):
        return
    try:
        from loguru import logger

        logger.complete()
    except Exception:  # noqa: BLE001
        pass
    stream = sys.__stderr__ or sys.stderr
    stream.flush()
    stream.write("\n".join(f"error: {p}" for p in err.problems) + "\n")
    stream.flush()
    err._reported = True


def _inside_dj_process() -> bool:
    """Whether this call runs under Data-Juicer's ``dj-process`` main (``tools/process_data.py``)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "main" and str(frame.f_globals.get("__name__", "")).endswith("process_data"):
            return True
        frame = frame.f_back
    return False


def inside_dj_process() -> bool:
    """Whether the caller runs under Data-Juicer's ``dj-process`` main (it owns the process: may exit it)."""
    return _inside_dj_process()


@contextlib.contextmanager
def reported():
    """At a place where Data-Juicer calls into the plugin: under ``dj-process``, an escaping
    :class:`AutoHpoError` becomes its lines on stderr and exit status 1 (``dj-process`` wraps its main in
    loguru's ``logger.catch``, which would print a traceback of any :class:`Exception`); elsewhere it propagates.
    """
    try:
        yield
    except AutoHpoError as err:
        if not _inside_dj_process():
            raise
        print_problems(err)
        raise SystemExit(1) from None


def exception_chain(exc: BaseException):
    """The exception, its causes and contexts, and the driver errors SQLAlchemy wraps (``.orig``), each once."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([e.__cause__, e.__context__, getattr(e, "orig", None)])


def raise_if_any(problems: Iterable[str]) -> None:
    """Raise one :class:`AutoHpoError` carrying every collected problem, if there is any."""
    problems = list(problems)
    if problems:
        raise AutoHpoError(problems)
