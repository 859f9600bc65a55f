"""How a sweep's trials are judged, from the ``auto_hpo`` section and the sweep file: the objective(s), the
constraints and, with several objectives, the one that selects the recipe to process.

- one objective (``auto_hpo.objective``, default the sweep's ``metric.name``), optimized toward ``metric.goal``;
- or ``auto_hpo.objectives: {quality_score: maximize, retention: maximize}`` (2 or 3): a multi-objective study;
  ``metric`` may then be omitted, and when given must name one of them; ``auto_hpo.select`` picks the processed
  recipe among the Pareto trials (default: the front's compromise, see ``outputs/pareto.py``);
- ``auto_hpo.constraints: ["retention >= 0.5", ...]``: every trial also scores each constrained objective;
- ``auto_hpo.budget`` / ``repeats``: ``model_loss`` and ``downstream_task`` train on fixed-size draws of what a trial
  keeps (:mod:`~data_juicer_hpo.objectives.budget`), and the constraint ``kept >= N`` is added.

Every objective is built once (a constrained objective that is also optimized is the same instance) and checked
before any work starts; every problem is one line naming its key (``auto_hpo.constraints[1]: ...``).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from loguru import logger

from data_juicer_hpo.engine.goals import Goals, parse_constraint
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.objectives import Budgeted, get_objective, parse_budget
from data_juicer_hpo.objectives.budget import BUDGETED
from data_juicer_hpo.section import SECTION

__all__ = ["Scoring", "resolve_scoring"]

_GOALS = ("maximize", "minimize")
_OBJECTIVE_KEY = f"{SECTION}.objective"


@dataclass
class Scoring:
    """The goals of the study, the objectives that score a trial (by column name), the main one (scored first,
    the one hyperband reports) and the objective that selects among Pareto trials."""

    goals: Goals
    objectives: Dict[str, object]
    main: str
    select: Optional[str] = None  # with several objectives: None chooses the front's compromise

    @property
    def extras(self) -> Dict[str, object]:
        """Every objective scored beside the main one."""
        return {name: obj for name, obj in self.objectives.items() if name != self.main}


def _build(spec, options: dict, key: str, problems: List[str]):
    """The objective for ``spec`` with its problems re-keyed to ``key`` (None when the name is unknown)."""

    try:
        objective = get_objective(spec, options)
    except AutoHpoError as e:
        problems.extend(p.replace(_OBJECTIVE_KEY, key, 1) for p in e.problems)
        return None
    for problem in objective.validate():
        problem = problem.replace(_OBJECTIVE_KEY + ":", key + ":", 1)
        if problem not in problems:  # a missing reference is one problem, however many objectives need it
            problems.append(problem)
    return objective


def _warn_goal(objective, spec: str, goal: str, where: str) -> None:
    if objective is not None and objective.goal and objective.goal != goal:
        better = "larger" if objective.goal == "maximize" else "smaller"
        logger.warning(f"auto_hpo[sweep]: {where} is {goal} but {spec} is better when it is {better}")


def _several(section, sweep, options, problems) -> Tuple[List[Tuple[str, str]], Dict[str, object]]:
    raw, key = section["objectives"], f"{SECTION}.objectives"
    example = "{quality_score: maximize, retention: maximize}"
    if not isinstance(raw, dict) or not 2 <= len(raw) <= 3:
        problems.append(f"{key}: must map 2 or 3 objectives to maximize/minimize, such as {example} (got {raw!r})")
        return [], {}
    if section["objective"]:
        problems.append(f"{_OBJECTIVE_KEY}: give either objective or objectives, not both")
    pairs, built = [], {}
    for name, goal in raw.items():
        if goal not in _GOALS:
            problems.append(f"{key}.{name}: goal must be maximize or minimize (got {goal!r})")
            continue
        objective = _build(name, {**options, "goal": goal}, f"{key}.{name}", problems)
        _warn_goal(objective, name, goal, f"{key}.{name}")
        pairs.append((str(name), goal))
        built[str(name)] = objective
    if sweep.metric_name is not None and sweep.metric_name not in raw:
        problems.append(
            f"{sweep.source}.metric.name: must name one of {key} ({', '.join(map(str, raw))}) or be omitted "
            f"(got {sweep.metric_name!r})"
        )
    if sweep.hyperband is not None:
        problems.append(f"{sweep.source}.early_terminate: Optuna prunes single-objective studies only; remove it")
    return pairs, built


def _single(section, sweep, options, problems) -> Tuple[List[Tuple[str, str]], Dict[str, object]]:
    spec = section["objective"] or sweep.metric_name
    if not spec:
        problems.append(f"{_OBJECTIVE_KEY}: not set and the sweep has no metric.name to take it from")
        return [], {}
    objective = _build(spec, {**options, "goal": sweep.goal}, _OBJECTIVE_KEY, problems)
    if objective is not None and objective.goal and objective.goal != sweep.goal:
        logger.warning(
            f"auto_hpo[sweep]: metric.goal is {sweep.goal} (W&B's default when unset) but {spec} is better "
            f"when it is {'larger' if objective.goal == 'maximize' else 'smaller'}; set metric.goal: {objective.goal}"
        )
    column = sweep.metric_name or getattr(objective, "name", None) or "objective"
    return [(column, sweep.goal)], {column: objective}


def _constraints(section, options, built, problems):
    raw, key = section["constraints"], f"{SECTION}.constraints"
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.append(f"{key}: must be a non-empty list such as ['retention >= 0.5'] (got {raw!r})")
        return []
    constraints = []
    for i, text in enumerate(raw):
        constraint, why = parse_constraint(text)
        if why is not None:
            problems.append(f"{key}[{i}]: {why} (got {text!r})")
            continue
        if constraint.objective not in built:
            built[constraint.objective] = _build(constraint.objective, options, f"{key}[{i}]", problems)
        constraints.append(constraint)
    return constraints


def _budget(section, sweep, options, built, problems) -> list:
    """Wrap the objectives that train a model in the budget's draws; the constraint it adds (or none)."""
    budget, found = parse_budget(section)
    problems += found
    if budget is None:
        return []
    trained = [name for name, objective in built.items() if getattr(objective, "name", None) in BUDGETED]
    if not trained:
        problems.append(
            f"{SECTION}.budget: applies to {' and '.join(BUDGETED)} (as objective, objectives or constraint), which "
            f"this sweep does not use"
        )
        return []
    if sweep.hyperband is not None:
        problems.append(
            f"{sweep.source}.early_terminate: a fixed budget trains every trial on the same amount of data; "
            f"hyperband's rungs (fractions of it) do not apply: remove early_terminate or {SECTION}.budget"
        )
    for name in trained:
        built[name] = Budgeted(built[name], budget)
    constraint, _ = parse_constraint(budget.constraint)
    if constraint.objective not in built:
        built[constraint.objective] = _build(constraint.objective, options, f"{SECTION}.budget", problems)
    return [constraint]


def resolve_scoring(section: dict, sweep) -> Tuple[Optional[Scoring], List[str]]:
    """How this sweep's trials are scored, and every problem found (None when there is any). ``section`` may carry
    ``recipe_text_key`` (the recipe's text field, which the labelled documents hold)."""
    problems: List[str] = []
    options = {**section, "text_key": "text"}
    several = section.get("objectives") is not None
    pairs, built = (_several if several else _single)(section, sweep, options, problems)
    constraints = _constraints(section, options, built, problems)
    constraints += _budget(section, sweep, options, built, problems)
    select = section.get("select")
    if select is not None and not several:
        problems.append(f"{SECTION}.select: chooses among the Pareto trials of auto_hpo.objectives, which is not set")
    elif several and select is not None and select not in dict(pairs):
        names = ", ".join(dict(pairs))
        problems.append(f"{SECTION}.select: must name one of {SECTION}.objectives ({names}) (got {select!r})")
    if problems or not pairs:
        return None, problems
    goals = Goals(tuple(pairs), tuple(constraints))
    main = pairs[0][0]
    return Scoring(goals, built, main, select if several else None), []
