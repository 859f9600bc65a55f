"""Mutual exclusion of the workers of one study, around "count the taken trials, pick a grid point, ask, tag".

Optuna's ``ask`` is not atomic with the engine's reading of the storage: two workers that both count 11 taken
trials under a cap of 12 would both ask, and two grid workers would both pick the first free point. The lock keeps
them apart in the common case; it is not what the engine's correctness rests on: a server's lock is gone with its
session when the connection drops, so each trial also claims its place in the database (:mod:`.claims`), and that
claim is what makes a point or a slot of the cap one trial's. Each storage backend gets the strongest lock it offers
across processes:

- PostgreSQL: a session-level ``pg_advisory_lock`` on a dedicated connection (AUTOCOMMIT, so it holds no
  transaction open), keyed by a hash of the study name. Workers on any machine exclude each other; the server
  releases the lock when a killed worker's connection drops.
- SQLite: ``fcntl.flock`` on ``<database file>.lock``. The kernel releases it when the holder dies. Only processes
  of one machine see it (a SQLite file is for one machine anyway).
- anything else: no lock; a warning says that the cap and the grid are then best-effort.

A lock is opened afresh in each process: a file descriptor or SQLAlchemy connection inherited through ``fork``
would be shared with the parent, so :class:`StudyLock` reconnects whenever its pid changed.
"""

import fcntl
import hashlib
import os
from typing import Callable, Dict, Optional

from loguru import logger
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from data_juicer_hpo.engine.retry import Outage
from data_juicer_hpo.engine.storage import connect_args, mask_url

__all__ = ["StudyLock", "study_lock", "advisory_key", "LOCKS"]


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def advisory_key(study_name: str) -> int:
    """A signed 64-bit key of the study for ``pg_advisory_lock`` (advisory keys are ``bigint``)."""
    digest = hashlib.blake2b(f"data_juicer_hpo:{study_name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class StudyLock:
    """``with lock:`` holds the study's lock. Not re-entrant: a nested ``with`` raises instead of deadlocking.

    :ivar exact: whether the lock really excludes other processes (False: best-effort, see the module doc).
    """

    exact = True

    def __init__(self) -> None:
        self._held = False
        self._pid: Optional[int] = None

    def __enter__(self) -> "StudyLock":
        if self._held:
            raise RuntimeError("the study lock is not re-entrant")
        if self._pid != os.getpid():  # a fresh process (fork): never use the parent's descriptor or connection
            self._forget()
            self._pid = os.getpid()
        self._acquire()
        self._held = True
        return self

    def __exit__(self, *exc) -> None:
        self._held = False
        self._release()

    def close(self) -> None:
        """Give back the lock's resources (the connection); the lock reopens them if used again."""
        if self._pid == os.getpid():
            self._close()
        self._forget()

    def _acquire(self) -> None:
        """Called by ``__enter__``: block until this process holds the lock."""

    def _release(self) -> None:
        """Called by ``__exit__``: let the next process in."""

    def _close(self) -> None:
        """Called by :meth:`close` in the process that opened the resources."""

    def _forget(self) -> None:
        """Drop references to resources without touching them (they may belong to the parent of a fork)."""


class _FileLock(StudyLock):
    """``flock`` on a file next to the SQLite database, opened per acquisition (no descriptor outlives it)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self._fd: Optional[int] = None

    def _acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)  # the database's directory may not exist yet
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)  # closing alone would release it too; unlocking first says so


class _PostgresLock(StudyLock):
    """``pg_advisory_lock(key)`` on one dedicated AUTOCOMMIT connection, reopened when it was lost."""

    def __init__(self, url: str, key: int, outage=None):
        super().__init__()
        self._url = url
        self.key = key
        self._outage = outage
        self._engine = None
        self._conn = None

    def _connection(self):
        if self._conn is None:

            self._engine = create_engine(self._url, poolclass=NullPool, connect_args=connect_args(make_url(self._url)))
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _acquire(self) -> None:
        def attempt() -> None:
            try:
                self._connection().execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            except Exception:
                self._close()  # a lost session holds no lock: nothing to undo; the next attempt reconnects
                raise

        # An idle connection may have been dropped during a long trial, or the server be restarting: reconnect and
        # retry within the storage's outage budget (see retry.py), like every other storage call.
        if self._outage is None:

            self._outage = Outage(mask_url(self._url))
        self._outage.call(attempt, what="taking the study lock")

    def _release(self) -> None:
        try:
            self._connection().execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception as e:  # a lost session holds no lock: the server released it with the session
            logger.info(f"auto_hpo[sweep]: the study lock's connection was lost ({_first_line(e)}); reconnecting")
            self._close()

    def _close(self) -> None:
        conn, engine = self._conn, self._engine
        self._forget()
        try:
            if conn is not None:
                conn.close()
        finally:
            if engine is not None:
                engine.dispose()

    def _forget(self) -> None:
        self._conn = self._engine = None


class _NoLock(StudyLock):
    exact = False


def _sqlite_lock(url, study_name: str, outage=None) -> StudyLock:
    database = url.database or ""
    try:
        import fcntl  # noqa: F401  (POSIX only)
    except ImportError:
        return _best_effort(url, study_name)
    if not database or database == ":memory:" or database.startswith("file:"):
        return _best_effort(url, study_name)
    return _FileLock(os.path.abspath(database) + ".lock")


def _postgres_lock(url, study_name: str, outage=None) -> StudyLock:
    return _PostgresLock(url.render_as_string(hide_password=False), advisory_key(study_name), outage)


def _best_effort(url, study_name: str, outage=None) -> StudyLock:
    logger.warning(
        f"auto_hpo[sweep]: no cross-process lock for {url.render_as_string(hide_password=True)}: with several "
        f"workers on study [{study_name}], run_cap and the grid are best-effort (a worker may overshoot the cap "
        f"or repeat a grid point); use PostgreSQL or SQLite for exact sharing"
    )
    return _NoLock()


# backend name (SQLAlchemy's) -> lock factory
LOCKS: Dict[str, Callable[..., StudyLock]] = {"postgresql": _postgres_lock, "sqlite": _sqlite_lock}


def study_lock(storage_url: str, study_name: str, outage=None) -> StudyLock:
    """The lock of ``study_name`` in the storage at ``storage_url`` (a SQLAlchemy URL); a server's lock retries a
    lost connection within ``outage`` (a :class:`~data_juicer_hpo.engine.retry.Outage`, shared with the storage)."""

    url = make_url(storage_url)
    return LOCKS.get(url.get_backend_name(), _best_effort)(url, study_name, outage)
