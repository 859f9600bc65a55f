"""The labelled documents of the labels objectives, as the recipe sees them, and each trial's keep decision on them.

The documents of ``auto_hpo.labels.path`` are not part of the dataset: they get bundles of their own
(:class:`~.bundles.Bundles`: the recipe's mappers applied and every filter's statistics computed once per set of
statistic-shaping values, shared by every trial), and a trial's decision on them comes from the same keep-mask engine
as the data's (:class:`~.keep_masks.KeepMasks`, checked against the filters' own ``process``). They are few and live
in this process, whatever the executor: their statistics are computed by Data-Juicer's default executor.
"""

from typing import Dict, List, Optional

import numpy as np
from data_juicer.core.data import NestedDataset
from data_juicer.core.executor import default_executor
from data_juicer.ops import OPERATORS, Deduplicator, Filter, Selector
from datasets import Dataset

from data_juicer_hpo.data import LocalData
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.modes.wandb.trials.bundles import Bundles
from data_juicer_hpo.modes.wandb.trials.keep_masks import KeepMasks
from data_juicer_hpo.objectives.labels import KEY, LABELLED_KEPT, LabelledFile, labels_objectives
from data_juicer_hpo.ops.addressing import apply_params
from data_juicer_hpo.ops.statistics import NON_STATS_FILTERS

__all__ = ["LabelledSet", "labelled_recipe_problems"]

SLOW = (
    "the recipe must be a chain of per-sample mappers and statistic filters for the labelled documents to be judged "
    "as the data is"
)


def labelled_recipe_problems(process: List[dict]) -> List[str]:
    """Ops that the labelled documents cannot go through apart from the data (checked before any work): a
    deduplicator or selector decides on the whole dataset, a filter without statistics has no keep mask."""
    problems = []
    for position, entry in enumerate(process or []):
        name = next(iter(entry)) if isinstance(entry, dict) and len(entry) == 1 else None
        cls = OPERATORS.modules.get(name) if name else None
        if cls is None:
            continue
        whole = isinstance(cls, type) and issubclass(cls, (Deduplicator, Selector))
        if whole or (isinstance(cls, type) and issubclass(cls, Filter) and name in NON_STATS_FILTERS.modules):
            what = "decides on the whole dataset" if whole else "is a filter without statistics"
            problems.append(f"{KEY}: process[{position}] {name} {what}; {SLOW}")
    return problems


def _dataset(labelled: LabelledFile, text_key: str, label_key: str) -> NestedDataset:
    """The labelled records as a dataset (without a top-level label field); their text alone when the records'
    other fields do not make one table."""
    rows = [{k: v for k, v in row.items() if k != label_key} for row in labelled.rows]
    try:
        return NestedDataset(Dataset.from_list(rows))
    except (TypeError, ValueError, ArithmeticError):  # Arrow cannot type one field across records
        return NestedDataset(Dataset.from_list([{text_key: row[text_key]} for row in labelled.rows]))


class LabelledSet:
    """The labelled documents' bundles and keep masks for the sweep whose data bundles are ``bundles``.

    :param objective: one of the sweep's labels objectives (they share ``auto_hpo.labels``).
    :param bundles: the sweep's bundles over the data (their recipe, targets and config are used).
    """

    def __init__(self, objective, bundles: Bundles):
        labelled = objective.labelled()
        self.truth = labelled.truth
        dataset = _dataset(labelled, objective.config["text_key"], objective.config["label_key"])
        self.bundles = Bundles(
            LocalData(None),
            bundles.cfg,
            dataset,
            bundles.base_process,
            bundles.base_top,
            bundles.targets,
            default_executor.load_ops,
            on_population=lambda population: None,
        )
        self.bundles.cpu_share = 1  # a few hundred documents: worker processes would cost more than they save
        self.masks = KeepMasks(self.bundles.stats)
        self.decisions: Dict[str, np.ndarray] = {}  # params -> kept (the estimate re-decides every trial)

    @classmethod
    def of(cls, objectives, bundles: Bundles) -> Optional["LabelledSet"]:
        """The labelled set of the sweep, or None when no objective (nor synergy part) is a labels one."""
        found = labels_objectives(objectives)
        return cls(found[0], bundles) if found else None

    def __len__(self) -> int:
        return len(self.truth)

    def prepare(self, parameters: dict) -> None:
        self.bundles.prepare(parameters)

    def kept(self, params: dict) -> np.ndarray:
        """Indices of the labelled documents the recipe with ``params`` keeps (``{}``: the recipe as written)."""
        key = repr(sorted(params.items()))
        if key not in self.decisions:
            self.decisions[key] = self._decide(params)
        return self.decisions[key]

    def _decide(self, params: dict) -> np.ndarray:
        bundle = self.bundles.bundle(params)
        if not bundle.fast:
            raise AutoHpoError(f"{KEY}: {SLOW}")
        thresholds = {n: v for n, v in params.items() if n in self.bundles.keep_only}
        process, _ = apply_params(bundle.process, self.bundles.targets, thresholds)
        return self.masks.kept(bundle, process)

    def mask(self, params: dict) -> np.ndarray:
        """:meth:`kept` as a boolean mask over the labelled documents."""
        mask = np.zeros(len(self), dtype=bool)
        mask[self.kept(params)] = True
        return mask

    def decide(self, population, params: dict) -> None:
        """Hand the trial's decision on the labelled documents to the labels objectives scoring ``population``."""
        population.cache[LABELLED_KEPT] = self.kept(params)
