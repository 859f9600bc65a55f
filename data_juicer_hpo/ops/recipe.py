"""Recipe files and edits: load, copy-then-edit, and atomic writes. Never modifies the user's input."""

import copy
import json
from typing import Dict, Iterable, Optional, Tuple

import yaml

from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.inputs import load_yaml

__all__ = ["load_recipe_file", "recipe_path", "refined_recipe", "dump_recipe", "set_process_arg"]

SECTION = "auto_hpo"


def recipe_path(cfg) -> Optional[str]:
    """The path of the ``--config`` recipe a Data-Juicer config was parsed from."""
    config = cfg.get("config") if hasattr(cfg, "get") else None
    if not config:
        return None
    first = config[0] if isinstance(config, (list, tuple)) else config
    return str(getattr(first, "absolute", None) or first)


def load_recipe_file(path: str) -> dict:
    data = load_yaml("--config", path)  # YAML is a superset of JSON; read within the size and alias limits
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


def dump_recipe(recipe: dict, path: str) -> None:
    """Write a recipe as YAML (``.yaml``/``.yml``) or JSON (``.json``), atomically."""
    if path.lower().endswith(".json"):
        text = json.dumps(recipe, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True)
    write_atomic(path, text)
