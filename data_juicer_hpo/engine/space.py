"""How each sweep parameter is represented on the Optuna side, and how a trial's user-facing values are made.

Native parameters -- the W&B kinds whose set of values Optuna can express exactly -- are stored under their own
Optuna distribution, so ``trial.params``, ``study.best_params``, ``trials_dataframe()``, the ``optuna trials``
CLI and optuna-dashboard show the very value the trial's recipe got:

- ``values`` (categorical): a CategoricalDistribution over the values, or over their indices when Optuna cannot
  store the values or tell them apart (lists, mappings, 1 next to True);
- ``int_uniform``: IntDistribution(min, max);
- ``uniform``: FloatDistribution(min, max); ``log_uniform_values``/``log_uniform``: FloatDistribution(lo, hi,
  log=True) with lo, hi the bounds of the values;
- ``q_uniform``: IntDistribution or FloatDistribution with ``step=q`` over the multiples of q a draw can round to;
  ``q_log_uniform(_values)`` with integer output and ``q = 1``: IntDistribution(lo, hi, log=True).

Native or not, random search draws W&B's law exactly: :class:`~data_juicer_hpo.engine.samplers.UnitRandomSampler`
asks :meth:`SearchSpace.draw` for the value at its seeded quantile ``u``, which is a point of the native
distribution. TPE (bayes) models the native distributions directly. Every other kind (weighted categoricals,
``normal``, ``beta``, ``inv_log_uniform``, other quantised logs) keeps the unit encoding: a FloatDistribution(0, 1)
holding ``u``, mapped by :meth:`ParamSpec.from_unit`; its real value is the trial's user attribute of the same
name. Grid points are written as the trials' parameters directly, under the same distributions. Constants are
not searched, as in W&B; they are only in the user-facing values.
"""

import math
from decimal import Decimal
from typing import Any, Dict, Optional, Sequence

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from data_juicer_hpo.engine.sweep_file.config import SweepConfig
from data_juicer_hpo.engine.sweep_file.distributions import ParamSpec

__all__ = ["SearchSpace", "native_distribution", "UNIT"]

UNIT = FloatDistribution(0.0, 1.0)  # the encoding of every kind Optuna has no exact distribution for


def storable_choices(values: Sequence[Any]) -> tuple:
    """The values as Optuna categorical choices when Optuna can store and tell them apart, else their indices."""
    plain = all(v is None or isinstance(v, (bool, int, float, str)) for v in values)
    # Optuna finds a choice with list.index, which uses ==: 1 and True (or 1 and 1.0) would be confused.
    distinct = plain and all(values.index(v) == i for i, v in enumerate(values))
    return tuple(values) if distinct else tuple(range(len(values)))


def _position(values: Sequence[Any], value: Any) -> int:
    # By identity: grid points hold the very objects of the parameter's values, and == would confuse 1 and True.
    return next(i for i, v in enumerate(values) if v is value)


def _multiples(spec: ParamSpec, lo: float, hi: float):
    """The first and last multiple of q a draw can round to, exact in decimal so Optuna keeps ``high`` as is."""
    k_lo, k_hi = math.floor(lo / spec.q + 0.5), math.ceil(hi / spec.q - 0.5)
    if spec.int_valued:
        return int(k_lo * spec.q), int(k_hi * spec.q)
    q = Decimal(str(spec.q))
    return float(q * k_lo), float(q * k_hi)


def native_distribution(spec: ParamSpec) -> Optional[BaseDistribution]:
    """The Optuna distribution holding exactly the values ``spec`` can take, or None (unit encoding)."""
    kind = spec.distribution
    if kind == "categorical":
        return CategoricalDistribution(storable_choices(spec.values))
    if kind == "int_uniform":
        return IntDistribution(spec.min, spec.max)
    if kind == "uniform":
        return FloatDistribution(spec.min, spec.max)
    if kind in ("log_uniform_values", "log_uniform"):
        lo, hi = (spec.min, spec.max) if kind == "log_uniform_values" else (math.exp(spec.min), math.exp(spec.max))
        return FloatDistribution(lo, hi, log=True) if 0 < lo < hi < math.inf else None
    integral_q = spec.q is not None and float(spec.q).is_integer()
    if kind == "q_uniform":
        lo, hi = _multiples(spec, spec.min, spec.max)
        if spec.int_valued:
            return IntDistribution(lo, hi, step=int(spec.q)) if integral_q else None
        return FloatDistribution(lo, hi, step=spec.q)
    if kind in ("q_log_uniform_values", "q_log_uniform") and spec.int_valued and integral_q and spec.q == 1:
        bounds = (spec.min, spec.max) if kind == "q_log_uniform_values" else (math.exp(spec.min), math.exp(spec.max))
        lo, hi = _multiples(spec, *bounds)
        return IntDistribution(lo, hi, log=True) if 1 <= lo < hi else None
    return None


class SearchSpace:
    """The Optuna side of a sweep's parameters."""

    def __init__(self, sweep: SweepConfig):
        self._parameters = {name: spec for name, spec in sweep.parameters.items() if not spec.is_constant}
        self._constants = {name: spec.value for name, spec in sweep.parameters.items() if spec.is_constant}
        self._order = list(sweep.parameters)
        self._native = {name: native_distribution(spec) for name, spec in self._parameters.items()}

    def distribution(self, name: str) -> BaseDistribution:
        """The distribution ``name`` is stored under: its native one, else the unit variable."""
        return self._native[name] or UNIT

    def is_native(self, name: str) -> bool:
        return self._native.get(name) is not None

    def draw(self, name: str, u: float) -> Any:
        """Random search: the stored form of parameter ``name`` at quantile ``u`` of its W&B law."""
        dist = self._native.get(name)
        if dist is None:
            return u
        spec = self._parameters[name]
        value = spec.from_unit(u)
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[_position(spec.values, value)]
        return min(max(value, dist.low), dist.high)  # exp/log round trips may leave the bounds by an ulp

    def suggest(self, trial) -> Dict[str, Any]:
        """Ask the study's sampler for every parameter of ``trial``; return the user-facing values."""
        values = {name: self._suggest_one(trial, name) for name in self._parameters}
        return {name: values[name] if name in values else self._constants[name] for name in self._order}

    def _suggest_one(self, trial, name: str) -> Any:
        spec, dist = self._parameters[name], self.distribution(name)
        if isinstance(dist, CategoricalDistribution):
            stored = trial.suggest_categorical(name, dist.choices)
            return stored if self._as_is(name) else spec.values[stored]
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
        stored = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
        return spec.from_unit(stored) if dist is UNIT else stored

    def _as_is(self, name: str) -> bool:
        """Whether the study holds the parameter's very value (not a unit variable nor a categorical index)."""
        dist = self._native[name]
        if isinstance(dist, CategoricalDistribution):
            return dist.choices == tuple(self._parameters[name].values)
        return dist is not None

    def set_point(self, storage, trial_id: int, point: Dict[str, Any]) -> None:
        """Write a grid point as the parameters of a trial (grid kinds are all native)."""
        for name, spec in self._parameters.items():
            dist = self.distribution(name)
            value = point[name]
            if isinstance(dist, CategoricalDistribution):
                value = dist.choices[_position(spec.values, value)]
            storage.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)

    def encoded_values(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """The real values of the parameters the study holds in another form (unit variables, categorical
        indices), kept as user attributes of the trial under their names; empty when every one is native."""
        return {name: params[name] for name in self._parameters if not self._as_is(name)}
