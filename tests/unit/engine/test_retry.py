"""Storage calls through a short outage (engine/retry.py): which storage errors are retried, the retry budget, and
every storage call of Optuna's cache going through the retry."""

import time

import pytest
from sqlalchemy import exc as sa

from data_juicer_hpo.engine.retry import NOT_RETRIED, Outage, cause_of, is_transient, resilient_storage
from data_juicer_hpo.errors import AutoHpoError

URL = "postgresql+psycopg2://u:***@127.0.0.1:5432/db"


def _operational(text: str) -> sa.OperationalError:
    return sa.OperationalError("SELECT 1", {}, Exception(text))


def test_lost_connections_are_transient_and_full_disks_are_not():
    assert is_transient(_operational("server closed the connection unexpectedly"))
    assert is_transient(_operational('connection to server at "127.0.0.1", port 5 failed: Connection refused'))
    assert is_transient(_operational("database is locked"))
    wrapped = RuntimeError("An exception is raised during the commit.")
    wrapped.__cause__ = _operational("terminating connection due to administrator command")
    assert is_transient(wrapped)  # Optuna's StorageInternalError wraps SQLAlchemy's
    full = _operational("database or disk is full")
    assert not is_transient(full) and cause_of(full) == "database or disk is full"
    assert not is_transient(sa.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient(ValueError("connection"))  # only database errors are retried


def test_outage_retries_then_succeeds():
    calls = []

    def flaky():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise _operational("server closed the connection unexpectedly")
        return "stored"

    assert Outage(URL, retry_s=10).call(flaky) == "stored"
    assert len(calls) == 3
    assert 0.4 < calls[1] - calls[0] < 1.0 and 0.9 < calls[2] - calls[1] < 1.6  # backoff 0.5 s, then 1 s


def test_outage_past_the_bound_is_one_line_and_then_fails_at_once():
    outage = Outage(URL, retry_s=0.6)
    calls = []

    def down():
        calls.append(1)
        raise _operational("could not connect to server: Connection refused")

    started = time.monotonic()
    with pytest.raises(AutoHpoError) as err:
        outage.call(down)
    assert 0.5 < time.monotonic() - started < 2
    assert str(err.value) == (
        f"auto_hpo.storage: lost the connection to {URL} for 0.6 s; rerun the same command to resume"
    )
    n = len(calls)
    with pytest.raises(AutoHpoError):
        outage.call(down)
    assert len(calls) == n  # not tried again: the run is winding down


def test_every_storage_call_of_optunas_cache_is_retried(tmp_path):
    """Optuna wraps every study's RDBStorage in its _CachedStorage, which calls private methods of its backend
    directly (a PostgreSQL restart mid-sweep once hit an unretried ``_get_trials``): each goes through the retry."""
    import inspect
    import re

    from optuna.storages import _cached_storage

    storage = resilient_storage(Outage(URL), url=f"sqlite:///{tmp_path / 'sweep.db'}")
    called = set(re.findall(r"_backend\.(\w+)\(", inspect.getsource(_cached_storage)))
    assert {"_get_trials", "_create_new_trial", "get_trial"} <= called  # what the pattern must find
    assert sorted(n for n in called if n not in vars(type(storage)) and n not in NOT_RETRIED) == []


def test_a_commit_that_landed_before_the_drop_is_not_repeated():
    attempts = []

    def tell():
        attempts.append(1)
        raise _operational("server closed the connection unexpectedly")

    assert Outage(URL, retry_s=10).call(tell, done=lambda: True) is True
    assert len(attempts) == 1


def test_full_disk_in_the_storage_is_one_line_without_retry():
    with pytest.raises(AutoHpoError) as err:
        Outage("sqlite:////x/sweep.db").call(lambda: (_ for _ in ()).throw(_operational("database or disk is full")))
    assert str(err.value) == "auto_hpo.storage: sqlite:////x/sweep.db: database or disk is full"
