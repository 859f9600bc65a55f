"""Shared fixtures: subprocess runners of dj-process and the scripts, the real corpora, a local Ray cluster, a
PostgreSQL server the fault tests restart, a small tmpfs (a full disk).
The helpers they use (and the tests import) are in tests/helpers/."""

import os
import subprocess
import sys

import pytest
from loguru import logger

from tests.helpers.pg_server import controlled_postgres_server, require_postgres
from tests.helpers.ray import netns_available, run_beside_ray
from tests.helpers.report_runs import once, sweep_run, three_sigma_run
from tests.helpers.runs import BIN, ROOT, SHARED_DATA, require, run


@pytest.fixture
def dj_process(tmp_path):
    def _run(*args, env=None):
        return run([str(BIN / "dj-process"), *map(str, args)], cwd=tmp_path, env=env)

    return _run


@pytest.fixture
def script(tmp_path):
    def _run(name, *args, env=None):
        return run([sys.executable, str(ROOT / name), *map(str, args)], cwd=tmp_path, env=env)

    return _run


@pytest.fixture(scope="session")
def shared_data():
    """``../shared/data``: skipped where absent, but CI must have it (a skip there would hide a red test)."""
    if not (SHARED_DATA / "bench-corpus.jsonl.gz").exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the corpus tests, but {SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="module")
def ray_runner():
    """Runs a command beside a local Ray cluster on loopback (a private network namespace)."""
    if not netns_available():
        if os.environ.get("CI"):
            pytest.fail("CI must run the Ray tests, but `unshare --net` is not available")
        pytest.skip("needs `unshare --net` (root) to keep Ray on loopback")
    return run_beside_ray


@pytest.fixture(scope="session")
def three_sigma_report_run(shared_data, tmp_path_factory):
    """A 3sigma run with tighten_only and a report on 10,000 bench-corpus documents (see helpers/report_runs.py)."""
    return once(tmp_path_factory, "three-sigma-report", three_sigma_run(shared_data))


@pytest.fixture(scope="session")
def sweep_report_run(shared_data, tmp_path_factory):
    """A constrained two-objective sweep with its report on 2,000 bench-corpus documents."""
    return once(tmp_path_factory, "sweep-report", sweep_run(shared_data))


@pytest.fixture
def log_lines():
    """The message of every INFO (and higher) log line while the test runs."""
    lines = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO", format="{message}")
    yield lines
    logger.remove(sink)


@pytest.fixture(scope="session")
def restartable_pg():
    """``(url, server)`` of a private PostgreSQL server that the fault tests restart and stop (``server.restart()``,
    ``server.stop()``, ``server.start(server.port)``): never the one other tests share (``pg_url``)."""
    require_postgres()
    with controlled_postgres_server() as (url, server):
        yield url, server


@pytest.fixture
def small_fs(tmp_path):
    """A 512 KiB tmpfs (skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if res.returncode != 0:
        require(f"cannot mount a tmpfs here: {res.stderr.decode()[-300:]}", "the full-disk tests")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
