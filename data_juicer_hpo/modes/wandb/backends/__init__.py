"""Where a sweep's trials run, one train function: ``local`` (the engine on Optuna, :mod:`.local`, each trial recorded
as a W&B offline run by :mod:`.tracking`) and ``wandb`` (a real W&B sweep and agent, :mod:`.wandb_agent`)."""

from data_juicer_hpo.modes.wandb.backends.local import run_local
from data_juicer_hpo.modes.wandb.backends.wandb_agent import run_wandb

__all__ = ["BACKENDS", "run_trials"]

# ``auto_hpo.backend`` (as chosen by ``checks.choose_backend``) -> the function that runs the trials
BACKENDS = {"local": run_local, "wandb": run_wandb}


def run_trials(name: str, sweep, evaluator, section, storage, study, out_dir, cfg, goals=None) -> list:
    """Run the sweep's trials on backend ``name``; every trial of the study (or of the W&B sweep) as records."""
    return BACKENDS[name](sweep, evaluator, section, storage, study, out_dir, cfg, goals=goals)
