"""The ``parameters`` section of a W&B sweep: each entry checked against its distribution, every problem collected.

Follows W&B's schema (``sweeps/config/schema.json``): when ``distribution`` is absent it is inferred the way
W&B's schema matching does -- ``value`` -> constant, ``values`` -> categorical (with ``probabilities`` ->
categorical_w_probabilities), ``min``/``max`` both ints -> int_uniform, otherwise uniform.

Nested parameters (an entry holding its own ``parameters:`` mapping) are flattened to dotted names, so
``{text_length_filter: {parameters: {min_len: ...}}}`` becomes ``text_length_filter.min_len`` -- the same
spelling the Data-Juicer sweep files use for op arguments. A flattened name that collides with one written
with dots is a problem.
"""

import difflib
import math
import re
from typing import Any, Dict, List, Optional, Tuple

from data_juicer_hpo.engine.sweep_file.distributions import KINDS, ParamSpec, is_number

__all__ = ["parse_parameters", "parse_parameter", "grid_size"]

# W&B's schema restricts parameter names to this pattern; wandb.sweep would reject anything else.
# names address the recipe: `op.arg`, `op[i].arg` (an op that appears more than once) or a top-level key
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*(\[[0-9]+\])?[A-Za-z0-9_.-]*$")
_PROBABILITY_TOLERANCE = 1e-5  # W&B checks the sum with np.isclose(sum, 1.0)
_MAX_EXP = 709.0  # math.exp overflows above this


def _got(x: Any) -> str:
    hint = ""
    if isinstance(x, str):
        try:
            float(x)
            hint = "; YAML reads a number like 1e-3 as a string, write 1.0e-3"
        except ValueError:
            pass
    return f"(got {x!r}{hint})"


def _infer(raw: dict) -> Optional[str]:
    if "value" in raw:
        return "constant"
    if "values" in raw:
        return "categorical_w_probabilities" if "probabilities" in raw else "categorical"
    if "min" in raw and "max" in raw:
        ints = all(isinstance(raw[k], int) and not isinstance(raw[k], bool) for k in ("min", "max"))
        return "int_uniform" if ints else "uniform"
    return None


def _check_values(where: str, raw: dict, problems: List[str]) -> None:
    values, probs = raw.get("values"), raw.get("probabilities")
    if "values" in raw and (not isinstance(values, list) or not values):
        problems.append(f"{where}.values: must be a non-empty list {_got(values)}")
    if "probabilities" not in raw:
        return
    if not isinstance(probs, list) or not probs or not all(is_number(p) for p in probs):
        problems.append(f"{where}.probabilities: must be a non-empty list of numbers {_got(probs)}")
        return
    if any(p < 0 for p in probs):
        problems.append(f"{where}.probabilities: must all be >= 0 (got {probs})")
    if isinstance(values, list) and len(values) != len(probs):
        problems.append(
            f"{where}.probabilities: must have one entry per value (got {len(probs)} probabilities "
            f"for {len(values)} values)"
        )
    if abs(sum(probs) - 1.0) > _PROBABILITY_TOLERANCE:
        problems.append(f"{where}.probabilities: must sum to 1 (got sum={sum(probs):g})")


def _check_numbers(where: str, dist: str, raw: dict, problems: List[str]) -> None:
    kind = KINDS[dist]
    for key in ("min", "max", "q", "mu", "sigma", "a", "b"):
        if key not in raw:
            continue
        x = raw[key]
        if kind.integer_bounds and key in ("min", "max"):
            if not (isinstance(x, int) and not isinstance(x, bool)):
                problems.append(f"{where}.{key}: must be an integer for {dist} {_got(x)}")
        elif not is_number(x):
            problems.append(f"{where}.{key}: must be a number {_got(x)}")
        elif key in ("q", "sigma", "a", "b") and x <= 0:
            problems.append(f"{where}.{key}: must be > 0 (got {x})")
    lo, hi = raw.get("min"), raw.get("max")
    if not (is_number(lo) and is_number(hi)):
        return
    if lo >= hi:
        problems.append(f"{where}.max: must be > min (got min={lo}, max={hi})")
    if kind.positive_min and lo <= 0:
        problems.append(f"{where}.min: must be > 0 for {dist}, whose min/max are values (got {lo})")
    if dist in ("log_uniform", "q_log_uniform", "inv_log_uniform") and max(abs(lo), abs(hi)) > _MAX_EXP:
        problems.append(
            f"{where}: min/max of {dist} are natural-log exponents and must lie in [-{_MAX_EXP:g}, {_MAX_EXP:g}] "
            f"(got min={lo}, max={hi}); did you mean {dist}_values?"
        )


