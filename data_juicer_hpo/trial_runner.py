"""The sweep's train function: each trial derives a recipe from the base one plus its sampled values, processes
the data and scores the kept documents -- reusing all the work that does not depend on the trial.

Statistics are computed once per distinct set of *statistic-shaping* values (everything but the filters'
thresholds: ``rep_len`` changes the character-repetition statistic, ``max_ratio`` does not). A trial that only
moves thresholds recomputes nothing but the keep masks, which it asks of the filters themselves (their own
``process`` on the stored statistics, so Data-Juicer's semantics hold). Objectives cache per-document scores per
population. Trials export nothing.

Recipes that are not a chain of per-sample mappers and statistic filters (a deduplicator, a selector, a filter
without statistics) fall back to running Data-Juicer's pipeline for each trial.
"""

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from loguru import logger

from .addressing import Target, apply_params
from .thresholds import threshold_pairs

__all__ = ["Population", "TrialRunner"]


@dataclass
class _Bundle:
    """Everything one population offers to the trials that share its statistic-shaping values."""

    key: tuple
    process: List[dict]
    ops: list
    stats: object  # StatsPass
    population: object  # objectives.Population
    rows: list  # the statistics dict of every sample
    fast: bool
    masks: Dict[tuple, np.ndarray] = field(default_factory=dict)


def _threshold_args(op) -> set:
    return {t.arg for pair in threshold_pairs(type(op)) for t in pair.args}


