"""``execute_hpo_3sigma.py``: the seed's 3-sigma tool, on the plugin's ``auto_hpo`` 3sigma mode."""

from typing import Optional, Sequence

from data_juicer_hpo.cli.common import process_recipe, script_main, take_flag

__all__ = ["main", "USAGE"]

RECIPE_FLAGS = ("--path_3sigma_recipe", "--path_k_sigma_recipe")
USAGE = """\
usage: execute_hpo_3sigma.py --config RECIPE.yaml [--path_3sigma_recipe REFINED.yaml] [Data-Juicer flags]

Tune every filter's min/max bounds of a Data-Juicer recipe to mean +/- k*std of its statistic (auto_hpo mode
3sigma), then process the data.

options:
  --config RECIPE.yaml          the Data-Juicer recipe (required)
  --path_3sigma_recipe PATH     write the refined recipe here (.yaml, .yml or .json); runnable by plain dj-process
  --path_k_sigma_recipe PATH    alias of --path_3sigma_recipe
  --auto_hpo.k K                bounds are mean +/- K*std (default 3.0); every --auto_hpo.* key works
  -h, --help                    show this help and exit

Every other flag goes to Data-Juicer (--export_path, --np, ...): see `dj-process --help`.
"""


def _run(argv) -> None:
    recipe, rest = take_flag(argv, RECIPE_FLAGS)
    args = rest + ["--auto_hpo.mode", "3sigma"]
    if recipe is not None:
        args += ["--auto_hpo.path_3sigma_recipe", recipe]
    process_recipe(args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return script_main(_run, USAGE, argv)
