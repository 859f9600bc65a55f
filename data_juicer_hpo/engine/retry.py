"""Storage calls that outlive a short outage of the database server, and storage errors that name their cause.

A server restart (``pg_ctl restart``) or a network blip drops every connection; the next storage call would fail,
and Optuna words any SQLAlchemy error as "invalid data in the commit, e.g. exceeding max length". Here:

- :func:`is_transient` tells a lost or refused connection (retry it) from everything else;
- :meth:`Outage.call` retries a call with backoff (0.5 s doubling to 2 s, then 2 s +/- 25 %: a server that restarts
  every few seconds is up only part of the time, and a steady, jittered pace keeps landing in those windows) for at
  most ``retry_s`` seconds of one outage,
  then raises one :class:`~data_juicer_hpo.errors.AutoHpoError` line: ``auto_hpo.storage: lost the connection
  to <masked URL> for 60 s; rerun the same command to resume``. After that, every later call of the same storage
  fails at once with the same line (no second wait while the run winds down);
- :func:`cause_of` finds SQLite's words for what no retry fixes (a full disk, a corrupt file); :meth:`Outage.call`
  turns it into one line naming the database and the cause.

Each storage call is one transaction, rolled back when its connection is lost, so calling it again is safe. The
one call that may have committed before its connection dropped is finishing a trial (``tell``): it is retried only
while the trial is not yet in the state it was being set to (:func:`resilient_storage`, an Optuna ``RDBStorage``
whose every database call goes through :meth:`Outage.call`, does that).
"""

import os
import random
import threading
import time
from typing import Callable, Optional, TypeVar

from loguru import logger
from optuna.storages import RDBStorage
from sqlalchemy import exc as sa

from data_juicer_hpo.errors import AutoHpoError, exception_chain
from data_juicer_hpo.redaction import redact, redact_value

__all__ = [
    "is_transient",
    "cause_of",
    "Outage",
    "resilient_storage",
    "creating_tables",
    "DEFAULT_RETRY_S",
    "RETRIED_PRIVATE",
    "NOT_RETRIED",
]

DEFAULT_RETRY_S = 60
_MAX_DELAY_S = 2.0
_CREATE_ATTEMPTS = 5
KEY = "auto_hpo.storage"
T = TypeVar("T")
# SQLite's words for problems a retry cannot fix (a full disk, a damaged or foreign file); "database is locked" is
# another worker holding the file, which a retry does fix.
_SQLITE_CAUSES = (
    "database or disk is full",
    "disk i/o error",
    "file is not a database",
    "database disk image is malformed",
    "unable to open database file",
    "attempt to write a readonly database",
)
# PostgreSQL / driver wording of a lost, refused or reset connection
_CONNECTION_WORDS = (
    "connection",
    "server closed",
    "could not connect",
    "terminating",
    "the database system is",
    "timeout",
    "timed out",
    "database is locked",
    "ssl syscall",
    "eof detected",
    "broken pipe",
)


def _words(exc: BaseException) -> str:
    return " ".join(str(e).lower() for e in exception_chain(exc))


def cause_of(exc: BaseException) -> Optional[str]:
    """SQLite's own words for a problem no retry fixes (``database or disk is full``...), else None."""
    text = _words(exc)
    return next((cause for cause in _SQLITE_CAUSES if cause in text), None)


def _sqlite_disk_full(shown_url: str) -> bool:
    """Whether a SQLite URL's file sits on a file system with (almost) no free space left."""
    if not shown_url.startswith("sqlite:///"):
        return False
    try:
        fs = os.statvfs(os.path.dirname(os.path.abspath(shown_url[len("sqlite:///") :])))
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < 256 * 1024


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lost, refused or reset connection (or a busy SQLite file): worth retrying."""

    if cause_of(exc):
        return False
    for e in exception_chain(exc):
        if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, (sa.DisconnectionError, sa.TimeoutError)):
            return True
        if isinstance(e, (sa.OperationalError, sa.InterfaceError)) or type(e).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return any(word in str(e).lower() for word in _CONNECTION_WORDS)
    return False


class Outage:
    """The retry budget of one storage (one URL in one process); ``lost`` once it was exhausted."""

    def __init__(self, shown_url: str, retry_s: float = DEFAULT_RETRY_S):
        self.shown_url = shown_url
        self.retry_s = float(retry_s)
        self.lost = False
        self._local = threading.local()  # calls nested in a retried call are not retried again

    def error(self) -> AutoHpoError:
        return AutoHpoError(
            f"{KEY}: lost the connection to {self.shown_url} for {self.retry_s:g} s; rerun the same command to resume"
        )

    def call(self, fn: Callable[[], T], done: Optional[Callable[[], bool]] = None, what: str = "storage call") -> T:
        """``fn()``, retried while its failure is transient and the budget lasts.

        :param done: asked before each retry; True means the failed attempt took effect after all (its commit
            reached the server before the connection dropped), so the call is complete.
        """
        if self.lost:
            raise self.error()
        if getattr(self._local, "depth", 0):
            return fn()
        self._local.depth = 1
        try:
            return self._retry(fn, done, what)
        finally:
            self._local.depth = 0

    def _retry(self, fn, done, what):
        deadline, delay, warned = None, 0.5, False
        while True:
            try:
                return fn()
            except Exception as e:  # noqa: BLE001  (classified below; anything else propagates unchanged)
                problem = cause_of(e)
                if problem == "disk i/o error" and _sqlite_disk_full(self.shown_url):
                    problem = "database or disk is full"  # in write-ahead-log mode a full disk reads as I/O error
                if problem:
                    raise AutoHpoError(f"{KEY}: {self.shown_url}: {problem}") from None
                if not is_transient(e):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.retry_s
                if now >= deadline:
                    self.lost = True
                    raise self.error() from None
                if not warned:
                    logger.warning(
                        f"auto_hpo[sweep]: storage [{self.shown_url}] unreachable during {what} "
                        f"({_first_line(e)}); retrying for up to {self.retry_s:g} s"
                    )
                    warned = True
                time.sleep(min(delay, max(0.0, deadline - now)))
                delay = (
                    min(delay * 2, _MAX_DELAY_S) if delay < _MAX_DELAY_S else _MAX_DELAY_S * random.uniform(0.75, 1.25)
                )
            if done is not None:
                try:
                    if done():
                        return True
                except Exception as e:  # noqa: BLE001  (still unreachable: the next attempt will tell)
                    if not is_transient(e):
                        raise


def _first_line(exc: BaseException) -> str:
    """The driver's own words (psycopg2's, sqlite3's), not Optuna's or SQLAlchemy's wrapping of them."""

    chain = list(exception_chain(exc))
    driver = [e for e in chain if not type(e).__module__.startswith(("optuna", "sqlalchemy"))]
    shown = (driver or chain)[0]
    lines = str(shown).strip().splitlines() or [type(shown).__name__]
    return redact(lines[0])[:200]


