"""How each sweep parameter is represented on the Optuna side, and how a trial's user-facing values are made.

- random, and bayes for non-categorical parameters: a FloatDistribution(0, 1) holding the unit variable ``u``,
  mapped by :meth:`ParamSpec.from_unit`; a weighted categorical is one too, so its probabilities shape the draw.
- bayes, plain categorical: an Optuna categorical (TPE models those natively), over the values themselves when
  Optuna can store and tell them apart, else over their indices.
- grid: the point's values are written as the trial's parameters directly (int_uniform and integer q_uniform as
  ints, float q_uniform as a float, categorical as above); no sampler is asked.
- constants: not searched, as in W&B; they are only in the user-facing values.
"""

from typing import Any, Dict, Sequence

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from data_juicer_hpo.sweep.config import SweepConfig
from data_juicer_hpo.sweep.distributions import ParamSpec

__all__ = ["SearchSpace"]


def storable_choices(values: Sequence[Any]) -> tuple:
    """The values as Optuna categorical choices when Optuna can store and tell them apart, else their indices."""
    plain = all(v is None or isinstance(v, (bool, int, float, str)) for v in values)
    # Optuna finds a choice with list.index, which uses ==: 1 and True (or 1 and 1.0) would be confused.
    distinct = plain and all(values.index(v) == i for i, v in enumerate(values))
    return tuple(values) if distinct else tuple(range(len(values)))


def _position(values: Sequence[Any], value: Any) -> int:
    # By identity: grid points hold the very objects of the parameter's values, and == would confuse 1 and True.
    return next(i for i, v in enumerate(values) if v is value)


def _grid_distribution(spec: ParamSpec):
    """The Optuna distribution a grid parameter's value is stored under, and how to get the value's internal form."""
    if spec.distribution == "int_uniform":
        return IntDistribution(spec.min, spec.max), float
    if spec.distribution == "q_uniform":
        values = spec.grid_values()
        if spec.int_valued and isinstance(spec.q, int):
            return IntDistribution(values[0], values[-1], step=spec.q), float
        return FloatDistribution(values[0], values[-1]), float  # a float step would make Optuna re-round `high`
    return CategoricalDistribution(storable_choices(spec.values)), lambda v: float(_position(spec.values, v))


class SearchSpace:
    """The Optuna side of a sweep's parameters."""

    def __init__(self, sweep: SweepConfig):
        self._parameters = sweep.parameters
        self._choices = {
            name: storable_choices(spec.values)
            for name, spec in sweep.parameters.items()
            if sweep.method == "bayes" and spec.distribution == "categorical"
        }

    def suggest(self, trial) -> Dict[str, Any]:
        """Ask the study's sampler for every parameter of ``trial``; return the user-facing values."""
        return {name: self._suggest_one(trial, name, spec) for name, spec in self._parameters.items()}

    def _suggest_one(self, trial, name: str, spec: ParamSpec) -> Any:
        if spec.is_constant:
            return spec.value
        if name in self._choices:
            choices = self._choices[name]
            return spec.values[choices.index(trial.suggest_categorical(name, choices))]
        return spec.from_unit(trial.suggest_float(name, 0.0, 1.0))

    def set_point(self, storage, trial_id: int, point: Dict[str, Any]) -> None:
        """Write a grid point as the parameters of a trial."""
        for name, spec in self._parameters.items():
            if not spec.is_constant:
                dist, internal = _grid_distribution(spec)
                storage.set_trial_param(trial_id, name, internal(point[name]), dist)
