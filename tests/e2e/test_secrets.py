"""Secrets stay secret: the storage password and WANDB_API_KEY appear in no log, CSV, recipe or W&B run."""

import os
from urllib.parse import urlparse

import pytest

from tests.helpers.faults import assert_no_secret
from tests.helpers.pg_server import pg_url_fixture
from tests.helpers.recipes import min_len_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

pg_url = pg_url_fixture()
API_KEY = "k3y" + "0123456789abcdef" * 2 + "beef"


def test_no_secret_is_written_or_logged(tmp_path, dj_process, pg_url):
    password = urlparse(pg_url).password
    assert password and len(password) >= 8
    recipe = min_len_sweep(tmp_path, 120, pg_url, "secrets-test", 3)
    res = dj_process("--config", recipe, "--auto_hpo.seed", "3", env={"WANDB_API_KEY": API_KEY})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "hpo" / "trials.csv").exists() and (tmp_path / "out" / "kept.jsonl").exists()
    assert len(list((tmp_path / "hpo" / "wandb").glob("offline-run-*"))) == 3
    logged = res.stdout + res.stderr
    assert "***" in logged  # the storage URL is shown, masked
    for secret in (password, API_KEY):
        assert secret not in logged
    checked = 0
    for root, _, files in os.walk(tmp_path):
        for name in files:
            path = os.path.join(root, name)
            if path == str(recipe):
                continue  # the user's own input holds the URL they wrote
            content = open(path, "rb").read()
            checked += 1
            assert password.encode() not in content, path
            assert API_KEY.encode() not in content, path
    assert checked > 10  # logs, backups, cli.yaml, trials.csv, best_recipe.yaml, W&B run files were all read


# an objective whose first call fails with the storage URL and the W&B key in its message, as a careless one might;
# the later ones succeed, so the sweep goes on, finds a best trial and writes its recipe
ONCE_LEAKY = """
import os

def kept(dataset, cfg):
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failed-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"cannot reach {os.environ['LEAK_URL']} with key {os.environ['WANDB_API_KEY']}")
    return float(len(dataset))
"""


def _leaky_sweep(tmp_path, storage: str, leak_url: str):
    import yaml

    (tmp_path / "leaky.py").write_text(ONCE_LEAKY)
    recipe = min_len_sweep(tmp_path, 120, storage, "leaky-test", 3, metric="kept", objective="leaky:kept")
    doc = yaml.safe_load(recipe.read_text())
    doc["ray_address"] = RAY_ADDRESS  # not used by the default executor, but copied into every recipe written
    recipe.write_text(yaml.safe_dump(doc))
    env = {"WANDB_API_KEY": API_KEY, "LEAK_URL": leak_url, "PYTHONPATH": str(tmp_path), "WANDB_MODE": "offline"}
    return recipe, env


RAY_PASSWORD = "r4yPa55-" + "9" * 12
RAY_ADDRESS = f"ray://admin:{RAY_PASSWORD}@127.0.0.1:10001"


def test_a_query_password_a_ray_password_and_secrets_in_trial_errors_stay_secret(tmp_path, dj_process, pg_url):
    import optuna

    parsed = urlparse(pg_url)
    password = parsed.password
    query_url = f"postgresql+psycopg2://{parsed.username}@{parsed.hostname}:{parsed.port}/hpo?password={password}"
    recipe, env = _leaky_sweep(tmp_path, query_url, pg_url)
    res = dj_process("--config", recipe, "--auto_hpo.seed", "5", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = (tmp_path / "hpo" / "trials.csv").read_text()
    assert "RuntimeError: cannot reach postgresql+psycopg2://hpo:***@" in rows and "with key ***" in rows
    assert "?password=***" in res.stderr  # the storage URL is shown, masked
    best = (tmp_path / "hpo" / "best_recipe.yaml").read_text()
    assert "ray://admin:***@127.0.0.1:10001" in best
    secrets = (password, API_KEY, RAY_PASSWORD)
    assert assert_no_secret(tmp_path, [res.stdout, res.stderr], secrets, skip={str(recipe)}) > 10
    study = optuna.load_study(study_name="leaky-test", storage=pg_url)  # what the study holds, read back
    stored = repr([t.user_attrs for t in study.get_trials()]) + repr(study.user_attrs)
    assert "with key ***" in stored and not any(secret in stored for secret in secrets)


def test_a_key_in_a_trial_error_reaches_neither_the_sqlite_study_nor_wandb(tmp_path, dj_process):
    recipe, env = _leaky_sweep(
        tmp_path, f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}", "https://api.test/?token=T0k3n99"
    )
    res = dj_process("--config", recipe, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "hpo" / "sweep.db").exists() and list((tmp_path / "hpo" / "wandb").rglob("*.wandb"))
    assert "https://api.test/?token=***" in (tmp_path / "hpo" / "trials.csv").read_text()
    assert assert_no_secret(tmp_path, [res.stdout, res.stderr], (API_KEY, "T0k3n99", RAY_PASSWORD), {str(recipe)}) > 10
