"""A W&B sweep configuration, parsed and validated into plain data (:class:`SweepConfig`).

Semantics follow W&B's schema (``sweeps/config/schema.json``, ``config/cfg.py``): ``method`` (grid, random,
bayes) and ``parameters`` are required; ``metric.goal`` defaults to minimize; Bayesian search and hyperband
need a metric; a grid takes only discrete parameters. Data-Juicer's sweep files also carry ``sweep_max_count``
and ``sweep_name`` (aliases of ``run_cap`` and ``name``) and mix recipe keys in, which the caller names in
``extra_keys`` so that they are skipped; any other unknown key is a problem, since W&B would reject it too.
Every problem in the whole file is collected and raised once.
"""

import copy
import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional

from data_juicer_hpo.engine.sweep_file.distributions import (
    GRID_KINDS,
    ParamSpec,
    is_number,
)
from data_juicer_hpo.engine.sweep_file.hyperband import Hyperband, parse_early_terminate
from data_juicer_hpo.engine.sweep_file.parameters import parse_parameters
from data_juicer_hpo.errors import raise_if_any

__all__ = ["SweepConfig", "parse_sweep_config", "METHODS", "GOALS"]

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
ALIASES = {"sweep_max_count": "run_cap", "sweep_name": "name"}  # Data-Juicer's spelling -> W&B's

# W&B top-level keys this package does not interpret; they are kept in ``SweepConfig.raw`` for wandb.sweep.
_PASSTHROUGH = (
    "apiVersion",
    "kind",
    "controller",
    "description",
    "program",
    "command",
    "project",
    "entity",
    "job",
    "image_uri",
    "imageuri",
)
_UNSUPPORTED = {
    "metrics": "multi-objective sweeps need W&B's `method: custom`, which is not supported; use `metric`",
    "scheduler": "custom schedulers need W&B's `method: custom`, which is not supported",
}
_INTERPRETED = ("method", "metric", "parameters", "early_terminate", "run_cap", "name")
_METRIC_KEYS = {
    "name": None,
    "goal": GOALS,
    "target": None,
    "impute": ("latest", "best", "worst"),
    "impute_while_running": ("latest", "best", "worst", "false"),
}


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep. ``raw`` is a deep copy of the sweep keys as given (aliases renamed to W&B's keys,
    recipe keys dropped), ready for ``wandb.sweep``; ``source`` prefixes every key named in an error."""

    method: str
    parameters: Dict[str, ParamSpec]
    metric_name: Optional[str] = None
    goal: str = "minimize"
    target: Optional[float] = None
    hyperband: Optional[Hyperband] = None
    run_cap: Optional[int] = None
    name: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict)
    source: str = "hpo_config"


def _canonical(raw: dict, where: str, problems: List[str]) -> Dict[str, Any]:
    """The sweep keys under W&B's names; an alias given together with its W&B key must agree with it."""
    out: Dict[str, Any] = {}
    for key, value in raw.items():
        target = ALIASES.get(key, key)
        if target in out and out[target] != value:
            alias = key if key in ALIASES else next(a for a, t in ALIASES.items() if t == key)
            problems.append(
                f"{where}.{alias}: is Data-Juicer's alias of {ALIASES[alias]}, and both are given with different "
                f"values ({alias}={raw[alias]!r}, {ALIASES[alias]}={raw[ALIASES[alias]]!r}); keep one"
            )
        out[target] = value
    return out


def _parse_metric(raw: Any, where: str, problems: List[str]) -> Dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping such as {{name: quality_score, goal: maximize}} (got {raw!r})")
        return {}
    for key, value in raw.items():
        if key not in _METRIC_KEYS:
            problems.append(f"{where}.{key}: not a metric key (allowed: {', '.join(_METRIC_KEYS)})")
        elif _METRIC_KEYS[key] is not None and value not in _METRIC_KEYS[key]:
            problems.append(f"{where}.{key}: must be one of {', '.join(_METRIC_KEYS[key])} (got {value!r})")
    if not isinstance(raw.get("name"), str) or not raw.get("name"):
        problems.append(f"{where}.name: required, the name of the metric to optimise (got {raw.get('name')!r})")
    if "target" in raw and not is_number(raw["target"]):
        problems.append(f"{where}.target: must be a number (got {raw['target']!r})")
    return raw


