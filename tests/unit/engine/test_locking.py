"""The study locks themselves (engine/locking.py): PostgreSQL advisory locks and SQLite flock, held across processes,
dying with their holder, reconnecting."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from data_juicer_hpo.engine.locking import StudyLock, advisory_key, study_lock

from tests.helpers.pg_server import pg_url_fixture
from tests.helpers.runs import ROOT

pg_url = pg_url_fixture()


def _sqlite(tmp_path):
    return f"sqlite:///{tmp_path / 'sweep.db'}"


HOLDER = """
import sys, time
from data_juicer_hpo.engine.locking import study_lock
lock = study_lock(sys.argv[1], "s")
with lock:
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_lock_held_by_another_process_blocks_until_released(tmp_path, backend, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else _sqlite(tmp_path)
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(HOLDER))
    holder = subprocess.Popen(
        [sys.executable, str(script), url, "1.5"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = study_lock(url, "s")
        assert lock.exact
        start = time.monotonic()
        with lock:
            waited = time.monotonic() - start
        lock.close()
    finally:
        holder.wait(timeout=30)
    assert 0.5 < waited < 10


def test_a_lock_dies_with_its_holder(tmp_path, pg_url):
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(HOLDER))
    for url in (pg_url, _sqlite(tmp_path)):
        holder = subprocess.Popen(
            [sys.executable, str(script), url, "600"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        lock = study_lock(url, "s")
        start = time.monotonic()
        with lock:
            assert time.monotonic() - start < 10
        lock.close()


def test_lock_choice_and_keys(tmp_path):
    assert isinstance(study_lock(_sqlite(tmp_path), "s"), StudyLock)
    assert study_lock(f"sqlite:///{tmp_path}/x.db", "s").path == f"{tmp_path}/x.db.lock"
    assert not study_lock("mysql+pymysql://u:p@127.0.0.1/db", "s").exact  # best-effort, with a warning
    assert advisory_key("a") != advisory_key("b") and -(2**63) <= advisory_key("a") < 2**63
    lock = study_lock(_sqlite(tmp_path), "s")
    with lock:
        with pytest.raises(RuntimeError, match="not re-entrant"):
            lock.__enter__()


def test_a_dropped_lock_connection_is_reopened(pg_url):
    import sqlalchemy as sa

    study = f"dropped-{time.monotonic_ns()}"
    lock = study_lock(pg_url, study)
    with lock:
        pass
    admin = sa.create_engine(pg_url)
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND query LIKE :text"
                ),
                {"text": f"%pg_advisory_unlock(%{abs(advisory_key(study))})%"},
            ).fetchall()  # psycopg2 writes " -5"
        assert killed == [(True,)]
        with lock:  # the server closed its session; the lock reconnects
            pass
    finally:
        lock.close()
        admin.dispose()
