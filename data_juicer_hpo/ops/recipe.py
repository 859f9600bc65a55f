"""Recipe files and edits: load, copy-then-edit, and atomic writes. Never modifies the user's input."""

import copy
import io
import json
import os
import tempfile
from typing import Dict, Iterable, Optional, Tuple, Union

import yaml

__all__ = [
    "load_recipe_file",
    "recipe_path",
    "refined_recipe",
    "write_atomic",
    "write_figure",
    "current_umask",
    "dump_recipe",
    "set_process_arg",
]

SECTION = "auto_hpo"


def recipe_path(cfg) -> Optional[str]:
    """The path of the ``--config`` recipe a Data-Juicer config was parsed from."""
    config = cfg.get("config") if hasattr(cfg, "get") else None
    if not config:
        return None
    first = config[0] if isinstance(config, (list, tuple)) else config
    return str(getattr(first, "absolute", None) or first)


def load_recipe_file(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)  # YAML is a superset of JSON
    return data if isinstance(data, dict) else {}


def set_process_arg(process: list, index: int, arg: str, value) -> None:
    """Set ``arg`` of the op at ``index`` of a ``process`` list (``[{op_name: {args}}]``) in place."""
    entry = process[index]
    op_name = next(iter(entry))
    if entry[op_name] is None:
        entry[op_name] = {}
    entry[op_name][arg] = value


def refined_recipe(original: dict, changes: Dict[Tuple[int, str], object], overrides: Iterable = ()) -> dict:
    """A copy of ``original`` with ``changes[(op_index, arg)] = value`` applied and the ``auto_hpo`` block removed.

    ``overrides`` are ``(key, value)`` pairs of top-level keys set on the command line, so that the refined recipe
    reproduces the effective run.
    """
    out = copy.deepcopy(original)
    out.pop(SECTION, None)
    for key, value in overrides:
        out[key] = copy.deepcopy(value)
    process = out.setdefault("process", [])
    for (index, arg), value in sorted(changes.items()):
        set_process_arg(process, index, arg, value)
    return out


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it (``os.umask`` can only swap it, which
    would briefly give another thread's new files the wrong mode)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, content: Union[str, bytes]) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` through a temp file in the same directory and
    ``os.replace``: never half-written. The file gets the mode a plain ``open`` would give it (0666 less the umask):
    ``mkstemp`` makes its files 0600, which would hide the outputs from the user's group."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_figure(fig, path: str) -> None:
    """Save a matplotlib figure as PNG through :func:`write_atomic`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_atomic(path, buf.getvalue())


def dump_recipe(recipe: dict, path: str) -> None:
    """Write a recipe as YAML (``.yaml``/``.yml``) or JSON (``.json``), atomically."""
    if path.lower().endswith(".json"):
        text = json.dumps(recipe, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True)
    write_atomic(path, text)
