"""Secrets masked (redaction.py): passwords in every URL form, keys of the environment, registered secrets, and
JSON-like values as Optuna and W&B get them."""

import os

from data_juicer_hpo.redaction import (
    MASK,
    environment_secrets,
    redact,
    redact_url,
    redact_value,
    register_secrets,
    secrets_of,
)


def test_every_url_form_of_a_password_is_masked():
    cases = {
        "postgresql+psycopg2://hpo:pa55w0rd@127.0.0.1:5432/hpo": "postgresql+psycopg2://hpo:***@127.0.0.1:5432/hpo",
        "postgresql://hpo@127.0.0.1/hpo?password=pa55w0rd": "postgresql://hpo@127.0.0.1/hpo?password=***",
        "postgresql://h/db?sslmode=require&sslpassword=k3y&Password=X%40y": (
            "postgresql://h/db?sslmode=require&sslpassword=***&Password=***"
        ),
        "ray://admin:pa55w0rd@10.0.0.1:10001": "ray://admin:***@10.0.0.1:10001",
        "ray://:pa55w0rd@head:10001": "ray://:***@head:10001",
        "https://x.test/api?token=abc123&page=2": "https://x.test/api?token=***&page=2",
        "sqlite:////tmp/sweep.db": "sqlite:////tmp/sweep.db",
        "text_key=text&pass_rate=0.5": "text_key=text&pass_rate=0.5",  # not a password parameter
    }
    for url, masked in cases.items():
        assert redact_url(url) == masked, url
        assert redact(f"error: cannot reach {url} (timeout)") == f"error: cannot reach {masked} (timeout)"
    assert redact_url(None) is None


def test_secrets_of_a_config_and_of_the_environment(monkeypatch):
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN", "_PASSWORD", "_SECRET", "PASSWORD")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setenv("PGPASSWORD", "short")  # 5 characters: too short to mask in every line
    monkeypatch.setenv("HF_TOKEN", "hf_0123456789")
    monkeypatch.setenv("MY_SECRET", "abc")  # too short for a name found by its pattern
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")  # not a secret's name
    assert sorted(environment_secrets()) == sorted(["k" * 40, "hf_0123456789"])
    found = secrets_of("postgresql://u:p%40ss@h/db", "ray://a:rayPa55@h:1", None)
    assert {"p%40ss", "p@ss", "rayPa55", "k" * 40, "hf_0123456789"} <= set(found)
    assert secrets_of("postgresql://u@h/db?password=QueryPw")[0] == "QueryPw"


def test_registered_secrets_are_masked_anywhere_and_in_nested_values():
    register_secrets(["registered-s3cret-value", ""])
    text = "the key registered-s3cret-value leaked, also ray://u:pw1@h"
    assert redact(text) == f"the key {MASK} leaked, also ray://u:{MASK}@h"
    value = {"error": text, "n": 3, "nested": [("registered-s3cret-value", 1.5)], "ok": None}
    assert redact_value(value) == {
        "error": redact(text),
        "n": 3,
        "nested": [(MASK, 1.5)],
        "ok": None,
    }
    assert redact(12) == 12
