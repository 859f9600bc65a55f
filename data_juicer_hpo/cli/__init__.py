"""The seed's scripts (``execute_hpo_3sigma.py``, ``execute_hpo_wandb.py``) on the plugin's modes."""

from data_juicer_hpo.cli.common import process_recipe, take_flag
from data_juicer_hpo.cli.three_sigma import main as three_sigma_main
from data_juicer_hpo.cli.wandb_sweep import main as wandb_sweep_main

__all__ = ["process_recipe", "take_flag", "three_sigma_main", "wandb_sweep_main"]
