"""Command-line entry points (the documented ``execute_hpo_*.py`` scripts call these)."""

from .common import run_recipe, take_flag
from .three_sigma import main as three_sigma_main
from .wandb_sweep import main as wandb_sweep_main

__all__ = ["run_recipe", "take_flag", "three_sigma_main", "wandb_sweep_main"]
