"""W&B sweep configurations as plain data, and a local engine that runs them on Optuna.

The configuration side (parsing, distributions, grid) is light; the engine side imports Optuna and SQLAlchemy,
so its names are loaded on first use.
"""

import importlib

from data_juicer_hpo.sweep.config import SweepConfig, parse_sweep_config
from data_juicer_hpo.sweep.distributions import KINDS, ParamSpec
from data_juicer_hpo.sweep.grid import grid_points, iter_grid_points
from data_juicer_hpo.sweep.hyperband import Hyperband

_LAZY = {
    "LocalSweep": "data_juicer_hpo.sweep.engine",
    "TrialContext": "data_juicer_hpo.sweep.trial",
    "TrialRecord": "data_juicer_hpo.sweep.trial",
    "TrialPruned": "data_juicer_hpo.sweep.trial",
    "validate_storage_url": "data_juicer_hpo.sweep.storage",
    "mask_url": "data_juicer_hpo.sweep.storage",
    "study_lock": "data_juicer_hpo.sweep.locking",
    "run_workers": "data_juicer_hpo.sweep.pool",
}

__all__ = [
    "KINDS",
    "Hyperband",
    "ParamSpec",
    "SweepConfig",
    "grid_points",
    "iter_grid_points",
    "parse_sweep_config",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
