"""What a trial is judged on, as plain data: the objectives and their goals, and the constraints.

A constraint is ``<objective> <op> <number>`` with op one of ``>=``, ``<=``, ``>``, ``<`` (``retention >= 0.5``).
For Optuna's samplers each is turned into one number that is <= 0 exactly when it holds (Optuna's convention,
``Trial.set_constraint``; TPE reads them in ``optuna/samplers/_tpe/sampler.py``): ``bound - value`` for ``>=``,
``value - bound`` for ``<=``; a strict op that fails only by equality gets the smallest positive float instead
of 0. A trial is feasible when every constraint holds; one whose objective is missing or not a number is not.
"""

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ["Constraint", "Goals", "parse_constraint", "OPS"]

OPS = (">=", "<=", ">", "<")
_FORM = re.compile(r"^\s*(?P<objective>[^\s<>=]+)\s*(?P<op>>=|<=|>|<)\s*(?P<bound>\S+)\s*$")
_TINY = 5e-324  # the smallest positive float: "violated, by nothing measurable"


@dataclass(frozen=True)
class Constraint:
    objective: str
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.objective} {self.op} {self.bound:g}"

    def holds(self, value: Optional[float]) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return {">=": value >= self.bound, "<=": value <= self.bound, ">": value > self.bound, "<": value < self.bound}[
            self.op
        ]

    def violation(self, value: Optional[float]) -> float:
        """Optuna's convention: <= 0 exactly when the constraint holds; how far off it is otherwise."""
        if value is None or not math.isfinite(value):
            return math.inf
        amount = self.bound - value if self.op in (">=", ">") else value - self.bound
        return _TINY if amount == 0 and not self.holds(value) else float(amount)


def parse_constraint(text: Any) -> Tuple[Optional[Constraint], Optional[str]]:
    """A constraint from its text, or the reason it is not one."""
    match = _FORM.match(text) if isinstance(text, str) else None
    if match is None:
        return None, f"must read '<objective> <op> <number>' with op one of {', '.join(OPS)}, e.g. 'retention >= 0.5'"
    try:
        bound = float(match["bound"])
    except ValueError:
        bound = math.nan
    if not math.isfinite(bound):
        return None, f"the bound must be a finite number (got {match['bound']!r})"
    return Constraint(match["objective"], match["op"], bound), None


@dataclass(frozen=True)
class Goals:
    """The objectives a study optimizes (one: a single-objective study; 2-3: a multi-objective one), each with its
    goal, and the constraints every trial is checked against."""

    objectives: Tuple[Tuple[str, str], ...]
    constraints: Tuple[Constraint, ...] = field(default_factory=tuple)

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self.objectives]

    @property
    def directions(self) -> List[str]:
        return [goal for _, goal in self.objectives]

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def constrained_names(self) -> List[str]:
        """The constrained objectives that are not optimized (each is a column of its own in ``trials.csv``)."""
        return list(dict.fromkeys(c.objective for c in self.constraints if c.objective not in self.names))

    @property
    def constraint_keys(self) -> List[str]:
        """One distinct name per constraint, as Optuna stores it (``constraints:<name>`` system attribute)."""
        keys = [str(c) for c in self.constraints]
        return [k if keys.count(k) == 1 else f"{i}: {k}" for i, k in enumerate(keys)]

    def violations(self, scores: Mapping[str, float]) -> List[float]:
        return [c.violation(scores.get(c.objective)) for c in self.constraints]

    def feasible(self, scores: Mapping[str, float]) -> bool:
        return all(c.holds(scores.get(c.objective)) for c in self.constraints)

    def total_violation(self, scores: Mapping[str, float]) -> float:
        return sum(max(0.0, v) for v in self.violations(scores))

    def describe_violation(self, scores: Mapping[str, float]) -> str:
        """``retention=0.41 (needs >= 0.5)`` for every constraint that fails."""
        failed = [c for c in self.constraints if not c.holds(scores.get(c.objective))]
        shown = [f"{c.objective}={scores.get(c.objective, math.nan):.4g} (needs {c.op} {c.bound:g})" for c in failed]
        return ", ".join(shown)

    def key(self) -> Dict[str, Any]:
        """What a stored study must agree on to be resumed."""
        return {"objectives": [list(o) for o in self.objectives], "constraints": [str(c) for c in self.constraints]}


def better(goal: str, a: float, b: float) -> bool:
    return a > b if goal == "maximize" else a < b


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """``a`` is at least as good as ``b`` on every objective and better on one."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    at_least = all(s * x >= s * y for s, x, y in zip(signs, a, b))
    return at_least and any(s * x > s * y for s, x, y in zip(signs, a, b))
