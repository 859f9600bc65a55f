"""Storage URLs (engine/storage.py): checked before any work, SQLite paths and PostgreSQL servers, never showing a
password."""

import os
import time
from urllib.parse import urlparse

import pytest

from data_juicer_hpo.engine import validate_storage_url

from tests.helpers.pg_server import pg_url_fixture

pg_url = pg_url_fixture()


def _plain(url: str) -> str:
    scheme, rest = url.split("://", 1)
    assert scheme.startswith("postgresql+")
    return f"postgresql://{rest}"


def test_the_postgres_extra_installs_sqlalchemys_default_driver():
    from sqlalchemy.engine import make_url

    # whichever driver the installed SQLAlchemy picks for postgresql:// (psycopg in 2.1, psycopg2 in 2.0) imports
    make_url("postgresql://u@127.0.0.1/db").get_dialect().import_dbapi()


def test_plain_url_is_checked_against_the_server(pg_url):
    from data_juicer_hpo.engine import validate_storage_url

    assert validate_storage_url(_plain(pg_url)) == []
    password = urlparse(pg_url).password
    (problem,) = validate_storage_url(f"postgresql://dj:{password}@127.0.0.1:1/db")
    assert problem.startswith("auto_hpo.storage: cannot connect to postgresql://dj:***@127.0.0.1:1/db")
    assert password not in problem


def test_validate_storage_url_accepts_a_sqlite_file_in_a_directory_to_create(tmp_path):
    assert validate_storage_url(f"sqlite:///{tmp_path}/new/dir/sweep.db") == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("not a url", "auto_hpo.storage: not a SQLAlchemy URL"),
        ("", "auto_hpo.storage: must be a SQLAlchemy URL"),
        ("nosuchdb://u:pw@h/db", "auto_hpo.storage: unknown database backend 'nosuchdb' (in nosuchdb://u:***@h/db)"),
        ("mysql+pymysql://u:pw@h/db", "the driver of mysql+pymysql://u:***@h/db is not installed; pip install PyMySQL"),
        ("sqlite://", "in-memory SQLite database keeps no sweep to resume"),
    ],
)
def test_validate_storage_url_problems(url, expected):
    (problem,) = validate_storage_url(url)
    assert problem.startswith(expected) or expected in problem
    assert ":pw@" not in problem


def test_validate_storage_url_sqlite_under_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    (problem,) = validate_storage_url(f"sqlite:///{tmp_path}/file/sweep.db", key="x.storage")
    assert problem.startswith("x.storage: cannot create") and "is not a writable directory" in problem


def test_validate_storage_url_server_unreachable_without_showing_the_password():
    pytest.importorskip("psycopg2")
    start = time.monotonic()
    (problem,) = validate_storage_url("postgresql+psycopg2://user:s3cret@127.0.0.1:1/db")
    assert time.monotonic() - start < 12
    assert problem.startswith("auto_hpo.storage: cannot connect to postgresql+psycopg2://user:***@127.0.0.1:1/db: ")
    assert "s3cret" not in problem


def test_validate_storage_url_names_an_installed_driver_when_the_default_is_missing():
    pytest.importorskip("psycopg2")
    try:
        import psycopg  # noqa: F401  (SQLAlchemy 2.1's default postgresql driver)

        pytest.skip("the default driver is installed")
    except ImportError:
        pass
    (problem,) = validate_storage_url("postgresql://user:s3cret@127.0.0.1:1/db")
    assert "is not installed" in problem and "postgresql+psycopg2://" in problem and "s3cret" not in problem


def test_a_foreign_sqlite_file_is_refused_and_never_written(tmp_path):
    import hashlib
    import sqlite3

    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE customers (id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'x');")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    (problem,) = validate_storage_url(f"sqlite:///{path}")
    assert problem == (
        f"auto_hpo.storage: {path} is another application's SQLite database (tables: customers), not a sweep "
        f"database (Optuna's tables); it is left untouched: give the sweep another file"
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    sqlite3.connect(tmp_path / "empty.db").execute("VACUUM").connection.close()  # a valid SQLite file, no table
    assert validate_storage_url(f"sqlite:///{tmp_path / 'empty.db'}") == []


def test_sqlite_paths():
    from data_juicer_hpo.engine.storage import sqlite_path

    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    assert sqlite_path("sqlite:///rel/x.db") == os.path.abspath("rel/x.db")
    assert sqlite_path("sqlite://") is None and sqlite_path("postgresql://u@h/db") is None
    assert sqlite_path("sqlite:///file:x.db?uri=true") is None and sqlite_path("not a url") is None
