"""Small recipes and sweeps several end-to-end tests share."""

import glob
import json
import os
from pathlib import Path

from tests.helpers.data import varied_texts, write_jsonl, write_yaml

# the bad-input matrix's small recipe and sweep (e2e/test_bad_input.py), also run by e2e/test_dj_boundary.py
SWEEP = {
    "method": "random",
    "run_cap": 2,
    "metric": {"name": "retention", "goal": "maximize"},
    "parameters": {"text_length_filter.min_len": {"distribution": "int_uniform", "min": 1, "max": 50}},
}
PROCESS = [
    {"text_length_filter": {"min_len": 1, "max_len": 100000}},
    {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
]


def min_len_sweep(tmp_path: Path, n_texts: int, storage: str, name: str, run_cap: int, metric="retention", **section):
    """A recipe (path) whose local sweep moves ``text_length_filter.min_len`` on ``n_texts`` varied texts, with its
    study in ``storage`` and its outputs in ``tmp_path/hpo`` (``section``: more ``auto_hpo`` keys)."""
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(n_texts))
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "name": name,
            "method": "random",
            "run_cap": run_cap,
            "metric": {"name": metric, "goal": "maximize"},
            "parameters": {"text_length_filter.min_len": {"distribution": "int_uniform", "min": 1, "max": 300}},
        },
    )
    auto_hpo = {"mode": "wandb", "backend": "local", "hpo_config": str(sweep), "storage": storage}
    auto_hpo["output_dir"] = str(tmp_path / "hpo")
    auto_hpo.update(section)
    return length_recipe(tmp_path / "recipe.yaml", data, tmp_path / "out" / "kept.jsonl", **auto_hpo)


def length_recipe(path: Path, data: Path, export: Path, **auto_hpo) -> Path:
    """A one-process recipe (path) of one loose ``text_length_filter`` on ``data``, exporting to ``export``, with the
    ``auto_hpo`` section given."""
    return write_yaml(
        path,
        {
            "dataset_path": str(data),
            "export_path": str(export),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 10, "max_len": 100000}}],
            "auto_hpo": auto_hpo,
        },
    )


def executor_recipe(tmp_path: Path, name: str, data: Path, executor: str, process: list, auto_hpo: dict) -> Path:
    """``<name>.yaml``: ``process`` on ``data`` with ``executor`` (``ray``: the cluster at ``auto``), exporting to
    ``<name>/kept.jsonl``, with the ``auto_hpo`` section given."""
    return write_yaml(
        tmp_path / f"{name}.yaml",
        {
            "project_name": name,
            "executor_type": executor,
            "ray_address": "auto",
            "dataset_path": str(data),
            "export_path": str(tmp_path / name / "kept.jsonl"),
            "np": 2,
            "process": process,
            "auto_hpo": auto_hpo,
        },
    )


def exported_texts(path) -> list:
    """The sorted texts of an export: a JSON Lines file, or the directory of ``*.json`` parts Ray writes."""
    files = sorted(glob.glob(os.path.join(path, "*.json"))) if os.path.isdir(path) else [path]
    return sorted(json.loads(line)["text"] for f in files for line in open(f, encoding="utf-8") if line.strip())
