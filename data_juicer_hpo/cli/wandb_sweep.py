"""``execute_hpo_wandb.py``: the seed's W&B sweep tool, on the plugin's ``auto_hpo`` wandb mode."""

from typing import Optional, Sequence

from data_juicer_hpo.cli.common import process_recipe, script_main, take_flag
from data_juicer_hpo.errors import AutoHpoError

__all__ = ["main", "USAGE"]

USAGE = """\
usage: execute_hpo_wandb.py --config RECIPE.yaml --hpo_config SWEEP.yaml [Data-Juicer flags]

Run a W&B sweep over the recipe (auto_hpo mode wandb): each trial processes the data with sampled parameters and
scores an objective; the best recipe is written and processes the full data once. Without W&B credentials the
sweep runs locally on Optuna and records every trial as a W&B offline run.

options:
  --config RECIPE.yaml          the Data-Juicer recipe (required)
  --hpo_config SWEEP.yaml       the W&B sweep configuration (required); alias --auto_hpo.hpo_config
  --auto_hpo.KEY VALUE          any key of the auto_hpo section (backend, objective, reference, output_dir, ...)
  -h, --help                    show this help and exit

Every other flag goes to Data-Juicer (--export_path, --np, ...): see `dj-process --help`.
"""


def _run(argv) -> None:
    hpo_config, rest = take_flag(argv, ("--hpo_config", "--auto_hpo.hpo_config"))
    if hpo_config is None:
        raise AutoHpoError("--hpo_config: required (the W&B sweep configuration file)")
    process_recipe(rest + ["--auto_hpo.mode", "wandb", "--auto_hpo.hpo_config", hpo_config])


def main(argv: Optional[Sequence[str]] = None) -> int:
    return script_main(_run, USAGE, argv)
