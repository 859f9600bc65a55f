"""What a sweep's trials are scored on, as a fingerprint stored with the study: a resume compares it.

A study resumed on other data (a dataset appended to between a kill and the rerun), another base recipe or
another objective would mix incomparable values, and the best would be chosen among them. The fingerprint has
one short string per component, so a difference names what changed:

- ``dataset``: each local path of ``dataset_path`` with its size and a content hash (size and modification time
  for files over 256 MiB, and for directories: their files' total size, count and newest time);
- ``samples``: the number of samples loaded;
- ``ops``: a hash of the base recipe's ``process`` without the arguments the sweep sets (they vary per trial) and
  those that only say where and how fast an op runs (``work_dir``, ``num_proc``...);
- ``objective``: the objective, its goal and the options that change its scores (reference set, synergy weights,
  the labels file and a training budget -- these two only when set, so that a study made before they existed still
  resumes).
"""

import hashlib
import json
import os
from typing import Dict, Iterable, List

__all__ = ["fingerprint", "differences", "HASH_LIMIT"]

HASH_LIMIT = 256 * 2**20  # bytes: larger files are known by size and modification time
_OBJECTIVE_OPTIONS = ("objective", "reference", "synergy", "downstream", "constraints", "objectives", "select")
_OPTIONAL_OPTIONS = {
    "labels": None,
    "budget": None,
    "repeats": 1,
    "sample": None,
}  # key -> its unset value (then not part of it)
# op arguments Data-Juicer fills in that say where and how fast an op runs, not what it keeps (``work_dir`` holds
# each run's job id)
_RUN_ARGS = {
    "work_dir",
    "num_proc",
    "auto_op_parallelism",
    "turbo",
    "accelerator",
    "adaptive_batching",
    "batch_mode",
    "cpu_required",
    "gpu_required",
    "mem_required",
    "num_cpus",
    "num_gpus",
    "memory",
    "runtime_env",
    "ray_execution_mode",
    "stats_export_path",
    "skip_op_error",
}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def _file_state(path: str) -> str:
    size = os.path.getsize(path)
    if size > HASH_LIMIT:
        return f"{path} {size} bytes, modified {os.stat(path).st_mtime_ns}"
    h = hashlib.blake2b(digest_size=6)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"{path} {size} bytes #{h.hexdigest()}"


def _dir_state(path: str) -> str:
    total = count = newest = 0
    for root, _, files in os.walk(path):
        for name in files:
            stat = os.stat(os.path.join(root, name))
            total, count, newest = total + stat.st_size, count + 1, max(newest, stat.st_mtime_ns)
    return f"{path} {count} files {total} bytes, newest {newest}"


def _paths_state(dataset_path) -> str:
    """Each existing local path named in ``dataset_path`` (weights and remote ids are kept as written)."""
    parts = []
    for token in str(dataset_path or "").split():
        path = os.path.abspath(token)
        if os.path.isfile(path):
            parts.append(_file_state(path))
        elif os.path.isdir(path):
            parts.append(_dir_state(path))
        else:
            parts.append(token)
    return "; ".join(parts)


def _configs_state(dataset) -> str:
    """Each source of a ``dataset: {configs: [...]}`` block: its local path's state (weights are swept or part
    of the recipe, not of the data)."""
    configs = (dataset or {}).get("configs") if isinstance(dataset, dict) else None
    if not configs:
        return "(dataset config)"
    return " | ".join(_paths_state((c or {}).get("path")) or repr(c) for c in configs)


def _ops_state(process: List[dict], swept: Iterable) -> str:
    """The base ``process`` without the ``(position, arg)`` pairs the sweep sets."""
    swept = set(swept)
    kept = []
    for position, entry in enumerate(process or []):
        for name, args in (entry or {}).items():
            args = {k: v for k, v in (args or {}).items() if (position, k) not in swept and k not in _RUN_ARGS}
            kept.append([name, args])
    return "#" + _digest(json.dumps(kept, sort_keys=True, default=repr).encode())


def fingerprint(cfg, section: dict, goal: str, swept, n_samples: int) -> Dict[str, str]:
    """The fingerprint of a sweep about to run (see the module doc); ``swept``: ``(position, arg)`` pairs."""
    options = {key: section.get(key) for key in _OBJECTIVE_OPTIONS}
    reference = options.get("reference")
    if reference and os.path.isfile(str(reference)):
        options["reference"] = _file_state(os.path.abspath(str(reference)))
    for key, unset in _OPTIONAL_OPTIONS.items():
        if section.get(key, unset) != unset:
            options[key] = section[key]
    if options.get("sample") is not None:  # the documents a sample holds depend on its seed
        options["sample"] = [options["sample"], section.get("seed", 0)]
    labels = options.get("labels")
    if isinstance(labels, dict) and labels.get("path") and os.path.isfile(str(labels["path"])):
        options["labels"] = {**labels, "path": _file_state(os.path.abspath(str(labels["path"])))}
    described = json.dumps({**options, "goal": goal}, sort_keys=True, default=repr)
    return {
        "dataset": _paths_state(cfg.get("dataset_path")) or _configs_state(cfg.get("dataset")),
        "samples": str(int(n_samples)),
        "ops": _ops_state(cfg.get("process"), swept),
        "objective": f"{options.get('objective') or '(metric)'} #{_digest(described.encode())}",
    }


def differences(stored: Dict[str, str], current: Dict[str, str]) -> List[str]:
    """``component: stored -> current`` for each component that differs."""
    return [
        f"{key}: {stored.get(key)} -> {current.get(key)}"
        for key in sorted(set(stored) | set(current))
        if stored.get(key) != current.get(key)
    ]