def _check_grid(parameters: Dict[str, ParamSpec], where: str, problems: List[str]) -> None:
    for name, spec in parameters.items():
        if spec.distribution == "categorical_w_probabilities":
            problems.append(f"{where}.{name}.probabilities: a grid visits every value once, so W&B forbids them")
        elif spec.distribution not in GRID_KINDS:
            problems.append(
                f"{where}.{name}: a grid needs discrete parameters (value, values, int_uniform or q_uniform), "
                f"got distribution {spec.distribution}"
            )


def parse_sweep_config(
    raw: Any, *, source: str = "hpo_config", extra_keys: FrozenSet[str] = frozenset(), metric_required: bool = True
) -> SweepConfig:
    """Validate a loaded W&B sweep file and return it as a :class:`SweepConfig`.

    :param raw: the loaded YAML/JSON mapping.
    :param source: the name of the file or option, prefixed to every key in the problems reported.
    :param extra_keys: top-level keys that belong to someone else (Data-Juicer's recipe keys) and are skipped.
    :param metric_required: False when the objectives come from elsewhere (a multi-objective sweep): bayes and
        hyperband then do not need ``metric``.
    :raises AutoHpoError: listing every problem found, when there is any.
    """
    if not isinstance(raw, dict):
        raise_if_any([f"{source}: must be a mapping of sweep keys such as method and parameters (got {raw!r})"])
    problems: List[str] = []
    given = _canonical(raw, source, problems)
    known = (*_INTERPRETED, *_PASSTHROUGH)
    for key in given:
        if key in _UNSUPPORTED:
            problems.append(f"{source}.{key}: {_UNSUPPORTED[key]}")
        elif key not in known and key not in extra_keys:
            close = difflib.get_close_matches(str(key), [*known, *ALIASES], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{source}.{key}: not a W&B sweep key nor a recipe key{hint}")

    method = given.get("method")
    if method not in METHODS:
        problems.append(f"{source}.method: required, one of {', '.join(METHODS)} (got {method!r})")
    parameters, found = parse_parameters(given.get("parameters"), f"{source}.parameters")
    problems += found
    if method == "grid":
        _check_grid(parameters, f"{source}.parameters", problems)

    metric = _parse_metric(given["metric"], f"{source}.metric", problems) if "metric" in given else {}
    hyperband = None
    if "early_terminate" in given:
        hyperband, found = parse_early_terminate(given["early_terminate"], f"{source}.early_terminate")
        problems += found
    for needs, what in ((method == "bayes", "bayes search"), ("early_terminate" in given, "hyperband")):
        if needs and "metric" not in given and metric_required:
            problems.append(f"{source}.metric: {what} needs a metric to optimise, such as {{name: score}}")

    run_cap, name = given.get("run_cap"), given.get("name")
    cap_key = "run_cap" if "run_cap" in raw else "sweep_max_count"
    if run_cap is not None and not (isinstance(run_cap, int) and not isinstance(run_cap, bool) and run_cap > 0):
        problems.append(f"{source}.{cap_key}: must be a positive integer (got {run_cap!r})")
    if name is not None and not isinstance(name, str):
        problems.append(f"{source}.{'name' if 'name' in raw else 'sweep_name'}: must be a string (got {name!r})")
    raise_if_any(problems)

    return SweepConfig(
        method=method,
        parameters=parameters,
        metric_name=metric.get("name"),
        goal=metric.get("goal", "minimize"),
        target=metric.get("target"),
        hyperband=hyperband,
        run_cap=run_cap,
        name=name,
        raw={k: copy.deepcopy(v) for k, v in given.items() if k in known},
        source=source,
    )
