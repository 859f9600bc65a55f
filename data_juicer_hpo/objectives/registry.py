"""The registry that turns ``auto_hpo.objective`` (a name or ``package.module:function``) into an objective.

It replaces the if/elif dispatch of Data-Juicer's ``tools/hpo/objects.py``. Built-in objectives register with
:func:`register_objective` when their module is imported (``data_juicer_hpo.objectives`` imports them all); custom
``package.module:function`` specs become :class:`~data_juicer_hpo.objectives.custom.CustomObjective`. This module
sits above ``base`` and ``custom``, so neither imports it back.
"""

from typing import Dict, List, Type

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.objectives.base import GOALS, Objective
from data_juicer_hpo.objectives.custom import CustomObjective

__all__ = ["register_objective", "get_objective", "objective_names"]

_REGISTRY: Dict[str, Type[Objective]] = {}


def register_objective(cls: Type[Objective]) -> Type[Objective]:
    """Class decorator adding an objective to the registry under ``cls.name``; checked here, not at lookup."""
    if not (isinstance(cls, type) and issubclass(cls, Objective)):
        raise TypeError(f"register_objective expects an Objective subclass, but got {cls!r}")
    if not isinstance(cls.name, str) or not cls.name.isidentifier():
        raise ValueError(f"{cls.__name__}.name must be an identifier, but got {cls.name!r}")
    if cls.goal not in GOALS:
        raise ValueError(f"{cls.__name__}.goal must be one of {', '.join(GOALS)}, but got {cls.goal!r}")
    known = _REGISTRY.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"objective name {cls.name!r} is taken by {known.__module__}.{known.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def objective_names() -> List[str]:
    """The registered objective names, sorted."""
    return sorted(_REGISTRY)


def get_objective(spec: str, options: dict) -> Objective:
    """The objective for ``spec``: a registered name or ``package.module:function``.

    Raises :class:`AutoHpoError` for an unknown name. A custom spec is not imported here: its
    :meth:`~Objective.validate` reports import problems together with the other options' problems.
    """
    if isinstance(spec, str) and ":" in spec:
        return CustomObjective(spec, options)
    cls = _REGISTRY.get(spec) if isinstance(spec, str) else None
    if cls is None:
        raise AutoHpoError(
            f"auto_hpo.objective: unknown objective {spec!r} "
            f"(valid: {', '.join(objective_names())}, or 'package.module:function')"
        )
    return cls(options)
