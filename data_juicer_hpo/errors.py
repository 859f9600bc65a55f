"""The one user-error type of data-juicer-hpo, and how it reaches a user of ``dj-process``."""

import contextlib
import errno
import os
import sys
from typing import Dict, Iterable, Optional, Sequence

from loguru import logger

__all__ = [
    "AutoHpoError",
    "raise_if_any",
    "reported",
    "print_problems",
    "inside_dj_process",
    "script_main",
    "wants_help",
    "exception_chain",
    "write_failure",
    "full_places",
    "full_disk_is_one_line",
]

SECTION = "auto_hpo"


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


def wants_help(argv: Sequence[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv)


def script_main(run, usage: str, argv: Optional[Sequence[str]] = None) -> int:
    """A command's main (the scripts, ``python -m data_juicer_hpo.label``): its own ``--help``; ``run(argv)``; an
    :class:`AutoHpoError` as one line per problem and exit status 1 (no traceback); anything else keeps its
    traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if wants_help(argv):
        sys.stdout.write(usage)
        return 0
    try:
        run(argv)
    except AutoHpoError as err:
        print_problems(err)
        return 1
    return 0


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


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def full_places(places: Dict[str, Optional[str]], min_free: int = 2**20) -> str:
    """``path (keys) is full`` per filesystem with less than ``min_free`` bytes left among ``places`` (key ->
    existing path), e.g. for a failed write that names no file (the shortest path of each filesystem is shown)."""
    full: Dict[int, tuple] = {}
    for key, path in places.items():
        try:
            stat, device = (os.statvfs(path), os.stat(path).st_dev) if path else (None, None)
        except OSError:
            continue
        if stat is not None and stat.f_bavail * stat.f_frsize < min_free:
            shown, keys = full.get(device, (os.path.abspath(path), []))
            full[device] = (min(shown, os.path.abspath(path), key=len), keys + [key])
    return "; ".join(f"{shown} ({', '.join(keys)}) is full" for shown, keys in full.values())


def full_disk_error(exc: BaseException) -> Optional[OSError]:
    """The write that failed for lack of room (a full disk, a quota, a file-size limit), found anywhere in the
    exception's chain (Data-Juicer and Hugging Face datasets re-raise with their own types); else None."""
    return next((e for e in exception_chain(exc) if isinstance(e, OSError) and e.errno in _FULL), None)


def write_failure(exc: BaseException, places: Optional[Dict[str, Optional[str]]] = None) -> Optional[str]:
    """One line for a write that failed for lack of room (:func:`full_disk_error`); else None. A failed ``write``
    names no file: then the ``places`` (key -> directory) on a full filesystem are named."""
    e = full_disk_error(exc)
    if e is None:
        return None
    where = f"cannot write {e.filename}" if e.filename else "a write failed"
    full = "" if e.filename else full_places(places or {})
    where += f" ({full})" if full else ""
    return (
        f"{SECTION}: {where}: {e.strerror or os.strerror(e.errno)} ({errno.errorcode[e.errno]}); make room "
        f"there and rerun the same command to resume"
    )


@contextlib.contextmanager
def full_disk_is_one_line(places: Optional[Dict[str, Optional[str]]] = None):
    """While the block runs, a write that fails for lack of room (anywhere in the exception's chain) becomes one
    :class:`AutoHpoError` line (:func:`write_failure`); other errors pass unchanged."""
    try:
        yield
    except Exception as e:
        line = write_failure(e, places)
        if line is None:
            raise
        raise AutoHpoError(line) from None
