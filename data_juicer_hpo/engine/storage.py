"""The SQLAlchemy URL where a local sweep keeps its trials: checked before any work, opened with heartbeats.

A trial's process sends a heartbeat every ``heartbeat_interval`` seconds; a RUNNING trial whose heartbeat is
older than ``grace_period`` belongs to a dead process (``kill -9``, a lost node) and is failed when a sweep
resumes. Heartbeats, not "every RUNNING trial", because other live workers may share the storage. That grace
period only matters for workers of other machines: one of this machine whose process is gone is failed at once
(:mod:`~data_juicer_hpo.engine.workers`).
"""

import functools
import os
import sqlite3
import threading
import time
import warnings
from typing import List, Optional

import optuna
from loguru import logger
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from data_juicer_hpo.engine.retry import Outage, is_transient, resilient_storage
from data_juicer_hpo.redaction import redact

__all__ = ["validate_storage_url", "mask_url", "open_storage", "connect_args", "sqlite_path"]

_CONNECT_TIMEOUT_S = 5
# tables every Optuna RDB storage has (optuna/storages/_rdb/models.py): a SQLite file with tables but not these is
# another application's
_OPTUNA_TABLES = {"studies", "trials", "version_info"}
_FOREIGN = "is another application's SQLite database"
_RESTART_WAIT_S = 5  # how long the check before any work waits for a server that refuses connections
# connect_args that bound the connection attempt, per DBAPI driver (SQLAlchemy's driver names).
_TIMEOUT_ARGS = {
    "psycopg2": {"connect_timeout": _CONNECT_TIMEOUT_S},
    "psycopg": {"connect_timeout": _CONNECT_TIMEOUT_S},
    "pg8000": {"timeout": _CONNECT_TIMEOUT_S},
    "pymysql": {"connect_timeout": _CONNECT_TIMEOUT_S},
    "mysqldb": {"connect_timeout": _CONNECT_TIMEOUT_S},
    "mysqlconnector": {"connection_timeout": _CONNECT_TIMEOUT_S},
}
_ALTERNATIVES = {"postgresql": ("psycopg2", "psycopg", "pg8000"), "mysql": ("pymysql", "mysqldb", "mysqlconnector")}
_PIP_NAMES = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
}


def connect_args(parsed) -> dict:
    """DBAPI arguments that bound a connection attempt to a parsed URL's server (none for SQLite)."""
    return dict(_TIMEOUT_ARGS.get(parsed.get_driver_name(), {}))


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, fit for logs and error messages."""

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: hide whatever sits between "user:" and "@"
        head, sep, tail = str(url).rpartition("@")
        if not sep or ":" not in head.split("//")[-1]:
            return str(url)
        return f"{head[: head.rfind(':')]}:***@{tail}"


def sqlite_path(url: str) -> Optional[str]:
    """The absolute path of a SQLite storage URL's file (a relative one resolved from the current directory, as
    SQLite does); None for a server, an in-memory database or a ``file:`` URI."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def _sqlite_problems(database: Optional[str], key: str, shown: str) -> List[str]:
    if not database or database == ":memory:":
        return [f"{key}: an in-memory SQLite database keeps no sweep to resume; give a file, e.g. sqlite:///sweep.db"]
    if database.startswith("file:"):  # SQLite URI filename; the driver interprets it
        return []
    path = os.path.abspath(database)
    if os.path.isdir(path):
        return [f"{key}: {path} is a directory, not a database file (in {shown})"]
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            return [f"{key}: {path} is not writable (in {shown})"]
        damage = _sqlite_damage(path)
        if damage and damage.startswith(_FOREIGN):
            return [f"{key}: {path} {damage}; it is left untouched: give the sweep another file"]
        if damage:
            return [f"{key}: {path} {damage}; it is never replaced: restore it, or move it away to start afresh"]
        return []
    parent = os.path.dirname(path)
    while not os.path.exists(parent):  # missing directories are created by open_storage
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        return [f"{key}: cannot create {path}: {parent} is not a writable directory (in {shown})"]
    return []


def _header(path: str, settle_s: float = 10.0) -> bytes:
    """The file's first 16 bytes. A file created moments ago and still empty may be another worker's new database
    (SQLite writes its header with the first commit): wait for it, up to ``settle_s`` after its creation."""

    while True:
        with open(path, "rb") as f:
            header = f.read(16)
        if header or time.time() - os.path.getmtime(path) > settle_s:
            return header
        time.sleep(0.1)


def _sqlite_damage(path: str) -> Optional[str]:
    """What is wrong with an existing SQLite file (empty, not SQLite, failing its quick check), else None.

    An empty file would pass for a new empty database: the sweep would silently start over beside its old outputs.
    """

    try:
        header = _header(path)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if not header:
        return "is empty (0 bytes), not a sweep database"
    if header != b"SQLite format 3\x00":
        return "is not a SQLite database"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return f"is damaged ({e})"
    if verdict != "ok":
        return f"is damaged (quick_check: {' '.join(str(verdict).split())[:200]})"
    return _foreign(path)


