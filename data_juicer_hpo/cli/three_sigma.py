"""``execute_hpo_3sigma.py``: the seed's 3-sigma tool, on the plugin's ``auto_hpo`` 3sigma mode.

Usage (the seed's, verbatim)::

    python execute_hpo_3sigma.py --config <recipe.yaml> [--path_3sigma_recipe <refined.yaml>]

``--path_k_sigma_recipe`` is an alias of ``--path_3sigma_recipe``; every other flag goes to Data-Juicer
(``--auto_hpo.k 2.5``, ``--export_path ...``).
"""

import sys
from typing import Optional, Sequence

from loguru import logger

from .common import run_recipe, take_flag

__all__ = ["main"]

RECIPE_FLAGS = ("--path_3sigma_recipe", "--path_k_sigma_recipe")


@logger.catch(reraise=True)
def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    recipe, rest = take_flag(argv, RECIPE_FLAGS)
    args = rest + ["--auto_hpo.mode", "3sigma"]
    if recipe is not None:
        args += ["--auto_hpo.path_3sigma_recipe", recipe]
    run_recipe(args)
    return 0
