"""The sweep's train function: each trial derives a recipe from the base one plus its sampled values, processes
the data and scores the kept documents -- reusing all the work that does not depend on the trial.

Statistics are computed once per distinct set of *statistic-shaping* values (everything but the filters'
thresholds: ``rep_len`` changes the character-repetition statistic, ``max_ratio`` does not). A trial that only
moves thresholds recomputes nothing but the keep masks, which it asks of the filters themselves (their own
``process`` on the stored statistics, so Data-Juicer's semantics hold). Objectives cache per-document scores per
population. Trials export nothing.

A data-mixture sweep (``dataset.configs[i].weight``) evaluates on the concatenation of the whole sources: a trial
scores the rows its recipe would load (:mod:`data_juicer_hpo.data.mixture_sources`).

Recipes that are not a chain of per-sample mappers and statistic filters (a deduplicator, a selector, a filter
without statistics) fall back to running Data-Juicer's pipeline for each trial.

Every trial's scores hold ``kept`` (documents) and ``retention`` besides its objectives; the labels objectives are
handed the trial's decision on the labelled documents (:mod:`.labelled`).
"""

import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.memory import trim_heap
from data_juicer_hpo.modes.wandb.trials.bundles import Bundle, Bundles
from data_juicer_hpo.modes.wandb.trials.keep_masks import KeepMasks
from data_juicer_hpo.modes.wandb.trials.labelled import LabelledSet
from data_juicer_hpo.objectives import Population
from data_juicer_hpo.objectives.labels import LABELLED_KEPT
from data_juicer_hpo.objectives.tokens import TokenStreams
from data_juicer_hpo.ops.addressing import Target, apply_params
from data_juicer_hpo.progress import Progress

__all__ = ["TrialEvaluator", "amounts", "scored"]


_MAIN = "\0main"  # the main objective's key among its own scores (a column name never starts with NUL)


def amounts(kept: int, total: int) -> Dict[str, float]:
    """``kept`` (documents) and ``retention`` (their share of ``total``)."""
    return {"kept": kept, "retention": kept / total if total else 0.0}


def scored(name: str, objective, population, kept: np.ndarray) -> Dict[str, float]:
    """``{name: score}``, plus what else the objective reports under its own name (``model_loss_se``)."""
    details = getattr(objective, "score_details", None)
    if details is None:
        return {name: float(objective.score(population, kept))}
    out = details(population, kept)
    return {(name if key == getattr(objective, "name", None) else key): float(value) for key, value in out.items()}


