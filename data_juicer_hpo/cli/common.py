"""What the scripts share: flag extraction, their own ``--help``, and running a recipe the way ``dj-process``
does, with an :class:`~data_juicer_hpo.errors.AutoHpoError` turned into its lines and exit status 1."""

import sys
from typing import List, Optional, Sequence, Tuple

from ..errors import AutoHpoError, print_problems

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


def wants_help(argv: Sequence[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv)


def process_recipe(args: List[str]):
    """Parse ``args`` with Data-Juicer's parser (with the ``auto_hpo`` section) and run its executor."""
    from ..hooks import install

    install()
    from data_juicer.config import init_configs

    cfg = init_configs(args=args)
    if cfg.executor_type == "ray":
        from data_juicer.core.executor.ray_executor import RayExecutor as Executor
    elif cfg.executor_type == "ray_partitioned":
        from data_juicer.core.executor.ray_executor_partitioned import PartitionedRayExecutor as Executor
    else:
        from data_juicer.core import DefaultExecutor as Executor
    return Executor(cfg).run()


def script_main(run, usage: str, argv: Optional[Sequence[str]] = None) -> int:
    """A script's main: its own ``--help``; ``run(argv)``; an :class:`AutoHpoError` as one line per problem and
    exit status 1 (no traceback); anything else keeps its traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if wants_help(argv):
        sys.stdout.write(usage)
        return 0
    try:
        run(argv)
    except AutoHpoError as err:
        print_problems(err)
        return 1
    return 0