def parse_parameter(name: str, raw: Any, where: str) -> Tuple[Optional[ParamSpec], List[str]]:
    """One non-nested parameter: its :class:`ParamSpec` (None when invalid) and every problem found."""
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping such as {{values: [...]}} or {{min: .., max: ..}} {_got(raw)}"]
    dist = raw.get("distribution")
    if dist is None:
        dist = _infer(raw)
        if dist is None:
            return None, [
                f"{where}: cannot tell the distribution; give `distribution`, `value`, `values` or `min` and `max` "
                f"(got keys {sorted(map(str, raw))})"
            ]
    elif not isinstance(dist, str) or dist not in KINDS:
        close = difflib.get_close_matches(str(dist), KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (one of {', '.join(KINDS)})"
        return None, [f"{where}.distribution: unknown distribution {dist!r}{hint}"]
    kind = KINDS[dist]
    allowed = {"distribution", *kind.required, *kind.defaults}
    problems = [
        f"{where}.{key}: not a key of a {dist} parameter (allowed: {', '.join(sorted(allowed))})"
        for key in raw
        if key not in allowed
    ]
    problems += [f"{where}.{key}: required by distribution {dist}" for key in kind.required if key not in raw]
    _check_values(where, raw, problems)
    _check_numbers(where, dist, raw, problems)
    if problems:
        return None, problems
    filled = {**kind.defaults, **{k: v for k, v in raw.items() if k != "distribution"}}
    for key in ("values", "probabilities"):
        if key in filled:
            filled[key] = tuple(filled[key])
    int_valued = False
    if dist.startswith("q_"):
        # W&B: int iff q is an int; an omitted q (W&B's default 1.0) gives ints only for integer bounds.
        given_q = raw.get("q")
        bounds_int = all(isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool) for k in ("min", "max"))
        int_valued = isinstance(given_q, int) if given_q is not None else bounds_int
    return ParamSpec(name=name, distribution=dist, int_valued=int_valued, **filled), []


def parse_parameters(raw: Any, where: str) -> Tuple[Dict[str, ParamSpec], List[str]]:
    """The whole ``parameters`` mapping, nested entries flattened to dotted names, in the order given."""
    if not isinstance(raw, dict) or not raw:
        return {}, [f"{where}: must be a non-empty mapping of parameter name to its distribution {_got(raw)}"]
    specs: Dict[str, ParamSpec] = {}
    problems: List[str] = []

    def walk(entries: dict, prefix: str, path: str) -> None:
        for key, entry in entries.items():
            name, key_where = f"{prefix}{key}", f"{path}.{key}"
            if not isinstance(key, str) or not _NAME.match(key):
                problems.append(f"{key_where}: a parameter name must match {_NAME.pattern} (got {key!r})")
                continue
            if isinstance(entry, dict) and "parameters" in entry:
                extra = sorted(k for k in entry if k != "parameters")
                if extra:
                    problems.append(f"{key_where}: a nested parameter holds only `parameters` (got also {extra})")
                elif not isinstance(entry["parameters"], dict) or not entry["parameters"]:
                    problems.append(f"{key_where}.parameters: must be a non-empty mapping {_got(entry['parameters'])}")
                else:
                    walk(entry["parameters"], f"{name}.", f"{key_where}.parameters")
                continue
            if name in specs:
                problems.append(f"{key_where}: duplicates parameter {name!r} (nested names are joined with '.')")
                continue
            spec, found = parse_parameter(name, entry, key_where)
            problems.extend(found)
            if spec is not None:
                specs[name] = spec

    walk(raw, "", where)
    return specs, problems


def grid_size(specs: Dict[str, ParamSpec]) -> Optional[int]:
    """Number of grid points, or None when some parameter is not grid-able."""
    counts = [spec.grid_count() for spec in specs.values()]
    return None if None in counts else math.prod(counts)
