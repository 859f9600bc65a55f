"""The engine: W&B sweep configurations (:mod:`.sweep_file`, plain data) run locally on Optuna.

:class:`~.local_sweep.LocalSweep` runs a study's trials on a SQLAlchemy storage (:mod:`.storage`, with retries
through outages, :mod:`.retry`, a study lock, :mod:`.locking`, and each trial's place claimed in the database,
:mod:`.claims`) in any number of worker processes (:mod:`.pool`, :mod:`.workers`, :mod:`.heartbeat`); the search
space and samplers are :mod:`.space` and :mod:`.samplers`, what a trial is judged on :mod:`.goals`, a trial's record
:mod:`.trial`, and what a study is scored on :mod:`.fingerprint`.
"""

from data_juicer_hpo.engine.local_sweep import LocalSweep
from data_juicer_hpo.engine.locking import study_lock
from data_juicer_hpo.engine.pool import run_workers
from data_juicer_hpo.engine.storage import mask_url, validate_storage_url
from data_juicer_hpo.engine.sweep_file import (
    KINDS,
    Hyperband,
    ParamSpec,
    SweepConfig,
    grid_points,
    iter_grid_points,
    parse_sweep_config,
)
from data_juicer_hpo.engine.trial import TrialContext, TrialPruned, TrialRecord

__all__ = [
    "KINDS",
    "Hyperband",
    "ParamSpec",
    "SweepConfig",
    "grid_points",
    "iter_grid_points",
    "parse_sweep_config",
    "LocalSweep",
    "TrialContext",
    "TrialRecord",
    "TrialPruned",
    "validate_storage_url",
    "mask_url",
    "study_lock",
    "run_workers",
]
