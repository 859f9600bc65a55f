"""What an objective is, the documents it scores, and the registry that turns ``auto_hpo.objective`` into one.

A sweep trial keeps a subset of the documents its recipe's filters see; an objective turns that subset into one
number. Objectives are looked up by name (``quality_score``, ``model_loss``, ...) or given as
``package.module:function`` (see :mod:`data_juicer_hpo.objectives.custom`). The registry replaces the if/elif
dispatch of Data-Juicer's ``tools/hpo/objects.py``.
"""

import abc
import re
from collections.abc import Sequence
from typing import Any, ClassVar, Dict, List, Optional, Type

import numpy as np

from data_juicer_hpo.errors import AutoHpoError

__all__ = ["Population", "Objective", "register_objective", "get_objective", "objective_names", "CUSTOM_SPEC"]

GOALS = ("maximize", "minimize")

# ``package.module:function``; anything with a colon is meant as one, so a malformed spec gets its own message.
CUSTOM_SPEC = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


class Population:
    """The documents a sweep's trials choose from: every sample as the recipe's filters see it (after mappers).

    :param texts: the text of every sample, in dataset order (a sequence; trials refer to samples by index into it).
    :param dataset: the same samples as a Hugging Face ``datasets.Dataset`` (None in unit tests).
    :param cfg: the Data-Juicer config namespace of the recipe (None in unit tests).

    ``cache`` lets objectives share work derived from the texts (e.g. the token streams that both
    ``quality_score`` and ``model_loss`` need inside a ``synergy``); keys name their producer.
    """

    def __init__(self, texts: List[str], dataset=None, cfg=None):
        # a sequence is kept as it is (the sweep passes one that reads from Data-Juicer's Arrow table, not a list)
        self.texts = texts if isinstance(texts, Sequence) and not isinstance(texts, str) else list(texts)
        self.dataset = dataset
        self.cfg = cfg
        self.cache: Dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return f"Population(n={len(self.texts)}, dataset={'yes' if self.dataset is not None else 'no'})"


class Objective(abc.ABC):
    """Scores the documents a trial keeps.

    Life cycle: the objective is built from the ``auto_hpo`` options, :meth:`validate` is called once before any
    work starts, :meth:`setup` once per distinct population, then :meth:`score` once per trial (and once per
    hyperband rung, with that rung's subset). ``goal`` is the objective's natural direction; ``None`` (custom
    objectives only) means "use the sweep metric's goal".
    """

    name: ClassVar[str] = ""
    goal: ClassVar[Optional[str]] = None

    def __init__(self, options: dict):
        self.options = dict(options or {})

    def validate(self) -> List[str]:
        """Called once before any work starts: every problem with the options, one line each naming the key."""
        return []

    def setup(self, population: Population) -> None:
        """Called once per distinct population, before its first :meth:`score`; may cache per-document work."""

    @abc.abstractmethod
    def score(self, population: Population, kept: np.ndarray) -> float:
        """Called once per trial: the score of the documents ``population.texts[kept]``.

        ``kept`` holds int indices into ``population.texts``. An empty ``kept`` scores :meth:`worst`.
        """

    @abc.abstractmethod
    def worst(self) -> float:
        """The defined score of a trial that keeps nothing."""


def as_indices(kept, n: int) -> np.ndarray:
    """``kept`` as sorted distinct int64 indices, checked against the population size (a caller bug: ValueError).

    A document is kept or not, so a repeated index must not count twice in a mean or a fraction.
    """
    kept = np.unique(np.asarray(kept, dtype=np.int64).reshape(-1))
    if kept.size and (kept.min() < 0 or kept.max() >= n):
        raise ValueError(f"kept indices must lie in [0, {n}), but got min={kept.min()}, max={kept.max()}")
    return kept


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
        from data_juicer_hpo.objectives.custom import CustomObjective  # here, as custom.py imports this module

        return CustomObjective(spec, options)
    cls = _REGISTRY.get(spec) if isinstance(spec, str) else None
    if cls is None:
        raise AutoHpoError(
            f"auto_hpo.objective: unknown objective {spec!r} "
            f"(valid: {', '.join(objective_names())}, or 'package.module:function')"
        )
    return cls(options)
