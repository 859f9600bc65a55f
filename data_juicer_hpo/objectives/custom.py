"""Custom objectives given as ``auto_hpo.objective: package.module:function``.

The function is called once per trial as ``function(dataset, cfg) -> float``: ``dataset`` holds the kept samples
(``population.dataset.select(kept)``, a Hugging Face dataset; a list of ``{"text": ...}`` dicts when the
population has no dataset) and ``cfg`` is the recipe's Data-Juicer config. Its direction is ``auto_hpo``'s
``goal`` option when given, else the sweep metric's goal (``goal = None`` tells the caller so).
"""

import importlib
import math
from numbers import Real
from typing import Callable, List, Optional

import numpy as np

from data_juicer_hpo.objectives.base import (
    CUSTOM_SPEC,
    GOALS,
    Objective,
    Population,
    as_indices,
)

__all__ = ["CustomObjective"]

KEY = "auto_hpo.objective"


class CustomObjective(Objective):
    """A user function as an objective. Not registered: :func:`get_objective` builds one for any ``a.b:c`` spec.

    ``worst()`` is ``-inf`` when the goal is ``maximize`` and ``+inf`` otherwise (``minimize`` is also the sweep
    metric's default goal): nothing is known about the function's range, and a trial keeping nothing must not
    beat any real one.
    """

    name = "custom"
    goal = None

    def __init__(self, spec: str, options: dict):
        super().__init__(options)
        self.spec = spec
        goal = self.options.get("goal")
        self.goal = goal if goal in GOALS else None
        self._goal_problem = None if goal is None or goal in GOALS else goal
        self._function: Optional[Callable] = None

    def _resolve(self) -> Callable:
        """Import the function; raises ValueError worded for the user."""
        if not CUSTOM_SPEC.match(self.spec):
            raise ValueError(f"{KEY}: custom objective must be written 'package.module:function' (got {self.spec!r})")
        module_name, function_name = self.spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as e:  # any error while importing user code is the user's to fix, so report it as such
            reason = f"{type(e).__name__}: {e}"
            raise ValueError(f"{KEY}: cannot import module {module_name!r} of {self.spec!r} ({reason})") from None
        function = getattr(module, function_name, None)
        if function is None:
            raise ValueError(f"{KEY}: module {module_name!r} has no attribute {function_name!r} (got {self.spec!r})")
        if not callable(function):
            raise ValueError(f"{KEY}: {self.spec!r} is not callable (it is a {type(function).__name__})")
        return function

    def validate(self) -> List[str]:
        problems = []
        if self._goal_problem is not None:
            problems.append(f"auto_hpo.goal: must be one of {', '.join(GOALS)} (got {self._goal_problem!r})")
        try:
            self._function = self._resolve()
        except ValueError as e:
            problems.append(str(e))
        return problems

    def score(self, population: Population, kept: np.ndarray) -> float:
        kept = as_indices(kept, len(population))
        if kept.size == 0:
            return self.worst()
        if self._function is None:
            self._function = self._resolve()
        if population.dataset is not None:
            dataset = population.dataset.select(kept.tolist())
        else:
            dataset = [{"text": population.texts[i]} for i in kept]
        value = self._function(dataset, population.cfg)
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"custom objective {self.spec!r} must return a finite number, but returned {value!r}")
        return float(value)

    def worst(self) -> float:
        return -math.inf if self.goal == "maximize" else math.inf