def _foreign(path: str) -> Optional[str]:
    """A SQLite database with tables, but not Optuna's: another application's, never to be written into."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        finally:
            conn.close()
    except sqlite3.Error as e:
        return f"is damaged ({e})"
    if not tables or _OPTUNA_TABLES <= set(tables):
        return None
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return f"{_FOREIGN} (tables: {shown}), not a sweep database (Optuna's tables)"


def _connect_problems(url, key: str, shown: str) -> List[str]:
    outcome: List[str] = []

    def attempt() -> None:
        # a server restarting refuses or drops connections for a moment: not bad input, so try again for a few seconds
        deadline = time.monotonic() + _RESTART_WAIT_S
        while True:
            engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
            try:
                with engine.connect():
                    outcome.append("")
                    return
            except Exception as e:
                if is_transient(e) and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                message = str(getattr(e, "orig", None) or e).strip().splitlines()
                text = message[0] if message else type(e).__name__
                outcome.append(redact(text.replace(url.password, "***") if url.password else text))
                return
            finally:
                engine.dispose()

    # The driver's own timeout is the first guard; the daemon thread makes sure no driver can hang us.
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(_CONNECT_TIMEOUT_S + _RESTART_WAIT_S + 5)
    if not outcome:
        return [f"{key}: no answer from {shown} within {_CONNECT_TIMEOUT_S + _RESTART_WAIT_S + 5} s"]
    return [f"{key}: cannot connect to {shown}: {outcome[0]}"] if outcome[0] else []


def _installed_driver(parsed) -> Optional[str]:
    """Another driver of the same backend that is importable, when the URL leaves the driver to the default."""
    if "+" in parsed.drivername:
        return None
    for driver in _ALTERNATIVES.get(parsed.get_backend_name(), ()):
        try:
            parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}").get_dialect().import_dbapi()
            return driver
        except Exception:
            continue
    return None


def validate_storage_url(url: str, key: str = "auto_hpo.storage") -> List[str]:
    """Problems with a storage URL: not parseable, driver missing, SQLite file not writable, server unreachable.

    A server URL is connected to (at most ~10 s). Passwords never appear in the messages.
    """

    example = "e.g. sqlite:///sweep.db or postgresql://user@host/db"
    if not isinstance(url, str) or not url.strip():
        return [f"{key}: must be a SQLAlchemy URL, {example} (got {url!r})"]
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return [f"{key}: not a SQLAlchemy URL, {example} (got {mask_url(url)!r})"]
    shown = parsed.render_as_string(hide_password=True)
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return [f"{key}: unknown database backend {parsed.drivername!r} (in {shown})"]
    try:
        dialect.import_dbapi()
    except ImportError as e:
        module = e.name or parsed.get_driver_name()
        hint = f"pip install {_PIP_NAMES.get(module, module)}"
        installed = _installed_driver(parsed)
        if installed:  # SQLAlchemy 2.1 made psycopg (3) the default for postgresql://, psycopg2 is common
            hint += f", or name the installed driver: {parsed.get_backend_name()}+{installed}://..."
        return [f"{key}: the driver of {shown} is not installed; {hint}"]
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_problems(parsed.database, key, shown)
    return _connect_problems(parsed, key, shown)


def _log_stale(study, trial) -> None:
    logger.warning(
        f"trial #{trial.number} failed: its process stopped sending heartbeats (killed?) "
        f"params={trial.user_attrs.get('params', {})}"
    )


def _sqlite_connection(path: str):
    """A connection to a sweep's SQLite file in write-ahead-log mode with ``synchronous=NORMAL``: a commit appends to
    the log without waiting for the disk (the log is synced at checkpoints), where the default rollback journal
    syncs two files on every commit -- and a trial makes about 20 commits (its parameters, user attributes,
    heartbeats, state): 16 ms each on a busy disk, more than the trial's own work. The database stays consistent
    after a crash of the process or of the machine; a machine crash may lose the last commits, which a resumed sweep
    runs again. WAL is for processes of one machine, which SQLite storage already is (see ``locking``)."""
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def open_storage(url: str, heartbeat_interval: int = 10, grace_period: Optional[int] = None, outage=None):
    """An Optuna RDBStorage on ``url`` with heartbeats; a SQLite file's missing directories are created.

    Every database call retries a lost connection within ``outage``'s budget (see :mod:`.retry`); pooled server
    connections are checked before use (``pool_pre_ping``: Optuna sets it for MySQL only), so a restarted server
    costs a reconnect, not an error.
    """

    parsed = make_url(url)
    engine_kwargs = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        # Workers share one file; wait for its lock rather than fail at the default 5 s.
        engine_kwargs = {"connect_args": {"timeout": 60}}
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            engine_kwargs = {"creator": functools.partial(_sqlite_connection, os.path.abspath(parsed.database))}
    else:
        engine_kwargs = {"pool_pre_ping": True, "connect_args": connect_args(parsed)}
    outage = outage if outage is not None else Outage(mask_url(url))
    with warnings.catch_warnings():  # heartbeat_interval is "experimental" in Optuna; we rely on it knowingly
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return resilient_storage(
            outage,
            url=url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=_log_stale,
        )
