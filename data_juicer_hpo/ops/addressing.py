"""Which part of a recipe a sweep parameter sets: ``op.arg``, ``op[i].arg`` or a top-level Data-Juicer key.

Pure: takes the recipe's ``process`` list, the op classes and the top-level keys; returns plain targets, or one
problem line per parameter that addresses nothing (a typo must not become a silent no-op).
"""

import copy
import inspect
import numbers
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from data_juicer_hpo.ops.thresholds import (
    SIZE,
    fraction_of,
    parsed_args,
    size_bytes,
    threshold_pairs,
    to_recipe,
)

__all__ = ["Target", "resolve_targets", "apply_params", "recipe_problems"]

_OP_PARAM = re.compile(r"^(?P<op>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\])?\.(?P<arg>[A-Za-z_]\w*)$")


@dataclass(frozen=True)
class Target:
    name: str  # the sweep parameter's name
    position: Optional[int]  # op position in ``process``; None for a top-level key
    arg: str  # op argument, or the top-level key
    parse: Optional[str] = None  # a threshold the op parses from a string (ops.parsed.SIZE / FRACTION)


def _op_args(op_class) -> Optional[set]:
    """Named arguments an op accepts: its own ``__init__`` plus the base-class keys (``min_closed_interval``...)."""
    try:
        params = inspect.signature(op_class.__init__).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n != "self"}
    for cls in inspect.getmro(op_class):
        names |= set(getattr(cls, "_BASE_PARAMS", {}) or {})
    return names


def _parsed_args(op_class) -> dict:
    return parsed_args(op_class) if op_class is not None else {}


def resolve_targets(
    names: Iterable[str], process: List[dict], op_classes: Dict[str, type], top_keys: Iterable[str], source="hpo_config"
) -> Tuple[Dict[str, Target], List[str]]:
    """Map each sweep parameter name to its target in the recipe; collect a problem for every one that fails."""
    op_names = [next(iter(entry)) for entry in process]
    top_keys = set(top_keys)
    targets, problems = {}, []
    for name in names:
        key = f"{source}.parameters.{name}"
        match = _OP_PARAM.match(name)
        if match and match["op"] in op_names:
            op, arg = match["op"], match["arg"]
            positions = [i for i, n in enumerate(op_names) if n == op]
            if match["index"] is None and len(positions) > 1:
                problems.append(
                    f"{key}: {op} appears {len(positions)} times in process; name one instance as "
                    f"{op}[i].{arg} with i in 0..{len(positions) - 1}"
                )
                continue
            index = int(match["index"] or 0)
            if index >= len(positions):
                problems.append(f"{key}: {op} appears {len(positions)} time(s) in process; [{index}] is out of range")
                continue
            accepted = _op_args(op_classes[op]) if op in op_classes else None
            if accepted is not None and arg not in accepted:
                problems.append(f"{key}: {op} has no argument {arg!r} (arguments: {', '.join(sorted(accepted))})")
                continue
            targets[name] = Target(name, positions[index], arg, _parsed_args(op_classes.get(op)).get(arg))
        elif name in top_keys and name not in ("process", "auto_hpo", "config"):
            targets[name] = Target(name, None, name)
        else:
            ops = ", ".join(dict.fromkeys(op_names)) or "none"
            problems.append(
                f"{key}: addresses nothing in the recipe (ops in process: {ops}; " f"or a top-level Data-Juicer key)"
            )
    return targets, problems


def apply_params(process: List[dict], targets: Dict[str, Target], params: dict) -> Tuple[List[dict], dict]:
    """A deep copy of ``process`` with the op arguments set, and the top-level values, for one trial."""

    out = copy.deepcopy(process)
    top = {}
    for name, value in params.items():
        target = targets.get(name)
        if target is None:
            continue
        if target.position is None:
            top[target.arg] = value
        else:
            entry = out[target.position]
            op = next(iter(entry))
            if entry[op] is None:
                entry[op] = {}
            if target.parse:
                value = to_recipe(target.parse, value)  # a number: the string the op reads back as it
            entry[op][target.arg] = value
    return out, top


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _whole(value):
    return round(value) if isinstance(value, float) and value == value and abs(value) != float("inf") else value


def recipe_problems(
    process: List[dict],
    targets: Dict[str, Target],
    parameters: dict,
    op_classes: Dict[str, type],
    source: str = "hpo_config",
) -> List[str]:
    """Problems a sweep would only meet trial after trial: a numeric threshold swept over non-numbers, and a
    base recipe whose fixed bounds keep nothing (``min > max``)."""

    problems = []
    swept = {(t.position, t.arg) for t in targets.values() if t.position is not None}
    for name, target in targets.items():
        if target.position is None:
            continue
        op = next(iter(process[target.position]))
        numeric = {t.arg for p in threshold_pairs(op_classes.get(op)) for t in p.args} if op in op_classes else set()
        spec = parameters.get(name)
        values = list(getattr(spec, "values", None) or []) + (
            [spec.value] if getattr(spec, "value", None) is not None else []
        )
        if target.parse:
            # min/max of a linear distribution are values too (those of log or normal ones are not)
            dist = getattr(spec, "distribution", "") or ""
            linear = "log" not in dist and "normal" not in dist
            bounds = [getattr(spec, side, None) for side in ("min", "max")] if linear else []
            candidates = values + [b for b in bounds if b is not None]
            if target.parse == SIZE:
                bad = [v for v in candidates if size_bytes(_whole(v)) is None]
                what = "a size, a byte count >= 0 or a string such as '10KB' or '123456'"
            else:
                bad = [v for v in candidates if fraction_of(v) is None]
                what = "a ratio, a number >= 0 or a string such as '16/9' or '16:9'"
            if bad:
                problems.append(f"{source}.parameters.{name}: {op}.{target.arg} is {what} (got {bad[0]!r})")
            continue
        bad = [v for v in values if target.arg in numeric and (isinstance(v, bool) or not isinstance(v, (int, float)))]
        if bad:
            problems.append(
                f"{source}.parameters.{name}: {op}.{target.arg} is a number, but the sweep gives {bad[0]!r}"
            )
    for position, entry in enumerate(process):
        ((op, args),) = entry.items()
        args = args or {}
        for pair in threshold_pairs(op_classes.get(op)) if op in op_classes else []:
            if pair.low is None or pair.high is None:
                continue
            lo, hi = args.get(pair.low.arg), args.get(pair.high.arg)
            if pair.low.parse:
                read = size_bytes if pair.low.parse == SIZE else fraction_of
                lo, hi = read(lo), read(hi)
            fixed = (position, pair.low.arg) not in swept and (position, pair.high.arg) not in swept
            if fixed and _is_number(lo) and _is_number(hi) and lo > hi:
                problems.append(
                    f"process[{position}].{op}: {pair.low.arg} ({lo}) > {pair.high.arg} ({hi}), so it keeps no sample"
                )
    return problems
