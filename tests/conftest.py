"""Shared fixtures: small JSON Lines data made by the tests, the real corpora, and subprocess runners."""

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent


def write_jsonl(path: Path, texts, extra=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            row = {"text": text, "meta": {"id": str(i)}}
            if extra:
                row.update(extra(i))
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def tree_digest(root) -> dict:
    """Every file and directory under ``root`` with its bytes' digest (directories: None): taken before and after
    a run, it shows that nothing was written, created or changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), root)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def read_jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def varied_texts(n=400, seed=7):
    """Sentences of varied length with a handful of extreme outliers (3-sigma has something to cut)."""
    rng = random.Random(seed)
    words = "data juicer filters text by length ratio and repetition of characters in documents".split()
    texts = []
    for i in range(n):
        k = max(1, int(rng.gauss(40, 12)))
        line = " ".join(rng.choice(words) for _ in range(k))
        if i % 97 == 3:
            line = line * 30  # very long, repetitive
        if i % 89 == 5:
            line = "#$%^&*()!" * 20  # special characters
        texts.append(line)
    return texts


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
    return write_yaml(
        tmp_path / "recipe.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 10, "max_len": 100000}}],
            "auto_hpo": {**auto_hpo, "output_dir": str(tmp_path / "hpo"), **section},
        },
    )


def run(cmd, cwd, env=None, timeout=900):
    full_env = dict(os.environ)
    full_env.setdefault("WANDB_SILENT", "true")
    # plain Data-Juicer (no auto_hpo mode) would install a multi-GB torch at run time after every op; the plugin's
    # documented opt-in keeps the test runs offline (tests of the default behaviour remove it)
    full_env.setdefault("DJ_HPO_BLOCK_RUNTIME_INSTALLS", "1")
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    if env:
        full_env.update(env)
    return subprocess.run(
        cmd, cwd=cwd, env=full_env, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout
    )


@pytest.fixture
def dj_process(tmp_path):
    def _run(*args, env=None):
        return run([str(BIN / "dj-process"), *map(str, args)], cwd=tmp_path, env=env)

    return _run


@pytest.fixture
def script(tmp_path):
    def _run(name, *args, env=None):
        return run([sys.executable, str(ROOT / name), *map(str, args)], cwd=tmp_path, env=env)

    return _run


@pytest.fixture(scope="session")
def shared_data():
    """``../shared/data``: skipped where absent, but CI must have it (a skip there would hide a red test)."""
    if not (SHARED_DATA / "bench-corpus.jsonl.gz").exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the corpus tests, but {SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA


def decompress(src: Path, dst: Path, limit=None) -> Path:
    with gzip.open(src, "rt", encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            if limit is not None and i >= limit:
                break
            fout.write(line)
    return dst
