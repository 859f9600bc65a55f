"""``execute_hpo_wandb.py``: the seed's W&B sweep tool, on the plugin's ``auto_hpo`` wandb mode.

Usage (the seed's, verbatim)::

    python execute_hpo_wandb.py --config <recipe.yaml> --hpo_config <sweep.yaml>

Every other flag goes to Data-Juicer (``--auto_hpo.backend local``, ``--auto_hpo.reference ...``).
"""

import sys
from typing import Optional, Sequence

from loguru import logger

from ..errors import AutoHpoError, reported
from .common import run_recipe, take_flag

__all__ = ["main"]


@logger.catch(reraise=True)
def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    hpo_config, rest = take_flag(argv, ("--hpo_config", "--auto_hpo.hpo_config"))
    if hpo_config is None and "--help" not in rest and "-h" not in rest:
        with reported():
            raise AutoHpoError("--hpo_config: required (the W&B sweep configuration file)")
    args = rest + ["--auto_hpo.mode", "wandb"]
    if hpo_config is not None:
        args += ["--auto_hpo.hpo_config", hpo_config]
    run_recipe(args)
    return 0
