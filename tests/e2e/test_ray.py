"""executor_type: ray -- 3sigma on a Ray dataset, against the default executor on the same data."""

import json
import os

import pytest
import yaml

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.recipes import executor_recipe, exported_texts
from tests.helpers.runs import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


PROCESS = [
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"remove_specific_chars_mapper": {"chars_to_remove": "#"}},
    {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
    {"special_characters_filter": {"max_ratio": 0.5}},
]


def _recipe(tmp_path, name, data, executor, refined):
    return executor_recipe(
        tmp_path, name, data, executor, PROCESS, {"mode": "3sigma", "path_3sigma_recipe": str(refined)}
    )


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
    kept_ray = exported_texts(str(tmp_path / "ray" / "kept.jsonl"))
    kept_default = exported_texts(str(tmp_path / "default" / "kept.jsonl"))
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
    # rep_len shapes a statistic: not per-block partial aggregates, and one line says why
    assert (
        "on Ray the trials run on the driver, with every document's statistics: parameter "
        "character_repetition_filter.rep_len is not a filter's threshold" in res.stderr
    )
    with open(tmp_path / "hpo" / "trials.csv") as f:
        import csv

        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and {r["state"] for r in rows} == {"COMPLETE"}
    mapped = [t.replace("#", "") for t in texts]
    for r in rows:  # max_ratio 1.0 keeps every repetition ratio: retention is the length rule alone
        min_len = int(r["text_length_filter.min_len"])
        expected = sum(1 for t in mapped if min_len <= len(t) <= 100000) / len(texts)
        assert float(r["retention"]) == pytest.approx(expected)
    kept = exported_texts(str(tmp_path / "out" / "kept.jsonl"))
    assert len(kept) == sum(1 for t in mapped if 50 <= len(t) <= 100000)


def test_three_sigma_and_sweep_on_images_on_ray(tmp_path, ray_runner, dj_process):
    """List-valued statistics on Ray: the same pooled bounds and kept set as the default executor, and sweep trials
    whose keep masks honour any_or_all, checked against numpy over the images."""
    pytest.importorskip("PIL")
    import csv
    import math

    from PIL import Image

    from tests.helpers.media import image_samples

    samples = image_samples(tmp_path / "media", n=50)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(s) + "\n" for s in samples))
    process = [
        {"image_shape_filter": {"any_or_all": "all"}},
        {"image_size_filter": {"max_size": "1TB", "any_or_all": "any"}},
    ]

    def recipe(name, executor, auto_hpo):
        return executor_recipe(tmp_path, name, data, executor, process, auto_hpo)

    res = ray_runner(
        [
            BIN / "dj-process",
            "--config",
            recipe("ray", "ray", {"mode": "3sigma", "path_3sigma_recipe": str(tmp_path / "r.yaml")}),
        ],
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    res = dj_process(
        "--config", recipe("default", "default", {"mode": "3sigma", "path_3sigma_recipe": str(tmp_path / "d.yaml")})
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ray_ops = yaml.safe_load((tmp_path / "r.yaml").read_text())["process"]
    assert ray_ops == yaml.safe_load((tmp_path / "d.yaml").read_text())["process"]
    widths = [Image.open(p).size[0] for s in samples for p in s["images"]]
    assert ray_ops[0]["image_shape_filter"]["max_width"] == math.floor(
        sum(widths) / len(widths) + 3 * float(__import__("numpy").std(widths, ddof=1))
    )
    assert isinstance(ray_ops[1]["image_size_filter"]["max_size"], str)
    kept_ray = exported_texts(str(tmp_path / "ray" / "kept.jsonl"))
    assert kept_ray == exported_texts(str(tmp_path / "default" / "kept.jsonl")) and 0 < len(kept_ray) < len(samples)

    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "grid",
            "metric": {"name": "retention", "goal": "maximize"},
            "parameters": {
                "image_shape_filter.min_width": {"values": [25, 40]},
                "image_size_filter.max_size": {"values": ["5KB", 8000]},
            },
        },
    )
    auto_hpo = {"mode": "wandb", "backend": "local", "hpo_config": str(sweep), "output_dir": str(tmp_path / "hpo")}
    res = ray_runner([BIN / "dj-process", "--config", recipe("sweep-run", "ray", auto_hpo)], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["state"] for r in rows} == {"COMPLETE"}
    size = {p: os.path.getsize(p) for s in samples for p in s["images"]}
    width = {p: Image.open(p).size[0] for p in size}
    for r in rows:
        min_width = int(r["image_shape_filter.min_width"])
        max_size = {"5KB": 5120, "8000": 8000}[r["image_size_filter.max_size"]]
        kept = sum(
            1
            for s in samples
            if not s["images"]
            or (all(width[p] >= min_width for p in s["images"]) and any(size[p] <= max_size for p in s["images"]))
        )
        assert float(r["retention"]) == pytest.approx(kept / len(samples)), r


def test_downstream_task_reads_labels_on_ray(tmp_path, ray_runner):
    """The Ray population keeps every sample field (labels included), not just the text."""
    topics = {"space": "orbit rocket moon crew launch", "cooking": "oven flour butter garlic bake"}
    rows = [
        {"text": " ".join([topics[t]] * (3 + i % 5)), "meta": {"source": t}}
        for i, t in enumerate(["space", "cooking"] * 40)
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    evaluation = tmp_path / "eval.jsonl"
    evaluation.write_text("".join(json.dumps(r) + "\n" for r in rows[:20]))
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "grid",
            "metric": {"name": "downstream_task", "goal": "maximize"},
            "parameters": {"text_length_filter.min_len": {"values": [1, 100000]}},
        },
    )
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "executor_type": "ray",
            "ray_address": "auto",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "process": [{"text_length_filter": {"min_len": 1, "max_len": 1000000}}],
            "auto_hpo": {
                "mode": "wandb",
                "backend": "local",
                "hpo_config": str(sweep),
                "output_dir": str(tmp_path / "hpo"),
                "downstream": {"label_key": "meta.source", "eval": str(evaluation)},
            },
        },
    )
    res = ray_runner([BIN / "dj-process", "--config", recipe], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    import csv

    with open(tmp_path / "hpo" / "trials.csv") as f:
        values = {int(r["text_length_filter.min_len"]): r for r in csv.DictReader(f)}
    assert values[1]["state"] == "COMPLETE" and float(values[1]["downstream_task"]) == 1.0
    assert float(values[100000]["downstream_task"]) == 0.0  # keeps nothing
