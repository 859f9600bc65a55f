"""Small JSON Lines and YAML files the tests make and read, the varied texts they make them of, and a digest of a
directory tree (to show that a run wrote, created or changed nothing)."""

import gzip
import hashlib
import json
import os
import random
from pathlib import Path

import yaml


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


def decompress(src: Path, dst: Path, limit=None) -> Path:
    with gzip.open(src, "rt", encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            if limit is not None and i >= limit:
                break
            fout.write(line)
    return dst
