"""What the scripts share: flag extraction and running a recipe the way ``dj-process`` does."""

from typing import List, Optional, Sequence, Tuple

__all__ = ["take_flag", "run_recipe"]


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
                from ..errors import AutoHpoError

                raise AutoHpoError(f"{flag}: expects a value")
            i += 1
            continue
        rest.append(arg)
        i += 1
    return value, rest


def run_recipe(args: List[str]):
    """Parse ``args`` with Data-Juicer's parser (with the ``auto_hpo`` section) and run its executor."""
    from ..hooks import install

    install()
    from data_juicer.config import init_configs

    cfg = init_configs(args=args)
    if cfg.executor_type == "ray":
        from data_juicer.core.executor.ray_executor import RayExecutor as Executor
    else:
        from data_juicer.core import DefaultExecutor as Executor
    return Executor(cfg).run()
