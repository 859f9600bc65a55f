"""``synergy``: a weighted sum of other objectives, e.g. quality against quantity.

``auto_hpo.synergy`` maps objective names to weights; the score is ``sum(weight * score)`` and is maximized, so
the weights carry the direction: give an objective to minimize a negative weight. For instance::

    auto_hpo:
      objective: synergy
      reference: data/reference.jsonl.gz
      synergy: {quality_score: 1.0, model_loss: -0.2, retention: 0.5}

rewards quality and kept fraction and penalizes the held-out loss. The parts are registered objectives other than
``synergy`` itself; custom ``package.module:function`` objectives are excluded because they have no defined
worst score to add up.
"""

import math
from numbers import Real
from typing import Dict, List

import numpy as np

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.registry import (
    get_objective,
    objective_names,
    register_objective,
)

__all__ = ["Synergy"]

KEY = "auto_hpo.synergy"
EXAMPLE = "{quality_score: 1.0, model_loss: -0.2, retention: 0.5}"


@register_objective
class Synergy(Objective):
    """``sum(weight * part.score)`` over the parts of ``auto_hpo.synergy`` (maximize).

    ``worst()`` is the score of a trial that keeps nothing: every part scores its own worst, so it is
    ``sum(weight * part.worst())``. It is a floor for the usual case of positive weights on objectives to maximize
    and negative weights on objectives to minimize; other signs make keeping nothing score better than some trials.
    """

    name = "synergy"
    goal = "maximize"

    def __init__(self, options: dict):
        super().__init__(options)
        self.parts: Dict[str, Objective] = {}
        self.weights: Dict[str, float] = {}
        self._problems = self._parse(self.options.get("synergy"))

    def _parse(self, mapping) -> List[str]:
        """Build the parts; the problems are kept for :meth:`validate`, not raised, so all are reported at once."""
        if not mapping:
            return [f"{KEY}: required by objective synergy, a mapping {{objective: weight}} such as {EXAMPLE}"]
        if not isinstance(mapping, dict):
            return [f"{KEY}: must be a mapping {{objective: weight}} such as {EXAMPLE} (got {mapping!r})"]
        valid = [name for name in objective_names() if name != self.name]
        problems = []
        for name, weight in mapping.items():
            if name == self.name:
                problems.append(f"{KEY}.{name}: synergy cannot contain itself (valid: {', '.join(valid)})")
                continue
            if name not in valid:
                problems.append(f"{KEY}.{name}: unknown objective {name!r} (valid: {', '.join(valid)})")
                continue
            if isinstance(weight, bool) or not isinstance(weight, Real) or not math.isfinite(weight):
                problems.append(f"{KEY}.{name}: weight must be a finite number (got {weight!r})")
                continue
            self.parts[name] = get_objective(name, self.options)
            self.weights[name] = float(weight)
        return problems

    def validate(self) -> List[str]:
        problems = list(self._problems)
        for part in self.parts.values():
            # Parts share the options, so a missing reference would be reported once per part: keep one.
            problems.extend(p for p in part.validate() if p not in problems)
        return problems

    def check_data(self, column) -> List[str]:
        problems: List[str] = []
        for part in self.parts.values():
            problems.extend(p for p in part.check_data(column) if p not in problems)
        return problems

    def setup(self, population: Population) -> None:
        """Set up every part (each tokenizes the population a chunk at a time: no part holds its whole tokens)."""
        for part in self.parts.values():
            part.setup(population)

    def component_scores(self, population: Population, kept: np.ndarray) -> Dict[str, float]:
        """Each part's own score, for logging next to the combined one."""
        return {name: float(part.score(population, kept)) for name, part in self.parts.items()}

    def score(self, population: Population, kept: np.ndarray) -> float:
        scores = self.component_scores(population, kept)
        return float(sum(self.weights[name] * value for name, value in scores.items()))

    def worst(self) -> float:
        return float(sum(self.weights[name] * part.worst() for name, part in self.parts.items()))
