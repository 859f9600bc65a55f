"""Optuna samplers for each sweep method, on the unit-cube search space the engine defines.

``random``: every unit variable is ``u ~ U(0, 1)`` from a generator seeded by (seed, trial number, parameter
name), so each W&B distribution is sampled exactly through its inverse CDF, draws are reproducible, and neither
a resumed sweep nor a second worker replays the draws of earlier trials (a plain seeded RandomSampler would).
``bayes``: Optuna's TPE; its seed is offset by the number of trials already stored, for the same reason.
``grid``: trials get their values set directly, so its sampler is never asked; the random one stands in.
"""

import secrets
import zlib
from typing import Callable, Dict, Optional

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["UnitRandomSampler", "make_sampler", "SAMPLERS"]


class UnitRandomSampler(optuna.samplers.BaseSampler):
    """Independent uniform draws, a pure function of (seed, trial number, parameter name)."""

    def __init__(self, seed: Optional[int] = None):
        self._seed = (seed if seed is not None else secrets.randbits(63)) % 2**64

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        rng = np.random.default_rng([self._seed, trial.number, zlib.crc32(param_name.encode())])
        if isinstance(param_distribution, FloatDistribution):
            return float(param_distribution.low + rng.random() * (param_distribution.high - param_distribution.low))
        if isinstance(param_distribution, IntDistribution):
            return int(rng.integers(param_distribution.low, param_distribution.high + 1))
        if isinstance(param_distribution, CategoricalDistribution):
            return param_distribution.choices[int(rng.integers(len(param_distribution.choices)))]
        raise TypeError(f"unsupported distribution {param_distribution!r}")


SAMPLERS: Dict[str, Callable[[Optional[int], int], optuna.samplers.BaseSampler]] = {
    "random": lambda seed, n_stored: UnitRandomSampler(seed),
    "grid": lambda seed, n_stored: UnitRandomSampler(seed),
    "bayes": lambda seed, n_stored: optuna.samplers.TPESampler(seed=None if seed is None else seed + n_stored),
}


def make_sampler(method: str, seed: Optional[int], n_stored: int) -> optuna.samplers.BaseSampler:
    """The sampler of a sweep ``method`` given how many trials the study already holds."""
    return SAMPLERS[method](seed, n_stored)
