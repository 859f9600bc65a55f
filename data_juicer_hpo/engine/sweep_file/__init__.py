"""A W&B sweep configuration file as plain data (pure, no Optuna): its keys and their checks (:mod:`.config`),
parameters and their distributions (:mod:`.parameters`, :mod:`.distributions`, the beta function in :mod:`.beta`),
grids (:mod:`.grid`) and hyperband early termination (:mod:`.hyperband`)."""

from data_juicer_hpo.engine.sweep_file.config import SweepConfig, parse_sweep_config
from data_juicer_hpo.engine.sweep_file.distributions import KINDS, ParamSpec
from data_juicer_hpo.engine.sweep_file.grid import grid_points, iter_grid_points
from data_juicer_hpo.engine.sweep_file.hyperband import Hyperband

__all__ = ["KINDS", "Hyperband", "ParamSpec", "SweepConfig", "grid_points", "iter_grid_points", "parse_sweep_config"]
