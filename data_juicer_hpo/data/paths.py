"""What a run reads and where it writes: an output never overwrites an input, never sits inside a directory
Data-Juicer reads as data, and is a path Data-Juicer can write -- all checked before anything is written.

The inputs are the recipe, the dataset (``dataset_path``, a mixture's ``weight path`` pairs, ``dataset.configs``),
the sweep file and the objectives' files (``auto_hpo.reference``, ``auto_hpo.downstream.eval``); the outputs the
export (and the ``<name>_stats.jsonl`` Data-Juicer writes beside it), the sweep's ``output_dir`` and 3sigma's
refined recipe. A dataset given as a directory is read whole, so an output inside it would be loaded as data by
the next run.
"""

import os
from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

from data_juicer_hpo.errors import full_places
from data_juicer_hpo.hooks.atomic_export import export_formats, stats_path
from data_juicer_hpo.ops.recipe import recipe_path
from data_juicer_hpo.section import SECTION

__all__ = ["inputs_of", "export_problems", "output_dir_problems", "output_file_problem", "free_space_problem"]

MIN_FREE_BYTES = 32 * 2**10  # a place with less than this left is full before the run starts (its first writes fail)


def _local(path) -> Optional[str]:
    """The absolute real path of a local path, None for a remote one (``s3://``...) or none at all."""
    if not path or not isinstance(path, str) or urlparse(path).scheme not in ("", "file"):
        return None
    return os.path.realpath(os.path.expanduser(path[len("file://") :] if path.startswith("file://") else path))


def _dataset_paths(cfg) -> Iterable[Tuple[str, str]]:
    path = cfg.get("dataset_path")
    if path:
        words = str(path).split()
        # Data-Juicer's mixture form "w1 path1 w2 path2": every second word after a weight is a path
        paths = words[1::2] if len(words) > 1 and _is_number(words[0]) else words
        for one in paths:
            yield "dataset_path", one
    dataset = cfg.get("dataset")
    configs = dataset.get("configs") if hasattr(dataset, "get") else None
    for i, entry in enumerate(configs or []):
        if hasattr(entry, "get") and entry.get("path"):
            yield f"dataset.configs[{i}].path", str(entry.get("path"))


def _is_number(word: str) -> bool:
    try:
        float(word)
        return True
    except ValueError:
        return False


def inputs_of(cfg, section: Dict) -> List[Tuple[str, str]]:
    """``(key, real path)`` of every local input of the run: files and directories that exist."""
    found = [("the recipe", recipe_path(cfg)), *_dataset_paths(cfg), (f"{SECTION}.hpo_config", section["hpo_config"])]
    found.append((f"{SECTION}.reference", section.get("reference")))
    downstream = section.get("downstream")
    if isinstance(downstream, dict):
        found.append((f"{SECTION}.downstream.eval", downstream.get("eval")))
    out = []
    for key, path in found:
        local = _local(path)
        if local and os.path.exists(local):
            out.append((key, local))
    return out


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def output_file_problem(key: str, path: str, inputs) -> Optional[str]:
    """An output file that is an input, or inside an input directory."""
    local = _local(path)
    if local is None:
        return None
    for input_key, input_path in inputs:
        if local == input_path:
            return f"{key}: would overwrite the input {input_key} ({input_path}); give another path"
        if os.path.isdir(input_path) and _inside(local, input_path):
            return (
                f"{key}: {local} is inside {input_path}, the directory {input_key} reads whole: the next run would "
                f"load it as data; write it elsewhere"
            )
    return None


def export_problems(cfg, inputs, executor_type: str = "default") -> List[str]:
    """``export_path``: a directory, a format Data-Juicer cannot write, an input (or its stats file one)."""
    path = cfg.get("export_path")
    local = _local(path)
    if local is None:
        return []
    if os.path.isdir(local):
        return [
            f"export_path: {local} is a directory; give the file to write, e.g. {os.path.join(local, 'kept.jsonl')}"
        ]
    kind = cfg.get("export_type") or _suffix(local, executor_type)
    formats = export_formats(executor_type)
    if kind not in formats:
        what = f"export_type {kind!r}" if cfg.get("export_type") else f"the suffix {('.' + kind) if kind else '(none)'}"
        return [
            f"export_path: Data-Juicer's {executor_type} executor cannot write {what} (it writes: "
            f"{', '.join('.' + f for f in sorted(formats))}; got {path!r})"
        ]
    stats = stats_path(local, kind)
    problem = output_file_problem("export_path", local, inputs) or (
        output_file_problem("export_path", stats, inputs) if stats != local else None
    )
    return [problem] if problem else []


def _suffix(path: str, executor_type: str) -> str:
    if executor_type == "default":  # Exporter._get_suffix: the text after the last dot
        parts = os.path.basename(path).rsplit(".", 1)
        return parts[-1].lower() if len(parts) == 2 else ""
    return os.path.splitext(path)[-1].strip(".") or "jsonl"  # RayExporter: jsonl without a suffix


def output_dir_problems(key: str, directory: str, inputs, written: Iterable[str] = ()) -> List[str]:
    """An output directory that is a file, lies inside an input directory, or holds an input under the name of a
    file the run writes there (``written``)."""
    local = _local(directory)
    if local is None:
        return []
    if os.path.exists(local) and not os.path.isdir(local):
        return [f"{key}: {local} is a file, not a directory"]
    problem = output_file_problem(key, local, [(k, p) for k, p in inputs if os.path.isdir(p)])
    if problem:
        return [problem]
    problems = [output_file_problem(key, os.path.join(local, name), inputs) for name in written]
    return [p for p in problems if p]


def free_space_problem(places: Dict[str, Optional[str]]) -> Optional[str]:
    """One line when a place the run writes to (key -> path; the nearest existing directory is measured) has less
    than 32 KiB left: the run would fail at its first writes."""
    existing = {key: _existing_dir(path) for key, path in places.items() if _local(path)}
    full = full_places(existing, MIN_FREE_BYTES)
    if not full:
        return None
    return f"{SECTION}: {full} before the run starts; make room there and run again"


def _existing_dir(path: str) -> str:
    local = _local(path)
    while local and not os.path.isdir(local):
        parent = os.path.dirname(local)
        if parent == local:
            break
        local = parent
    return local
