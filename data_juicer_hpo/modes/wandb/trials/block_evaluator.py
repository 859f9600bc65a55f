"""The sweep's train function on ``executor_type: ray`` when every trial can be scored from per-block partial
aggregates (:mod:`.blocks`): the trials run where the blocks live, over every document, and the driver holds only a
uniform sample of the statistics and texts (at most ``VALUES_SAMPLE`` documents) for the report's pictures,
counts and examples.

When a sweep cannot run this way -- an objective that needs the kept documents themselves, a statistic-shaping
parameter, hyperband, a data mixture, a recipe that is not mappers followed by statistic filters -- it runs as on one
machine (every document's statistics on the driver), and one log line says why (:func:`why_not_on_blocks`).
"""

import dataclasses
from typing import Dict, Optional

import numpy as np
from data_juicer.ops import Filter, Mapper
from loguru import logger

from data_juicer_hpo.modes.wandb.trials.blocks import BlockTrials, block_objective_reason
from data_juicer_hpo.modes.wandb.trials.bundles import Bundles
from data_juicer_hpo.modes.wandb.trials.evaluator import TrialEvaluator, amounts
from data_juicer_hpo.objectives import Population
from data_juicer_hpo.objectives.labels import LABELLED_KEPT, LabelsObjective
from data_juicer_hpo.objectives.model_loss import ModelLoss
from data_juicer_hpo.objectives.quality_score import QualityScore, log_auc
from data_juicer_hpo.ops.columns import as_column
from data_juicer_hpo.ops.statistics import is_computed
from data_juicer_hpo.ops.thresholds import threshold_args
from data_juicer_hpo.progress import Progress

__all__ = ["BlockEvaluator", "why_not_on_blocks", "why_not_after_statistics"]


def why_not_on_blocks(sweep, scoring, targets, base_ops, mixture) -> Optional[str]:
    """Why this sweep's trials cannot run as per-block partial aggregates (None: they can), before any work: the
    recipe must be mappers and statistic filters the plugin computes, every parameter a filter's threshold, every
    objective one a block reduces."""
    if mixture:
        return "a data-mixture sweep scores the rows its weights draw"
    if sweep.hyperband is not None:
        return "hyperband scores fractions of the data"
    reason = block_objective_reason(scoring.objectives)
    if reason is not None:
        return reason
    for position, op in enumerate(base_ops):
        if isinstance(op, Filter) and not is_computed(op):
            return f"op #{position} ({op._name}) has no statistics the plugin computes"
        if not isinstance(op, (Filter, Mapper)):
            return f"op #{position} ({op._name}) is neither a mapper nor a statistic filter"
    for name, target in targets.items():
        if target.position is None or target.arg not in threshold_args(base_ops[target.position]):
            return f"parameter {name} is not a filter's threshold (it shapes a statistic or the data)"
    return None


def why_not_after_statistics(stats, ops) -> Optional[str]:
    """Why the statistics pass leaves the trials on the driver (None: it does not)."""
    missing = [p for p, op in enumerate(ops) if isinstance(op, Filter) and p not in stats.stat_keys]
    if missing:
        return f"op #{missing[0]} ({ops[missing[0]]._name}) got no statistics"
    if not stats.aligned:
        return "an op changed the number of samples"
    if stats.prefix_len != len(ops):
        return "the recipe does not end with a statistic filter"
    return None


class _Decided:
    """Where the labels objectives read a trial's decision on the labelled documents (a population's cache)."""

    def __init__(self, labelled_kept):
        self.cache = {} if labelled_kept is None else {LABELLED_KEPT: labelled_kept}

    def __len__(self) -> int:
        return 0