# Private storage methods that are retried too: Optuna's _CachedStorage (which wraps an RDBStorage in every study)
# calls them on its backend directly. Reading, creating a trial and setting a parameter are one transaction each.
RETRIED_PRIVATE = {"_get_stale_trial_ids", "_get_trials", "_get_best_trial_id", "_create_new_trial", "_set_trial_param"}
# Storage methods that are not retried: no database access, or the session bookkeeping itself.
NOT_RETRIED = {
    "remove_session",
    "get_heartbeat_interval",
    "get_heartbeat_stale_trial_callback",
    "is_heartbeat_enabled",
}


def creating_tables(create: Callable[[], T]) -> T:
    """``create()`` (tables created when missing), tried again when it lost a race with another process creating
    the same tables: PostgreSQL's CREATE TABLE is not atomic against itself, so of two workers starting together
    the loser may fail on the catalogue's unique index (``pg_type``) or on a row the winner just inserted; the next
    attempt finds the tables."""
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            return create()
        except (sa.IntegrityError, sa.ProgrammingError):
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
        time.sleep(0.05 * (attempt + 1) * (1 + random.random()))


def resilient_storage(outage: Outage, **kwargs):
    """An Optuna ``RDBStorage`` (``kwargs`` are its arguments) whose every database call goes through
    ``outage.call``, the tables' creation included (through :func:`creating_tables`); finishing a trial counts as
    done when the trial already is in the state it was being set to; every user attribute is stored masked of
    secrets."""
    cls = _resilient_class()
    return outage.call(lambda: creating_tables(lambda: cls(outage, **kwargs)), what="opening the storage")


_CLASS = {}


def _resilient_class():
    if "cls" in _CLASS:
        return _CLASS["cls"]

    class ResilientRDBStorage(RDBStorage):
        def __init__(self, outage: Outage, **kwargs):
            self._outage = outage
            super().__init__(**kwargs)

        # what the sweep hands Optuna is masked of secrets (an objective's error may quote a URL or a key)
        def set_trial_user_attr(self, trial_id, key, value):
            masked = redact_value(value)
            return self._outage.call(
                lambda: RDBStorage.set_trial_user_attr(self, trial_id, key, masked), what="set trial user attr"
            )

        def set_study_user_attr(self, study_id, key, value):
            masked = redact_value(value)
            return self._outage.call(
                lambda: RDBStorage.set_study_user_attr(self, study_id, key, masked), what="set study user attr"
            )

        def set_trial_state_values(self, trial_id, state, values=None):
            def done() -> bool:
                return RDBStorage.get_trial(self, trial_id).state == state

            return self._outage.call(
                lambda: RDBStorage.set_trial_state_values(self, trial_id, state, values), done, "finishing a trial"
            )

    def retried(name):
        method = getattr(RDBStorage, name)

        def wrapper(self, *args, **kwargs):
            return self._outage.call(lambda: method(self, *args, **kwargs), what=name.strip("_").replace("_", " "))

        wrapper.__name__ = wrapper.__qualname__ = name
        wrapper.__doc__ = method.__doc__
        return wrapper

    for name, member in vars(RDBStorage).items():
        called = not name.startswith("_") or name in RETRIED_PRIVATE
        if called and callable(member) and name not in NOT_RETRIED and name not in vars(ResilientRDBStorage):
            setattr(ResilientRDBStorage, name, retried(name))
    _CLASS["cls"] = ResilientRDBStorage
    return ResilientRDBStorage
