"""A sweep on a ``postgresql://`` URL (no driver named), with the ``postgres`` extra, on a real PostgreSQL server
(the URL's checks: tests/unit/engine/test_storage.py)."""

import csv

import pytest

from tests.helpers.pg_server import pg_url_fixture
from tests.helpers.recipes import min_len_sweep

pg_url = pg_url_fixture()


def _plain(url: str) -> str:
    scheme, rest = url.split("://", 1)
    assert scheme.startswith("postgresql+")
    return f"postgresql://{rest}"


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