class TrialRunner:
    """Evaluates trial parameters on one loaded dataset; ``evaluate(params, report)`` returns the metric."""

    def __init__(self, executor, original_run, dataset, targets: Dict[str, Target], objective, seed: int = 0):
        from data_juicer.core.executor import default_executor

        self.executor = executor
        self.original_run = original_run
        self.cfg = executor.cfg
        self.base_process = copy.deepcopy(self.cfg.process)
        self.base_top = {t.arg: self.cfg.get(t.arg) for t in targets.values() if t.position is None}
        self.dataset = dataset
        self.targets = targets
        self.objective = objective
        self.seed = seed
        self._load_ops = default_executor.load_ops
        self._bundles: Dict[tuple, _Bundle] = {}
        base_ops = self._load_ops(self.base_process)
        self._keep_only = {
            name for name, t in targets.items() if t.position is not None and t.arg in _threshold_args(base_ops[t.position])
        }
        self.history: Dict[int, List[Tuple[int, float]]] = {}

    # ---- populations ----------------------------------------------------------------------------------

    def shaping_key(self, params: dict) -> tuple:
        return tuple(sorted((n, repr(v)) for n, v in params.items() if n not in self._keep_only and n in self.targets))

    def _apply_top(self, top: dict) -> None:
        for key, value in {**self.base_top, **top}.items():
            self.cfg[key] = value

    def bundle(self, params: dict) -> _Bundle:
        key = self.shaping_key(params)
        if key in self._bundles:
            return self._bundles[key]
        from .objectives import Population
        from .stats_pass import is_stats_filter, run_stats_pass, stats_rows

        shaping = {n: v for n, v in params.items() if n not in self._keep_only}
        process, top = apply_params(self.base_process, self.targets, shaping)
        self._apply_top(top)
        ops = self._load_ops(process)
        fast = all(is_stats_filter(op) or not hasattr(op, "compute_stats") for op in ops)
        label = ", ".join(f"{n}={v}" for n, v in shaping.items() if n in self.targets) or "base recipe"
        if fast:
            logger.info(f"auto_hpo[sweep]: computing statistics for [{label}] (reused by every trial that shares it)")
            stats = run_stats_pass(self.dataset, ops, through_end=True)
            fast = stats.aligned
        if fast:
            text_key = getattr(ops[0], "text_key", "text") if ops else "text"
            texts = stats.dataset[text_key] if len(stats.dataset) else []
            rows = stats_rows(stats.dataset) if any(is_stats_filter(op) for op in ops) else [{}] * len(texts)
            population = Population(list(texts), dataset=stats.dataset, cfg=self.cfg)
        else:
            logger.info("auto_hpo[sweep]: the recipe is not a chain of mappers and statistic filters; each trial runs "
                        "the full pipeline")
            stats, rows, population = None, [], None
        bundle = _Bundle(key, process, ops, stats, population, rows, fast)
        self._bundles[key] = bundle
        return bundle

    # ---- one trial ------------------------------------------------------------------------------------

    def _mask(self, bundle: _Bundle, position: int, op, values: tuple) -> np.ndarray:
        cache_key = (position, values)
        if cache_key not in bundle.masks:
            from data_juicer.utils.constant import Fields

            if op.is_batched_op():
                keep = list(op.process_batched({Fields.stats: bundle.rows}))
            else:
                keep = [op.process_single({Fields.stats: row}) for row in bundle.rows]
            bundle.masks[cache_key] = np.asarray(keep, dtype=bool)
        return bundle.masks[cache_key]

    def kept_indices(self, bundle: _Bundle, params: dict) -> np.ndarray:
        """Indices of the population's samples that every filter keeps with this trial's thresholds."""
        from data_juicer.ops import Filter

        process, _ = apply_params(bundle.process, self.targets, {n: v for n, v in params.items() if n in self._keep_only})
        keep = np.ones(len(bundle.rows), dtype=bool)
        for position, op in enumerate(bundle.ops):
            if not isinstance(op, Filter):
                continue
            args = next(iter(process[position].values())) or {}
            thresholds = tuple(sorted((a, repr(args[a])) for a in _threshold_args(op) if a in args))
            for arg, _ in thresholds:
                setattr(op, arg, args[arg])
            keep &= self._mask(bundle, position, op, thresholds)
        return np.flatnonzero(keep)

    def _rung_subsets(self, n: int, rungs: List[int]) -> List[np.ndarray]:
        order = np.random.default_rng(self.seed).permutation(n)
        top = rungs[-1]
        subsets = []
        for r in rungs:
            member = np.zeros(n, dtype=bool)
            member[order[: max(1, math.ceil(n * r / top))]] = True
            subsets.append(member)
        return subsets

    def evaluate(self, params: dict, number: int, rungs: List[int] = (), report: Optional[Callable] = None,
                 should_prune: Optional[Callable] = None) -> float:
        """The metric of one trial; with hyperband ``rungs``, report it on growing fractions of the data first."""
        bundle = self.bundle(params)
        if not bundle.fast:
            return self._evaluate_slow(params)
        kept = self.kept_indices(bundle, params)
        history = self.history.setdefault(number, [])
        if rungs and report is not None:
            subsets = self._rung_subsets(len(bundle.rows), list(rungs))
            for r, member in zip(rungs[:-1], subsets[:-1]):
                value = float(self.objective.score(bundle.population, kept[member[kept]]))
                history.append((r, value))
                report(value, r)
                if should_prune is not None and should_prune():
                    return value
        value = float(self.objective.score(bundle.population, kept))
        if rungs:
            history.append((rungs[-1], value))
            if report is not None:
                report(value, rungs[-1])
        return value

    def _evaluate_slow(self, params: dict) -> float:
        from .objectives import Population

        process, top = apply_params(self.base_process, self.targets, params)
        self._apply_top(top)
        saved = self.cfg.process
        self.cfg.process = process
        try:
            out = self.original_run(self.executor, dataset=self.dataset, skip_export=True)
        finally:
            self.cfg.process = saved
        text_key = "text"
        texts = list(out[text_key]) if len(out) else []
        population = Population(texts, dataset=out, cfg=self.cfg)
        return float(self.objective.score(population, np.arange(len(texts))))

    def best_recipe(self, params: dict) -> Tuple[List[dict], dict]:
        return apply_params(self.base_process, self.targets, params)
