"""What an objective is and the documents it scores.

A sweep trial keeps a subset of the documents its recipe's filters see; an objective turns that subset into one
number. Objectives are looked up by name (``quality_score``, ``model_loss``, ...) or given as
``package.module:function``: see :mod:`data_juicer_hpo.objectives.registry`.
"""

import abc
import re
from collections.abc import Sequence
from typing import Any, Callable, ClassVar, Dict, List, Optional

import numpy as np

__all__ = ["GOALS", "CUSTOM_SPEC", "Population", "Objective", "as_indices"]

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
    work starts, :meth:`check_data` once when the dataset is loaded, :meth:`setup` once per distinct population,
    then :meth:`score` once per trial (and once per hyperband rung, with that rung's subset). ``goal`` is the
    objective's natural direction; ``None`` (custom objectives only) means "use the sweep metric's goal".
    """

    name: ClassVar[str] = ""
    goal: ClassVar[Optional[str]] = None

    def __init__(self, options: dict):
        self.options = dict(options or {})

    def validate(self) -> List[str]:
        """Called once before any work starts: every problem with the options, one line each naming the key."""
        return []

    def check_data(self, column: Callable[[str], list]) -> List[str]:
        """Called once after the dataset is loaded, before any trial: problems with the data itself (e.g. a field
        the objective needs), one line each naming the key. ``column(field)`` returns the values of a top-level
        field for every sample and raises KeyError when the dataset has no such field."""
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
