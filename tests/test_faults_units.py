"""The pure parts of fault handling: which storage errors are retried, the retry budget, the resume fingerprint,
the one-line write failures, and the crash redaction of loguru records (real loguru, real exceptions)."""

import errno
import io
import time

import pytest
from loguru import logger
from sqlalchemy import exc as sa

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.fingerprint import differences, fingerprint
from data_juicer_hpo.modes import write_failure
from data_juicer_hpo.sweep.retry import NOT_RETRIED, Outage, cause_of, is_transient, resilient_storage

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


def test_write_failure_names_the_path_anywhere_in_the_chain():
    inner = OSError(errno.ENOSPC, "No space left on device", "/data/kept.jsonl")
    outer = RuntimeError("export failed")
    outer.__cause__ = inner
    assert write_failure(outer) == (
        "auto_hpo: cannot write /data/kept.jsonl: No space left on device (ENOSPC); make room there and rerun the "
        "same command to resume"
    )
    assert write_failure(OSError(errno.EFBIG, "File too large")).startswith("auto_hpo: a write failed: File too")
    assert write_failure(OSError(errno.ENOENT, "No such file", "/x")) is None


class _Cfg(dict):
    pass


def test_fingerprint_names_what_changed(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a"}\n')
    process = [{"text_length_filter": {"min_len": 5, "max_len": 100, "work_dir": "/job/1", "num_proc": 4}}]
    cfg = _Cfg(dataset_path=str(data), process=process)
    section = {"objective": "retention", "reference": None, "synergy": None}
    first = fingerprint(cfg, section, "maximize", [(0, "min_len")], 1)
    # the swept argument and the run-time ones do not count
    moved = _Cfg(
        dataset_path=str(data),
        process=[{"text_length_filter": {"min_len": 9, "max_len": 100, "work_dir": "/job/2", "num_proc": 1}}],
    )
    assert fingerprint(moved, section, "maximize", [(0, "min_len")], 1) == first
    data.write_text('{"text": "a"}\n{"text": "b"}\n')
    changed = _Cfg(dataset_path=str(data), process=[{"text_length_filter": {"min_len": 5, "max_len": 50}}])
    second = fingerprint(changed, {**section, "objective": "quality_score"}, "maximize", [(0, "min_len")], 2)
    found = differences(first, second)
    assert [line.split(":")[0] for line in found] == ["dataset", "objective", "ops", "samples"]
    assert "samples: 1 -> 2" in found


def test_crash_redaction_masks_a_caught_exception_without_its_locals():
    from data_juicer_hpo.hooks import crash_redaction
    from data_juicer_hpo.redaction import register_secrets

    secret = "s3cr3t-pa55word"
    register_secrets([secret])
    out = io.StringIO()
    handler = logger.add(out, diagnose=True, backtrace=True, format="{message}")
    crash_redaction.install()
    try:

        def connect():
            password = secret  # a local variable: loguru's diagnose prints the values of those in the failing line
            raise ConnectionError("cannot reach postgresql://u:" + password + "@host/db")

        try:
            connect()
        except ConnectionError:
            logger.exception("caught")
    finally:
        crash_redaction.uninstall()
        logger.remove(handler)
    text = out.getvalue()
    assert secret not in text
    assert (
        "Traceback (most recent call last)" in text and "ConnectionError: cannot reach postgresql://u:***@host" in text
    )
    assert 'raise ConnectionError("cannot reach postgresql' in text  # the source line, as Python prints it


def test_fault_hooks_are_active_only_in_mode_runs_and_undoable():
    import sys
    import threading

    from data_juicer.core.exporter import Exporter

    import data_juicer_hpo
    from data_juicer_hpo import hooks

    data_juicer_hpo.uninstall()  # start from Data-Juicer as it is (another test may have activated the hooks)
    data_juicer_hpo.install()
    original_export, original_hook = Exporter.export, sys.excepthook
    assert original_export.__name__ == "export" and not original_hook.__module__.endswith("crash_redaction")
    hooks.activate()
    try:
        assert Exporter.export.__name__ == "_atomic_export"
        assert sys.excepthook.__module__.endswith("crash_redaction")
        assert threading.excepthook.__module__.endswith("crash_redaction")
    finally:
        data_juicer_hpo.uninstall()
        data_juicer_hpo.install()
    assert Exporter.export is original_export and sys.excepthook is original_hook
