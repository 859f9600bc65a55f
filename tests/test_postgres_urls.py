"""``postgresql://`` URLs (no driver named) work with the ``postgres`` extra, on a real PostgreSQL server."""

import csv
from urllib.parse import urlparse

import pytest

from conftest import min_len_sweep
from pg_server import pg_url_fixture

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
    from data_juicer_hpo.sweep import validate_storage_url

    assert validate_storage_url(_plain(pg_url)) == []
    password = urlparse(pg_url).password
    (problem,) = validate_storage_url(f"postgresql://dj:{password}@127.0.0.1:1/db")
    assert problem.startswith("auto_hpo.storage: cannot connect to postgresql://dj:***@127.0.0.1:1/db")
    assert password not in problem


@pytest.mark.e2e
def test_sweep_on_a_plain_postgresql_url(tmp_path, dj_process, pg_url):
    import optuna

    recipe = min_len_sweep(tmp_path, 80, _plain(pg_url), "plain-url", 2)
    res = dj_process("--config", recipe, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    # the study is in the server's database: read back through the other driver
    (summary,) = optuna.get_all_study_summaries(storage=pg_url)
    assert summary.n_trials == 2
