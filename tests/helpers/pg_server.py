"""A private PostgreSQL server for the tests: its own data directory, loopback TCP on a free port, torn down after.

It never touches a system cluster. The Debian binaries (``/usr/lib/postgresql/<version>/bin``, else ``initdb``
on PATH) are used; PostgreSQL refuses to run as root, so as root they run as the ``postgres`` OS user through
``runuser`` in a temporary directory that user owns. The server listens on 127.0.0.1 only, its unix socket lives
in that directory, and the test user logs in with a password (scram-sha-256), as a real deployment would.

Use :func:`pg_url_fixture` from a test module::

    from tests.helpers.pg_server import pg_url_fixture
    pg_url = pg_url_fixture()
"""

import glob
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

from tests.helpers.runs import require

__all__ = [
    "find_bin_dir",
    "postgres_server",
    "controlled_postgres_server",
    "pg_url_fixture",
    "unavailable",
    "restarting",
]

USER, DATABASE = "hpo", "hpo"


def find_bin_dir() -> Optional[Path]:
    """The newest PostgreSQL server binaries' directory holding ``initdb`` and ``pg_ctl``, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: _version(d), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    for directory in candidates:
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(directory)
    return None


def _version(directory: str) -> tuple:
    name = Path(directory).parent.name
    return tuple(int(p) if p.isdigit() else 0 for p in name.split("."))


def unavailable() -> Optional[str]:
    """Why no private server can be started here, or None."""
    if find_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root but runuser is missing (PostgreSQL refuses to run as root)"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no 'postgres' OS user to run the server as"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install psycopg2-binary)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, bin_dir: Path, root: Path):
        self.bin_dir, self.root = bin_dir, root
        self.data, self.log = root / "data", root / "server.log"
        self.as_root = os.geteuid() == 0

    def command(self, tool: str, *args: str) -> List[str]:
        cmd = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def run(self, tool: str, *args: str, timeout: float = 120) -> None:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        res = subprocess.run(
            self.command(tool, *args), cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout
        )
        if res.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({res.returncode}): {res.stderr[-2000:]}\n{log}")

    def start(self, port: int) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={self.root} "
            "-c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "immediate") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``: every connection is dropped, the server is back at once (fault tests)."""
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w", "-t", "60", "restart")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private server, create a user with a password and its database; yield the SQLAlchemy URL."""
    with controlled_postgres_server() as (url, _):
        yield url


@contextmanager
def controlled_postgres_server():
    """Like :func:`postgres_server`, yielding ``(url, server)``: ``server.stop()``, ``server.start(port)`` and
    ``server.restart()`` let a test take the database away mid-run."""
    import psycopg2

    root = Path(tempfile.mkdtemp(prefix="dj-hpo-pg-"))
    server = _Server(find_bin_dir(), root)
    if server.as_root:
        shutil.chown(root, "postgres", "postgres")
    started = False
    try:
        server.run(
            "initdb",
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
        for attempt in range(3):  # the free port may be taken between probing and binding
            port = _free_port()
            try:
                server.start(port)
                started = True
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                time.sleep(0.5)
        password = secrets.token_hex(12)
        admin = psycopg2.connect(host=str(root), port=port, user="postgres", dbname="postgres")
        try:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f"CREATE ROLE {USER} LOGIN PASSWORD %s", (password,))
                cur.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
        finally:
            admin.close()
        server.port = port
        yield f"postgresql+psycopg2://{USER}:{password}@127.0.0.1:{port}/{DATABASE}", server
    finally:
        try:
            if started:
                server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def require_postgres() -> None:
    """Skip the calling test where a private server cannot run here; fail it in CI, which must run it."""
    require(unavailable(), "the PostgreSQL tests")


def pg_url_fixture():
    """A session-scoped fixture yielding the URL of a private server (skipped where impossible, failed in CI)."""

    @pytest.fixture(scope="session")
    def pg_url():
        require_postgres()
        with postgres_server() as url:
            yield url

    return pg_url


@contextmanager
def restarting(server, every=(2.0, 2.5), seed: int = 0):
    """While the block runs, ``pg_ctl restart -m fast`` the server every ``every`` seconds (uniform in the range,
    counted from the end of the previous restart): every connection is dropped each time, mid-transaction or not.
    Yields a list of the restarts done, each ``(seconds it took, error or None)``; a failed restart is followed by
    a start, so the server never stays down."""
    done, stop = [], threading.Event()
    rng = random.Random(seed)

    def loop():
        while not stop.wait(rng.uniform(*every)):
            began = time.monotonic()
            try:
                server.restart("fast")
                done.append((time.monotonic() - began, None))
            except Exception as e:  # noqa: BLE001  (a slow machine: say so in the test, and bring the server back)
                done.append((time.monotonic() - began, str(e)[-300:]))
                try:
                    server.start(server.port)
                except Exception:  # noqa: BLE001  (already up)
                    pass

    thread = threading.Thread(target=loop, name="pg-restarts", daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(timeout=120)
