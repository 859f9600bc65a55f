"""``retention``: the fraction of the population a trial keeps."""

import numpy as np

from data_juicer_hpo.objectives.base import Objective, Population, as_indices
from data_juicer_hpo.objectives.registry import register_objective

__all__ = ["Retention"]


@register_objective
class Retention(Objective):
    """``len(kept) / len(population)`` (maximize; 0.0 when nothing is kept). Needs no options."""

    name = "retention"
    goal = "maximize"

    def score(self, population: Population, kept: np.ndarray) -> float:
        kept = as_indices(kept, len(population))
        if kept.size == 0:
            return self.worst()
        return kept.size / len(population)

    def worst(self) -> float:
        return 0.0