class TrialEvaluator:
    """Evaluates trial parameters on one loaded dataset; ``evaluate(params, report)`` returns the metric.

    ``extras`` (objective name -> objective) are scored beside the metric on the same kept documents, once per
    trial that is not pruned; their scores, ``kept`` and ``retention`` (and a budgeted objective's standard error)
    are left in ``scores[trial number]`` for the caller to pop (only ``kept`` and ``retention`` for a pruned trial).
    The bundles (:mod:`.bundles`) hold what trials sharing statistic-shaping values need, the keep-mask engine
    (:mod:`.keep_masks`) decides what each trial keeps.
    """

    mixture = None  # set by use_mixture when the sweep tunes dataset.configs[i].weight / dataset.max_sample_num

    def __init__(
        self,
        bundles: Bundles,
        targets: Dict[str, Target],
        objective,
        seed: int = 0,
        extras: Optional[Dict[str, object]] = None,
        original_run: Optional[Callable] = None,
    ):
        """:param bundles: the sweep's bundles (built on a loaded dataset, or given statistic columns with
            :meth:`Bundles.add_columns <data_juicer_hpo.modes.wandb.trials.bundles.Bundles.add_columns>`); each new
            population they build is set up here for the objectives.
        :param original_run: the executor's own ``run``, for trials whose recipe needs Data-Juicer's whole pipeline
            (None: columns only, no such trial)."""
        self.bundles = bundles
        self.data, self.cfg, self.dataset = bundles.data, bundles.cfg, bundles.dataset
        self.original_run = original_run
        self.targets = targets
        self.objective = objective
        self.extras = dict(extras or {})
        self.scores: Dict[int, Dict[str, float]] = {}
        self.seed = seed
        bundles.on_population = self._on_population
        self.masks = KeepMasks(bundles.stats)
        self._subsets: Dict[tuple, List[np.ndarray]] = {}
        self.history: Dict[int, List[Tuple[int, float]]] = {}
        # the labelled documents of the labels objectives (None without such an objective)
        self.labelled = LabelledSet.of([objective, *self.extras.values()], bundles)

    # ---- bundles (bundles.Bundles) -------------------------------------------------------------------------

    @property
    def cpu_share(self) -> Optional[int]:
        """Processes per op when several sweep workers share the machine (None: Data-Juicer's own choice)."""
        return self.bundles.cpu_share

    @cpu_share.setter
    def cpu_share(self, value: Optional[int]) -> None:
        self.bundles.cpu_share = value

    def shaping_key(self, params: dict) -> tuple:
        return self.bundles.shaping_key(params)

    def bundle(self, params: dict) -> Bundle:
        return self.bundles.bundle(params)

    def prepare(self, parameters: dict) -> None:
        """See :meth:`.bundles.Bundles.prepare`: the listed values of statistic-shaping arguments have their
        statistics computed in one pass."""
        self.bundles.prepare(parameters)
        if self.labelled is not None:
            self.labelled.prepare(parameters)

    def dataset_with_statistics(self, bundle: Bundle):
        """The bundle's samples with their statistics column, ready for Data-Juicer's processing."""
        return self.bundles.dataset_with_statistics(bundle)

    def _on_population(self, population) -> None:
        """A new population: the objective's per-document work now, then the token streams can go."""
        name = getattr(self.objective, "name", "") or type(self.objective).__name__
        with Progress(f"setting up {name} on {len(population):,} documents"):
            self.objective.setup(population)
        self._trim(population)
        release = getattr(population.texts, "release_pages", None)
        if callable(release):  # the setup read every text: its pages need not stay resident (RSS)
            release()

    # ---- one trial ------------------------------------------------------------------------------------

    def kept_indices(self, bundle: Bundle, params: dict) -> np.ndarray:
        """Indices of the population's samples that every filter keeps with this trial's thresholds."""
        thresholds = {n: v for n, v in params.items() if n in self.bundles.keep_only}
        process, _ = apply_params(bundle.process, self.targets, thresholds)
        return self.masks.kept(bundle, process)

    def _rung_subsets(self, n: int, rungs: List[int]) -> List[np.ndarray]:
        """Growing random fractions of the population, one per rung; the same for every trial."""
        key = (n, tuple(rungs))
        if key not in self._subsets:
            order = np.random.default_rng(self.seed).permutation(n)
            subsets = []
            for r in rungs:
                member = np.zeros(n, dtype=bool)
                member[order[: max(1, math.ceil(n * r / rungs[-1]))]] = True
                subsets.append(member)
            self._subsets[key] = subsets
        return self._subsets[key]

    def evaluate(
        self,
        params: dict,
        number: int,
        rungs: List[int] = (),
        report: Optional[Callable] = None,
        should_prune: Optional[Callable] = None,
    ) -> float:
        """The metric of one trial; with hyperband ``rungs``, report it on growing fractions of the data first."""
        bundle = self.bundle(params)
        if not bundle.fast:
            return self._evaluate_slow(params, number)
        population, kept = self.trial_documents(bundle, params, self.kept_indices(bundle, params))
        if self.labelled is not None:
            self.labelled.decide(population, params)
        self.scores[number] = amounts(len(kept), len(population))  # what a pruned trial records
        history = self.history.setdefault(number, [])
        if rungs and report is not None:
            subsets = self._rung_subsets(len(population), list(rungs))
            for r, member in zip(rungs[:-1], subsets[:-1]):
                value = float(self.objective.score(population, kept[member[kept]]))
                history.append((r, value))
                report(value, r)
                if should_prune is not None and should_prune():
                    return value
        value, details = self._score_main(population, kept)
        self._score_extras(number, population, kept, details)
        self._trim(population)
        if rungs:
            history.append((rungs[-1], value))
            if report is not None:
                report(value, rungs[-1])
        return value

    def _score_main(self, population, kept: np.ndarray) -> Tuple[float, Dict[str, float]]:
        """The metric, and what else its objective reports (a budgeted objective's standard error)."""
        scores = scored(_MAIN, self.objective, population, kept)
        return scores.pop(_MAIN), scores

    def _score_extras(self, number: int, population, kept: np.ndarray, details=None, total=None) -> None:
        scores = dict(details or {})
        for name, objective in self.extras.items():
            scores.update(scored(name, objective, population, kept))
        self.scores[number] = {**scores, **amounts(len(kept), len(population) if total is None else total)}

    def setup_objectives(self, population) -> None:
        """Every objective's per-document work on ``population`` (before forking workers, so they share it)."""
        for objective in (self.objective, *self.extras.values()):
            objective.setup(population)

    def _trim(self, population) -> None:
        """Once a population has been scored, the objective holds its per-document quantities (a probability per
        document, bigram counts); the token streams they were derived from (8 bytes per token) can go. An objective
        that needs them again recomputes them (they are a cache)."""

        cache = getattr(population, "cache", None)
        for key, value in list((cache or {}).items()):
            if isinstance(value, TokenStreams):
                del cache[key]

    def release(self, params: dict) -> None:
        """After the trials: drop what only trials need (other bundles, populations and their texts, masks, sorted
        columns, the objective) and hand the memory back to the OS, keeping the statistics of the bundle ``params``
        uses -- the best recipe is processed with them, in Data-Juicer's worker processes, which would otherwise
        start as copies of a large parent."""
        self.bundles.keep_only_bundle(params)
        self.masks.clear()
        self._subsets.clear()
        self.objective = None
        self.extras = {}
        trim_heap()

    def _evaluate_slow(self, params: dict, number: int = -1) -> float:
        process, top = apply_params(self.bundles.base_process, self.targets, params)
        self.bundles.apply_top(top)
        saved = self.cfg.process
        self.cfg.process = process
        try:
            samples, texts = self.data.run_pipeline(self.original_run, self.trial_dataset(params))
        finally:
            self.cfg.process = saved
        population = Population(texts, dataset=samples, cfg=self.cfg)
        kept = np.arange(len(texts))
        if self.labelled is not None:
            self.labelled.decide(population, params)
        value, details = self._score_main(population, kept)
        self._score_extras(number, population, kept, details, total=self.data.count(self.trial_dataset(params)))
        return value

    def keep_all(self, number: int) -> float:
        """The metric of keeping every document of the base population (no filter), its other scores in
        ``scores[number]``: what a sweep's best is compared with."""
        bundle = self.bundle({})
        population = bundle.population
        kept = np.arange(len(population))
        if self.labelled is not None:
            population.cache[LABELLED_KEPT] = np.arange(len(self.labelled))
        value, details = self._score_main(population, kept)
        self._score_extras(number, population, kept, details)
        return value

    def best_recipe(self, params: dict) -> Tuple[List[dict], dict]:
        return apply_params(self.bundles.base_process, self.targets, params)

    # ---- data mixtures: trials pick rows of the whole sources (mixtures.SourceMixture) -------------------------

    def use_mixture(self, mixture) -> None:
        """Evaluate trials on mixtures of the sources whose concatenation is ``self.dataset``."""
        self.mixture = mixture

    def trial_documents(self, bundle: Bundle, params: dict, kept: np.ndarray):
        """The population a trial scores and its kept documents: the bundle's, or the trial's mixture of it."""
        if self.mixture is None:
            return bundle.population, kept
        return self.mixture.documents(bundle.population, kept, params)

    def trial_dataset(self, params: dict):
        """The dataset a trial's recipe loads (for Data-Juicer's full pipeline)."""
        return self.dataset if self.mixture is None else self.mixture.select(self.dataset, params)

    def best_dataset(self, bundle: Bundle, params: dict):
        """The samples the best recipe loads, after its mappers, with their statistics column."""
        if self.mixture is None:
            return self.dataset_with_statistics(bundle)
        return self.mixture.with_statistics(bundle.dataset, bundle.rows, params)
