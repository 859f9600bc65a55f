"""What the scripts share: flag extraction, their own ``--help``, and running a recipe the way ``dj-process``
does, with an :class:`~data_juicer_hpo.errors.AutoHpoError` turned into its lines and exit status 1."""

from typing import List, Optional, Sequence, Tuple

from data_juicer_hpo.errors import AutoHpoError, script_main, wants_help
from data_juicer_hpo.hooks import install
from data_juicer_hpo.imports import lazy_import

# Data-Juicer (2 s to import, and it logs): a script's --help needs none of it
dj_config = lazy_import("data_juicer.config")
# executor_type -> (module, class), as Data-Juicer's dj-process picks them
EXECUTORS = {
    "default": ("data_juicer.core", "DefaultExecutor"),
    "ray": ("data_juicer.core.executor.ray_executor", "RayExecutor"),
    "ray_partitioned": ("data_juicer.core.executor.ray_executor_partitioned", "PartitionedRayExecutor"),
}

__all__ = ["take_flag", "process_recipe", "wants_help", "script_main"]


def take_flag(argv: Sequence[str], names: Sequence[str]) -> Tuple[Optional[str], List[str]]:
    """Remove ``--name value`` / ``--name=value`` (any of ``names``) from ``argv``; return (last value, rest)."""
    value, rest, i = None, [], 0
    argv = list(argv)
    while i < len(argv):
        arg = argv[i]
        flag, eq, inline = arg.partition("=")
        if flag in names:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                value = argv[i + 1]
                i += 1
            else:
                raise AutoHpoError(f"{flag}: expects a value")
            i += 1
            continue
        rest.append(arg)
        i += 1
    return value, rest


def process_recipe(args: List[str]):
    """Parse ``args`` with Data-Juicer's parser (with the ``auto_hpo`` section) and run its executor."""

    install()  # before Data-Juicer's config module loads (see hooks/parser.py)
    cfg = dj_config.init_configs(args=args)
    module, name = EXECUTORS.get(cfg.executor_type, EXECUTORS["default"])
    return getattr(lazy_import(module), name)(cfg).run()
