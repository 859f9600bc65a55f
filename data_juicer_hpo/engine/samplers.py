"""Optuna samplers for each sweep method, on the unit-cube search space the engine defines.

``random``: every parameter gets the quantile ``u ~ U(0, 1)`` of a generator seeded by (seed, trial number,
parameter name) and takes the value at ``u`` of its W&B law (the search space's ``draw``: a point of its native
Optuna distribution, or ``u`` itself under the unit encoding), so each W&B distribution is sampled exactly
through its inverse CDF, draws are reproducible, and neither a resumed sweep nor a second worker replays the
draws of earlier trials (a plain seeded RandomSampler would).
``bayes``: Optuna's TPE (multi-objective TPE when the study has several directions; it reads the constraint
values each trial stores);
its seed is offset by the number of trials already stored, for the same reason.
``grid``: trials get their values set directly, so its sampler is never asked; the random one stands in.
"""

import secrets
import zlib
from typing import Any, Callable, Optional

import numpy as np
import optuna
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

__all__ = ["UnitRandomSampler", "make_sampler", "METHODS"]

METHODS = ("grid", "random", "bayes")


class UnitRandomSampler(optuna.samplers.BaseSampler):
    """Independent uniform draws, a pure function of (seed, trial number, parameter name)."""

    def __init__(self, seed: Optional[int] = None, draw: Optional[Callable[[str, float], Any]] = None):
        self._seed = (seed if seed is not None else secrets.randbits(63)) % 2**64
        self._draw = draw

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        rng = np.random.default_rng([self._seed, trial.number, zlib.crc32(param_name.encode())])
        if self._draw is not None:
            return self._draw(param_name, float(rng.random()))
        if isinstance(param_distribution, FloatDistribution):
            return float(param_distribution.low + rng.random() * (param_distribution.high - param_distribution.low))
        if isinstance(param_distribution, IntDistribution):
            return int(rng.integers(param_distribution.low, param_distribution.high + 1))
        if isinstance(param_distribution, CategoricalDistribution):
            return param_distribution.choices[int(rng.integers(len(param_distribution.choices)))]
        raise TypeError(f"unsupported distribution {param_distribution!r}")


def make_sampler(
    method: str,
    seed: Optional[int],
    n_stored: int,
    draw: Optional[Callable[[str, float], Any]] = None,
) -> optuna.samplers.BaseSampler:
    """The sampler of a sweep ``method`` given how many trials the study already holds.

    :param draw: the search space's ``draw(name, u)`` (random and grid).
    """
    if method not in METHODS:
        raise ValueError(f"unknown sweep method {method!r} (valid: {', '.join(METHODS)})")
    if method != "bayes":  # grid trials get their values set directly; the random sampler stands in
        return UnitRandomSampler(seed, draw)
    # TPE reads the constraint values each trial stores (``Trial.set_constraint``), multi-objective included.
    return optuna.samplers.TPESampler(seed=None if seed is None else seed + n_stored)
