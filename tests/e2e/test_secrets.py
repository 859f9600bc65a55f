"""Secrets stay secret: the storage password and WANDB_API_KEY appear in no log, CSV, recipe or W&B run."""

import os
from urllib.parse import urlparse

import pytest

from tests.helpers.pg_server import pg_url_fixture
from tests.helpers.recipes import min_len_sweep

pytestmark = pytest.mark.e2e

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
