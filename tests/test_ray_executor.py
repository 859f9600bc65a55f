"""executor_type: ray -- 3sigma on a Ray dataset, against the default executor on the same data."""

import glob
import json
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT, run, varied_texts, write_jsonl, write_yaml

pytestmark = pytest.mark.e2e


def _netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def ray_runner():
    """Runs a command beside a local Ray cluster on loopback (a private network namespace)."""
    if not _netns_available():
        if os.environ.get("CI"):
            pytest.fail("CI must run the Ray tests, but `unshare --net` is not available")
        pytest.skip("needs `unshare --net` (root) to keep Ray on loopback")

    def _run(cmd, cwd):
        return run(
            ["unshare", "--net", "bash", str(ROOT / "tests" / "ray_netns.sh"), *map(str, cmd)], cwd=cwd, timeout=900
        )

    return _run


def _recipe(tmp_path, name, data, executor, refined):
    return write_yaml(
        tmp_path / f"{name}.yaml",
        {
            "project_name": name,
            "executor_type": executor,
            "ray_address": "auto",
            "dataset_path": str(data),
            "export_path": str(tmp_path / name / "kept.jsonl"),
            "np": 2,
            "process": [
                {"text_length_filter": {"min_len": 10, "max_len": 100000}},
                {"remove_specific_chars_mapper": {"chars_to_remove": "#"}},
                {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
                {"special_characters_filter": {"max_ratio": 0.5}},
            ],
            "auto_hpo": {"mode": "3sigma", "path_3sigma_recipe": str(refined)},
        },
    )


def _kept_texts(path):
    files = sorted(glob.glob(os.path.join(path, "*.json"))) if os.path.isdir(path) else [path]
    return sorted(json.loads(line)["text"] for f in files for line in open(f, encoding="utf-8") if line.strip())


def test_three_sigma_on_ray_matches_the_default_executor(tmp_path, ray_runner, dj_process):
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(600))
    ray_recipe = _recipe(tmp_path, "ray", data, "ray", tmp_path / "refined-ray.yaml")
    default_recipe = _recipe(tmp_path, "default", data, "default", tmp_path / "refined-default.yaml")
    res = dj_process("--config", default_recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    res = ray_runner([BIN / "dj-process", "--config", ray_recipe], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "computing the statistics of [4] ops on [600] samples once (ray executor)" in res.stderr

    ray_ops = yaml.safe_load((tmp_path / "refined-ray.yaml").read_text())["process"]
    default_ops = yaml.safe_load((tmp_path / "refined-default.yaml").read_text())["process"]
    assert len(ray_ops) == len(default_ops) == 4
    for ray_entry, default_entry in zip(ray_ops, default_ops):
        ((name, ray_args),) = ray_entry.items()
        default_args = default_entry[name]
        assert set(ray_args) == set(default_args)
        for arg, value in ray_args.items():
            if isinstance(value, float):
                # the default executor stores statistics as JSON with 10 decimals; Ray keeps full precision
                assert value == pytest.approx(default_args[arg], rel=1e-8, abs=1e-9), (name, arg)
            else:
                assert value == default_args[arg], (name, arg)
    kept_ray = _kept_texts(str(tmp_path / "ray" / "kept.jsonl"))
    kept_default = _kept_texts(str(tmp_path / "default" / "kept.jsonl"))
    assert kept_ray == kept_default and 0 < len(kept_ray) < 600
    assert all("#" not in t for t in kept_ray)


def test_sweep_trials_run_on_ray(tmp_path, ray_runner):
    texts = varied_texts(500)
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "grid",
            "metric": {"name": "retention", "goal": "maximize"},
            "parameters": {
                "text_length_filter.min_len": {"values": [50, 200, 400]},
                "character_repetition_filter.rep_len": {"values": [5, 10]},
            },
        },
    )
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "executor_type": "ray",
            "ray_address": "auto",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "process": [
                {"remove_specific_chars_mapper": {"chars_to_remove": "#"}},
                {"text_length_filter": {"min_len": 10, "max_len": 100000}},
                {"character_repetition_filter": {"rep_len": 10, "max_ratio": 1.0}},
            ],
            "auto_hpo": {
                "mode": "wandb",
                "backend": "local",
                "hpo_config": str(sweep),
                "output_dir": str(tmp_path / "hpo"),
            },
        },
    )
    res = ray_runner([BIN / "dj-process", "--config", recipe], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        import csv

        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["state"] for r in rows} == {"COMPLETE"}
    mapped = [t.replace("#", "") for t in texts]
    for r in rows:  # max_ratio 1.0 keeps every repetition ratio: retention is the length rule alone
        min_len = int(r["text_length_filter.min_len"])
        expected = sum(1 for t in mapped if min_len <= len(t) <= 100000) / len(texts)
        assert float(r["retention"]) == pytest.approx(expected)
    kept = _kept_texts(str(tmp_path / "out" / "kept.jsonl"))
    assert len(kept) == sum(1 for t in mapped if 50 <= len(t) <= 100000)