class BlockEvaluator(TrialEvaluator):
    """A :class:`TrialEvaluator` whose trials run on the blocks of the statistics pass's Ray dataset, and whose
    bundles (the report's, the summary's) hold the statistics pass's sample."""

    def __init__(self, access, cfg, stats, process, targets, objective, seed=0, extras=None, text_key="text"):
        values = {p: {key: as_column(column) for key, column in columns.items()} for p, columns in stats.values.items()}
        sample = Population(list(stats.sample_texts.get(text_key, [])), cfg=cfg)
        bundles = Bundles.of_columns(process, values, targets, sample, access.load_ops)
        bundles.cfg = cfg  # the labelled documents' bundles read the recipe's config from it
        super().__init__(bundles, targets, objective, seed=seed, extras=extras)
        self.data, self.cfg = access, cfg
        self.n_sample = len(sample)
        with Progress("placing the statistics' blocks in actors on the cluster"):
            self.blocks = BlockTrials(stats, process, targets, text_key)
        self.sample_note = (
            f"On Ray the trials ran where the data live, over all {self.blocks.n:,} documents (trials.csv); the "
            f"filters' statistics, counts and examples below are those of a uniform sample of {self.n_sample:,} of "
            f"them."
            if self.n_sample < self.blocks.n
            else None
        )
        quality = [o for o in (objective, *self.extras.values()) if isinstance(o, QualityScore)]
        if quality:
            with Progress(f"setting up quality_score on {self.blocks.n:,} documents (on the cluster)"):
                log_auc(self.blocks.setup_quality(quality[0]))
                everything = self.blocks.evaluate(None)  # the actors score their documents now, not in trial 1
            logger.info(f"quality_score: population mean [{everything['quality_score']:.4f}]")
        losses = [o for o in (objective, *self.extras.values()) if isinstance(o, ModelLoss)]
        if losses:
            with Progress(f"setting up model_loss on {self.blocks.n:,} documents (on the cluster)"):
                self.blocks.setup_loss(losses[0])
                self.blocks.evaluate(None)  # the actors count their documents' bigrams now, not in trial 1
        logger.info(
            f"auto_hpo[sweep]: trials as per-block partial aggregates: [{len(self.blocks.offsets) - 1}] blocks of "
            f"[{self.blocks.n}] documents held by [{len(self.blocks.actors)}] actors; the driver holds a sample of "
            f"[{self.n_sample}]"
        )

    def _on_population(self, population) -> None:
        """The sample's population: no objective setup on the driver (the trials are scored on the cluster)."""

    def _values(self, result: Dict[str, float], labelled_kept=None) -> Dict[str, float]:
        """Every objective's value from one trial's aggregates (and its decision on the labelled documents)."""
        out = {}
        decided = _Decided(labelled_kept)
        for name, objective in {"\0main": self.objective, **self.extras}.items():
            if isinstance(objective, LabelsObjective):
                out[name] = objective.score(decided, np.zeros(0, dtype=np.int64))
                continue
            if isinstance(objective, QualityScore):
                out[name] = result["quality_score"]
            elif isinstance(objective, ModelLoss):
                out[name] = result.get("model_loss")
            else:
                out[name] = result["retention"]
            if result["kept"] == 0:
                out[name] = objective.worst()
        return out

    def _scored(self, number: int, result: Dict[str, float], labelled_kept) -> float:
        """The main objective's value of one trial's aggregates; the others, kept and retention in ``scores``."""
        values = self._values(result, labelled_kept)
        main = values.pop("\0main")
        self.scores[number] = {**values, **amounts(result["kept"], self.blocks.n)}
        return main

    def evaluate(self, params, number, rungs=(), report=None, should_prune=None) -> float:
        result = self.blocks.evaluate(params)
        self.history.setdefault(number, [])
        return self._scored(number, result, None if self.labelled is None else self.labelled.kept(params))

    def keep_all(self, number: int) -> float:
        result = self.blocks.evaluate(None)
        return self._scored(number, result, None if self.labelled is None else np.arange(len(self.labelled)))

    def whole_facts(self, facts, best):
        """The closing summary's documents and kept counts over all the documents (the report's are the
        sample's)."""
        written = self.blocks.evaluate({})["kept"]
        return dataclasses.replace(facts, n=self.blocks.n, kept_written=written, kept_chosen=best.scores.get("kept"))

    def release(self, params: dict) -> None:
        """The actors go (the best recipe is processed by Data-Juicer's own Ray run), then what the trials held."""
        self.blocks.close()
        super().release(params)
