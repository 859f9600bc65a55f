"""Fixed training budgets: ``model_loss`` and ``downstream_task`` trained on the same amount of data in every trial.

Without a budget a trial's model trains on everything it keeps, so more data wins whatever its quality (keeping
only the good documents scored 7.35 nats against 7.30 for keeping everything on the bench mix). With
``auto_hpo.budget: {samples: N}`` (or ``{tokens: N}``) and ``auto_hpo.repeats: R`` each trial trains on a seeded
random sample of N documents (or of whole documents until N tokens) drawn from what it keeps, R times, and scores
the mean; its standard error is ``<objective>_se`` in the trial's scores. Draw ``r`` of every trial uses the same
random stream (seed ``[auto_hpo.seed, r]``), so two trials that keep the same documents score the same.

A trial that keeps less than the budget is not scored on less: its score is the objective's worst and the sweep
adds the constraint ``kept >= N`` (``kept_tokens >= N``), which makes it infeasible.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.objectives.base import Objective, Population, as_indices
from data_juicer_hpo.objectives.kept import token_counts
from data_juicer_hpo.objectives.views import documents

__all__ = ["BUDGETED", "Budget", "Budgeted", "parse_budget", "draws"]

BUDGETED = ("model_loss", "downstream_task")  # the objectives that train a model on the kept documents
UNITS = ("samples", "tokens")
KEY = "auto_hpo.budget"
EXAMPLE = "{samples: 2000} or {tokens: 500000}"


@dataclass(frozen=True)
class Budget:
    """``size`` documents (``unit`` samples) or tokens (``unit`` tokens) per draw, ``repeats`` draws per trial."""

    unit: str
    size: int
    repeats: int = 1
    seed: int = 0

    @property
    def constraint(self) -> str:
        """The constraint that makes a trial keeping less than the budget infeasible."""
        return f"{'kept' if self.unit == 'samples' else 'kept_tokens'} >= {self.size}"


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_budget(section: dict) -> Tuple[Optional[Budget], List[str]]:
    """The budget of ``auto_hpo.budget`` / ``auto_hpo.repeats`` (None without one) and every problem."""
    raw, repeats = section.get("budget"), section.get("repeats", 1)
    problems = []
    if not _count(repeats):
        problems.append(f"auto_hpo.repeats: must be an integer >= 1 (got {repeats!r})")
    if raw is None:
        if _count(repeats) and repeats > 1:
            problems.append(
                "auto_hpo.repeats: needs auto_hpo.budget (without one a trial trains on everything it keeps, which is "
                "deterministic)"
            )
        return None, problems
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in UNITS:
        return None, problems + [f"{KEY}: must be one of {EXAMPLE} (got {raw!r})"]
    ((unit, size),) = raw.items()
    if not _count(size):
        return None, problems + [f"{KEY}.{unit}: must be an integer >= 1 (got {size!r})"]
    if problems:
        return None, problems
    seed = section.get("seed") if isinstance(section.get("seed"), int) else 0
    return Budget(unit, size, repeats, seed), []


def draws(kept: np.ndarray, budget: Budget, counts: Optional[np.ndarray] = None) -> List[np.ndarray]:
    """The ``budget.repeats`` samples of ``kept`` (indices) a trial trains on, each sorted; empty when ``kept`` is
    smaller than the budget. ``counts``: every document's token count (for a tokens budget)."""
    kept = np.asarray(kept, dtype=np.int64)
    out = []
    for r in range(budget.repeats):
        order = np.random.default_rng([budget.seed, r]).permutation(kept)
        if budget.unit == "samples":
            if len(order) < budget.size:
                return []
            out.append(np.sort(order[: budget.size]))
            continue
        total = np.cumsum(counts[order]) if len(order) else np.zeros(0, dtype=np.int64)
        if not len(total) or total[-1] < budget.size:
            return []
        out.append(np.sort(order[: int(np.searchsorted(total, budget.size)) + 1]))  # whole documents up to N tokens
    return out


class Budgeted(Objective):
    """``inner`` (``model_loss`` or ``downstream_task``) scored as the mean over the budget's draws; its name and
    goal are ``inner``'s. :meth:`score_details` also gives ``<name>_se`` (with two draws or more)."""

    def __init__(self, inner: Objective, budget: Budget):
        super().__init__(inner.options)
        self.inner, self.budget = inner, budget
        self.name, self.goal = inner.name, inner.goal

    def validate(self) -> List[str]:
        return self.inner.validate()

    def check_data(self, column) -> List[str]:
        return self.inner.check_data(column)

    def setup(self, population: Population) -> None:
        self.inner.setup(population)
        if self.budget.unit == "tokens":
            self._counts(population)

    def _counts(self, population: Population) -> Optional[np.ndarray]:
        if self.budget.unit != "tokens":
            return None
        base, rows = documents(population, np.arange(len(population)))
        return token_counts(base)[rows]

    def draws(self, population: Population, kept: np.ndarray) -> List[np.ndarray]:
        """The draws a trial keeping ``kept`` trains on ([] when it keeps less than the budget)."""
        return draws(as_indices(kept, len(population)), self.budget, self._counts(population))

    def values(self, population: Population, kept: np.ndarray) -> List[float]:
        """The inner objective's score on each draw ([] when the trial keeps less than the budget)."""
        return [float(self.inner.score(population, d)) for d in self.draws(population, kept)]

    def score_details(self, population: Population, kept: np.ndarray) -> Dict[str, float]:
        """``{name: mean over the draws, name_se: its standard error}`` (the worst score, and no standard error,
        for a trial that keeps less than the budget)."""
        values = self.values(population, kept)
        if not values:
            return {self.name: self.worst()}
        out = {self.name: float(np.mean(values))}
        if len(values) > 1:
            out[f"{self.name}_se"] = float(np.std(values, ddof=1) / math.sqrt(len(values)))
        return out

    def score(self, population: Population, kept: np.ndarray) -> float:
        return self.score_details(population, kept)[self.name]

    def worst(self) -> float:
        return self.inner.worst()
