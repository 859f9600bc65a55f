"""The sweep's train function: each trial derives a recipe from the base one plus its sampled values, processes
the data and scores the kept documents -- reusing all the work that does not depend on the trial.

Statistics are computed once per distinct set of *statistic-shaping* values (everything but the filters'
thresholds: ``rep_len`` changes the character-repetition statistic, ``max_ratio`` does not). A trial that only
moves thresholds recomputes nothing but the keep masks, which it asks of the filters themselves (their own
``process`` on the stored statistics, so Data-Juicer's semantics hold). Objectives cache per-document scores per
population. Trials export nothing.

A data-mixture sweep (``dataset.configs[i].weight``) evaluates on the concatenation of the whole sources: a trial
scores the rows its recipe would load (:mod:`data_juicer_hpo.mixture_data`).

Recipes that are not a chain of per-sample mappers and statistic filters (a deduplicator, a selector, a filter
without statistics) fall back to running Data-Juicer's pipeline for each trial.
"""

import copy
import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from loguru import logger

from .ops.addressing import Target, apply_params
from .ops.thresholds import live_value, threshold_pairs

__all__ = ["TrialEvaluator"]

MAX_SIBLINGS = 16  # prepared argument combinations of one filter computed up front (a larger grid: on demand)
MASK_CACHE_BYTES = 256 * 2**20  # keep masks (one byte per sample) cached for repeated thresholds, at most this much
_NO_MASK = np.zeros(0, dtype=bool)


@dataclass
class _Bundle:
    """Everything the trials that share one set of statistic-shaping values need."""

    key: tuple
    process: List[dict]
    ops: list
    dataset: object  # the samples after the recipe's mappers (None on the slow path)
    population: object  # objectives.Population, shared by every bundle with the same mapper state
    rows: object  # ops.columns.StatisticRows: every sample's statistics dict, made on demand from numeric columns
    stat_keys: Dict[int, tuple]  # filter position -> cache key of its statistics (masks are cached by it)
    fast: bool


def _threshold_args(op) -> set:
    return {t.arg for pair in threshold_pairs(type(op)) for t in pair.args}


def _as_float(bound):
    """A bound as numpy compares it (a Fraction becomes a float; the probes check the result against the op)."""
    from fractions import Fraction

    return float(bound) if isinstance(bound, Fraction) else bound


def _thresholds(op) -> dict:
    return {t.arg: t for pair in threshold_pairs(type(op)) for t in pair.args}


def _op_key(entry: dict, keep_only: set) -> tuple:
    """The statistic-shaping arguments of one ``process`` entry: every argument but its thresholds."""
    ((name, args),) = entry.items()
    return (name, tuple(sorted((k, repr(v)) for k, v in (args or {}).items() if k not in keep_only)))


class TrialEvaluator:
    """Evaluates trial parameters on one loaded dataset; ``evaluate(params, report)`` returns the metric.

    ``extras`` (objective name -> objective) are scored beside the metric on the same kept documents, once per
    trial that is not pruned; their scores are left in ``scores[trial number]`` for the caller to pop.
    """

    def __init__(
        self,
        executor,
        original_run,
        dataset,
        targets: Dict[str, Target],
        objective,
        seed: int = 0,
        extras: Optional[Dict[str, object]] = None,
    ):
        from .data_access import data_access

        self.data = data_access(executor)
        self.executor = executor
        self.original_run = original_run
        self.cfg = executor.cfg
        self.base_process = copy.deepcopy(self.cfg.process)
        self.base_top = {t.arg: self.cfg.get(t.arg) for t in targets.values() if t.position is None}
        self.dataset = dataset
        self.targets = targets
        self.objective = objective
        self.extras = dict(extras or {})
        self.scores: Dict[int, Dict[str, float]] = {}
        self.seed = seed
        self._load_ops = self.data.load_ops
        self._bundles: Dict[tuple, _Bundle] = {}
        self._mapped: Dict[tuple, object] = {}  # mapper state -> (dataset, Population)
        self._stats: Dict[tuple, Dict[str, list]] = {}  # filter statistics key -> stat key -> values
        self._masks: Dict[tuple, np.ndarray] = {}
        self._columns: Dict[tuple, Optional[tuple]] = {}  # statistic -> (values, order or owner, lists or None)
        self._subsets: Dict[tuple, List[np.ndarray]] = {}
        self._variants: Dict[int, Dict[str, list]] = {}  # filter position -> shaping arg -> values (see prepare)
        self._mask_bytes = 0
        base_ops = self._load_ops(self.base_process)
        self._op_thresholds = [_threshold_args(op) for op in base_ops]
        self._keep_only = {
            name for name, t in targets.items() if t.position is not None and t.arg in self._op_thresholds[t.position]
        }
        self.history: Dict[int, List[Tuple[int, float]]] = {}
        # processes per op when several sweep workers share the machine (None: Data-Juicer's own choice)
        self.cpu_share: Optional[int] = None

    @classmethod
    def on_columns(
        cls,
        process: List[dict],
        statistics: Dict[int, dict],
        targets: Dict[str, Target],
        objective,
        population,
        load_ops=None,
        seed: int = 0,
    ) -> "TrialEvaluator":
        """An evaluator of threshold trials on one population given as statistic columns -- ``statistics``: filter
        position -> stat key -> column -- with no dataset or executor: the keep-mask engine alone, for simulations
        (``bench/simulate_trials.py``) and for a block of a larger population."""
        from .ops.columns import StatisticRows

        if load_ops is None:
            from data_juicer.ops import load_ops
        self = cls.__new__(cls)
        self.data = self.executor = self.original_run = self.cfg = self.dataset = None
        self.base_process, self.base_top, self.targets, self.objective, self.seed = (
            process,
            {},
            targets,
            objective,
            seed,
        )
        self._load_ops, self.cpu_share, self.history = load_ops, None, {}
        self.extras, self.scores = {}, {}
        self._mapped, self._masks, self._columns, self._subsets, self._variants, self._stats = {}, {}, {}, {}, {}, {}
        self._mask_bytes = 0
        ops = load_ops(process)
        self._op_thresholds = [_threshold_args(op) for op in ops]
        self._keep_only = {
            n for n, t in targets.items() if t.position is not None and t.arg in self._op_thresholds[t.position]
        }
        rows = StatisticRows(len(population))
        stat_keys = {}
        for position in sorted(statistics):
            stat_keys[position] = ("columns", position, _op_key(process[position], self._op_thresholds[position]))
            self._stats[stat_keys[position]] = statistics[position]
            rows.add(statistics[position])
        key = self.shaping_key({})
        self._bundles = {key: _Bundle(key, process, ops, None, population, rows, stat_keys, True)}
        return self

    # ---- populations ----------------------------------------------------------------------------------

    def shaping_key(self, params: dict) -> tuple:
        return tuple(sorted((n, repr(v)) for n, v in params.items() if n not in self._keep_only and n in self.targets))

    def _apply_top(self, top: dict) -> None:
        for key, value in {**self.base_top, **top}.items():
            self.cfg[key] = value

    def bundle(self, params: dict) -> _Bundle:
        key = self.shaping_key(params)
        if key not in self._bundles:
            shaping = {n: v for n, v in params.items() if n not in self._keep_only}
            process, top = apply_params(self.base_process, self.targets, shaping)
            self._apply_top(top)
            self._bundles[key] = self._build(key, process, tuple(sorted((k, repr(v)) for k, v in top.items())))
        return self._bundles[key]

    def prepare(self, parameters: dict) -> None:
        """Note the finite ``values`` of the sweep's statistic-shaping op arguments (``rep_len: {values: [5, 10,
        15]}``): the first time a filter's statistics are computed, those of every value are computed with them, in
        the same pass over the data. ``parameters``: sweep parameter name -> ``sweep.ParamSpec``."""
        for name, spec in parameters.items():
            target = self.targets.get(name)
            values = getattr(spec, "values", None)
            if target is None or target.position is None or name in self._keep_only or not values:
                continue
            weights = getattr(spec, "probabilities", None) or [1] * len(values)
            drawn = [v for v, w in zip(values, weights) if w > 0]  # a zero-probability value is never drawn
            if 1 < len(drawn):
                self._variants.setdefault(target.position, {})[target.arg] = drawn

    def _siblings(self, entry: dict, position: int) -> List[dict]:
        """The ``process`` entries of one filter with the other prepared values of its shaping arguments."""
        import itertools

        grid = self._variants.get(position)
        if not grid:
            return []
        ((name, args),) = entry.items()
        args = dict(args or {})
        out = []
        for combo in itertools.product(*grid.values()):
            changed = dict(zip(grid, combo))
            if any(args.get(arg, object()) != value for arg, value in changed.items()):
                out.append({name: {**args, **changed}})
        return out[:MAX_SIBLINGS]

    def _statistics(self, dataset, ops, process, state, positions: List[int], stat_keys: Dict[int, tuple]) -> None:
        """Compute the statistics of the filters at ``positions`` not computed yet -- and of their prepared
        siblings -- in one pass over ``dataset``; store them as columns."""
        from .ops.columns import as_column

        todo, keys, labels = [], [], []

        def add(op, key, entry, p):
            if key not in self._stats and key not in keys:
                args = next(iter(entry.values())) or {}
                shown = "".join(f", {arg}={args[arg]!r}" for arg in self._variants.get(p, {}) if arg in args)
                todo.append(op)
                keys.append(key)
                labels.append(f"{op._name}(#{p}{shown})")

        for p in positions:
            add(ops[p], stat_keys[p], process[p], p)
            for entry in self._siblings(process[p], p):
                key = (state, p, _op_key(entry, self._op_thresholds[p]))
                if key not in self._stats and key not in keys:
                    add(self._load_ops([entry])[0], key, entry, p)
        if not todo:
            return
        for op in todo if self.cpu_share else ():
            op.auto_op_parallelism, op.num_proc = False, self.cpu_share
        names = ", ".join(labels)
        logger.info(f"auto_hpo[sweep]: computing statistics of [{names}] (reused by every trial sharing them)")
        for key, values in zip(keys, self.data.compute(dataset, todo)):
            self._stats[key] = {stat: as_column(column) for stat, column in values.items()}

    def _build(self, key: tuple, process: List[dict], top_key: tuple) -> _Bundle:
        """Walk the recipe: mappers transform (cached by their arguments), filters' statistics are computed only
        for argument sets not seen before (cached per filter); no sample is removed on the way."""
        from .objectives import Population
        from .ops.columns import StatisticRows
        from .ops.statistics import is_stats_filter

        ops = self._load_ops(process)
        for op in ops if self.cpu_share else ():
            op.auto_op_parallelism, op.num_proc = False, self.cpu_share  # workers must not oversubscribe the CPUs
        if any(hasattr(op, "compute_stats") and not is_stats_filter(op) for op in ops):
            return self._slow(key, process, ops, "a filter without statistics")
        dataset, state = self.dataset, (top_key,)
        rows = StatisticRows(self.data.count(dataset))
        stat_keys: Dict[int, tuple] = {}
        pending: List[int] = []

        def flush():
            self._statistics(dataset, ops, process, state, pending, stat_keys)
            for p in pending:
                rows.add(self._stats[stat_keys[p]])  # like Data-Juicer: a statistic already present is reused
            pending.clear()

        for position, op in enumerate(ops):
            if is_stats_filter(op):
                stat_keys[position] = (state, position, _op_key(process[position], self._op_thresholds[position]))
                pending.append(position)
                continue
            flush()
            state = state + (_op_key(process[position], set()),)
            if state not in self._mapped:
                before = self.data.count(dataset)
                mapped = self.data.apply(dataset, op)
                if self.data.count(mapped) != before:
                    return self._slow(key, process, ops, f"{op._name} changes the sample count")
                self._mapped[state] = mapped
            dataset = self._mapped[state]
        flush()
        if (state, "population") not in self._mapped:
            text_key = getattr(ops[0], "text_key", "text") if ops else "text"
            texts = self.data.texts(dataset, text_key)
            population = Population(texts, dataset=self.data.samples(dataset), cfg=self.cfg)
            # set up now and drop the token streams before any trial starts (a W&B run's processes would otherwise
            # come on top of the setup's peak); the objective then scores this population without setting up again
            self.objective.setup(population)
            self._trim(population)
            self._mapped[(state, "population")] = population
        population = self._mapped[(state, "population")]
        if self.data.kind == "default":
            dataset = self.data.samples(dataset)
        return _Bundle(key, process, ops, dataset, population, rows, stat_keys, True)

    def _slow(self, key, process, ops, why: str) -> _Bundle:
        logger.info(f"auto_hpo[sweep]: {why}: each trial runs Data-Juicer's full pipeline")
        return _Bundle(key, process, ops, None, None, [], {}, False)

    def dataset_with_statistics(self, bundle: _Bundle):
        """The bundle's samples with their statistics column, ready for Data-Juicer's processing."""
        from data_juicer.utils.constant import Fields

        return bundle.dataset.add_column(Fields.stats, bundle.rows.as_arrow())

    # ---- one trial ------------------------------------------------------------------------------------

    def _mask(self, bundle: _Bundle, position: int, op, values: tuple) -> np.ndarray:
        cache_key = (bundle.stat_keys.get(position), position, values)
        mask = self._masks.pop(cache_key, None)  # popped and put back: the least recently used goes first
        if mask is None:
            mask = self._interval_mask(bundle, position, op)
            if mask is None:
                mask = np.concatenate([self._asked_mask(chunk, op) for chunk in bundle.rows.chunks()] + [_NO_MASK])
            self._mask_bytes += mask.nbytes
            while self._masks and self._mask_bytes > MASK_CACHE_BYTES:
                self._mask_bytes -= self._masks.pop(next(iter(self._masks))).nbytes
        self._masks[cache_key] = mask
        return mask

    @staticmethod
    def _asked_mask(rows: list, op) -> np.ndarray:
        """The filter's own decision on every given statistics dict: Data-Juicer's semantics, exactly."""
        from data_juicer.utils.constant import Fields

        if op.is_batched_op():
            keep = list(op.process_batched({Fields.stats: rows}))
        else:
            keep = [op.process_single({Fields.stats: row}) for row in rows]
        return np.asarray(keep, dtype=bool)

    def _column(self, bundle: _Bundle, position: int, stat: str) -> Optional[Tuple[np.ndarray, np.ndarray, list]]:
        """A numeric statistic as an array, its sort order and None (None when it is not numeric), made once.

        A list-valued statistic (one value per media item) gives every item's value, the sample each item belongs
        to (items in sample order) and the per-sample lists."""
        from .ksigma import is_list_valued, pooled

        key = (bundle.stat_keys.get(position), stat)
        if key not in self._columns:
            column = bundle.rows.column(stat)
            try:
                if isinstance(column, list) and is_list_valued(column):
                    lengths = [len(v) if v is not None else 0 for v in column]
                    values = pooled([v if v is not None else [] for v in column])
                    self._columns[key] = (values, np.repeat(np.arange(len(column)), lengths), column)
                else:
                    values = column
                    if not (isinstance(values, np.ndarray) and values.dtype.kind in "if"):
                        values = np.asarray(values, dtype=np.float64)  # None (a missing value) becomes NaN: asked
                    if values.ndim != 1:
                        self._columns[key] = None
                    else:
                        order = np.argsort(values, kind="stable")
                        order = order.astype(np.int32) if len(order) < 2**31 else order
                        self._columns[key] = (values, order, None)
            except (TypeError, ValueError):
                self._columns[key] = None
        return self._columns[key]

    def _items_mask(self, bundle: _Bundle, position: int, op, pairs, stats) -> Optional[Tuple[np.ndarray, set]]:
        """The keep mask of a filter over list-valued statistics (an item is kept when within every pair's
        bounds, a sample by the filter's ``any_or_all``), and samples whose items lie nearest the bounds."""
        from .ksigma import kept_mask_items
        from .ops.thresholds import match_statistic

        columns, lows, highs, probes = [], [], [], set()
        for pair in pairs:
            stat = match_statistic(pair, stats, len(pairs))
            found = None if stat is None else self._column(bundle, position, stat)
            if found is None or found[2] is None or np.isnan(found[0]).any():
                return None
            values, owner, raw = found
            lo = _as_float(getattr(op, pair.low.arg, None) if pair.low else None)
            hi = _as_float(getattr(op, pair.high.arg, None) if pair.high else None)
            columns.append(raw)
            lows.append(lo)
            highs.append(hi)
            order = np.argsort(values, kind="stable")
            for bound in (lo, hi):
                if isinstance(bound, (int, float)) and values.size:
                    at = int(np.searchsorted(values[order], bound))
                    probes.update(int(owner[order[i]]) for i in range(max(0, at - 2), min(len(order), at + 2)))
        if not isinstance(getattr(op, "any", None), bool):
            return None
        try:
            mask = kept_mask_items(
                columns,
                lows,
                highs,
                getattr(op, "min_closed_interval", True),
                getattr(op, "max_closed_interval", True),
                op.any,
            )
        except ValueError:  # statistics of one item that do not line up: ask the filter
            return None
        return mask, probes

    def _interval_mask(self, bundle: _Bundle, position: int, op) -> Optional[np.ndarray]:
        """The keep mask of an interval filter (``min <= statistic <= max`` per threshold pair) computed with
        numpy, accepted only when the filter itself agrees on the samples nearest every bound and on a random
        sample; None (ask the filter about every sample) otherwise."""
        from .ksigma import kept_mask
        from .ops.thresholds import match_statistic

        pairs = threshold_pairs(type(op))
        stats = list(self._stats.get(bundle.stat_keys.get(position), {}))
        if not pairs or not stats or getattr(op, "reversed_range", False):
            return None
        mask = np.ones(len(bundle.rows), dtype=bool)
        probes = set()
        first = match_statistic(pairs[0], stats, len(pairs))
        found = None if first is None else self._column(bundle, position, first)
        if found is not None and found[2] is not None:
            items = self._items_mask(bundle, position, op, pairs, stats)
            if items is None:
                return None
            mask, probes = items
            pairs = []
        for pair in pairs:
            stat = match_statistic(pair, stats, len(pairs))
            found = None if stat is None else self._column(bundle, position, stat)
            if found is None or found[2] is not None or np.isnan(found[0]).any():
                return None
            column, order, _ = found
            lo = _as_float(getattr(op, pair.low.arg, None) if pair.low else None)
            hi = _as_float(getattr(op, pair.high.arg, None) if pair.high else None)
            mask &= kept_mask(
                column, lo, hi, getattr(op, "min_closed_interval", True), getattr(op, "max_closed_interval", True)
            )
            for bound in (lo, hi):
                if isinstance(bound, (int, float)):
                    at = int(np.count_nonzero(column < bound))  # = searchsorted(column[order], bound), no gather
                    probes.update(int(order[i]) for i in range(max(0, at - 2), min(len(order), at + 2)))
        rng = np.random.default_rng(len(bundle.rows))
        probes.update(int(i) for i in rng.choice(len(bundle.rows), size=min(64, len(bundle.rows)), replace=False))
        sample = sorted(probes)
        if not np.array_equal(self._asked_mask(bundle.rows.take(sample), op), mask[sample]):
            return None
        return mask

    def kept_indices(self, bundle: _Bundle, params: dict) -> np.ndarray:
        """Indices of the population's samples that every filter keeps with this trial's thresholds."""
        from data_juicer.ops import Filter

        process, _ = apply_params(
            bundle.process, self.targets, {n: v for n, v in params.items() if n in self._keep_only}
        )
        keep = np.ones(len(bundle.rows), dtype=bool)
        for position, op in enumerate(bundle.ops):
            if not isinstance(op, Filter):
                continue
            args = next(iter(process[position].values())) or {}
            declared = _thresholds(op)
            thresholds = tuple(sorted((a, repr(args[a])) for a in declared if a in args))
            for arg, _ in thresholds:
                setattr(op, arg, live_value(declared[arg], args[arg]))  # a size string: the bytes the op holds
            keep &= self._mask(bundle, position, op, thresholds)
        return np.flatnonzero(keep)

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
        history = self.history.setdefault(number, [])
        if rungs and report is not None:
            subsets = self._rung_subsets(len(population), list(rungs))
            for r, member in zip(rungs[:-1], subsets[:-1]):
                value = float(self.objective.score(population, kept[member[kept]]))
                history.append((r, value))
                report(value, r)
                if should_prune is not None and should_prune():
                    return value
        value = float(self.objective.score(population, kept))
        self._score_extras(number, population, kept)
        self._trim(population)
        if rungs:
            history.append((rungs[-1], value))
            if report is not None:
                report(value, rungs[-1])
        return value

    def _score_extras(self, number: int, population, kept: np.ndarray) -> None:
        if self.extras:
            self.scores[number] = {name: float(obj.score(population, kept)) for name, obj in self.extras.items()}

    def setup_objectives(self, population) -> None:
        """Every objective's per-document work on ``population`` (before forking workers, so they share it)."""
        for objective in (self.objective, *self.extras.values()):
            objective.setup(population)

    def _trim(self, population) -> None:
        """Once a population has been scored, the objective holds its per-document quantities (a probability per
        document, bigram counts); the token streams they were derived from (8 bytes per token) can go. An objective
        that needs them again recomputes them (they are a cache)."""
        from .objectives.tokens import TokenStreams

        cache = getattr(population, "cache", None)
        for key, value in list((cache or {}).items()):
            if isinstance(value, TokenStreams):
                del cache[key]

    def release(self, params: dict) -> None:
        """After the trials: drop what only trials need (other bundles, populations and their texts, masks, sorted
        columns, the objective) and hand the memory back to the OS, keeping the statistics of the bundle ``params``
        uses -- the best recipe is processed with them, in Data-Juicer's worker processes, which would otherwise
        start as copies of a large parent."""
        import gc

        keep = self.bundle(params)
        self._bundles = {keep.key: keep}
        keep.population = None
        used = set(keep.stat_keys.values())
        self._stats = {key: value for key, value in self._stats.items() if key in used}
        self._mapped = {key: value for key, value in self._mapped.items() if key[-1] != "population"}
        self._masks.clear()
        self._columns.clear()
        self._subsets.clear()
        self._mask_bytes = 0
        self.objective = None
        self.extras = {}
        gc.collect()
        _trim_heap()

    def _evaluate_slow(self, params: dict, number: int = -1) -> float:
        from .objectives import Population

        process, top = apply_params(self.base_process, self.targets, params)
        self._apply_top(top)
        saved = self.cfg.process
        self.cfg.process = process
        try:
            samples, texts = self.data.run_pipeline(self.original_run, self.trial_dataset(params))
        finally:
            self.cfg.process = saved
        population = Population(texts, dataset=samples, cfg=self.cfg)
        kept = np.arange(len(texts))
        self._score_extras(number, population, kept)
        return float(self.objective.score(population, kept))

    def best_recipe(self, params: dict) -> Tuple[List[dict], dict]:
        return apply_params(self.base_process, self.targets, params)

    # ---- data mixtures: trials pick rows of the whole sources (mixture_data.SourceMixture) ---------------------

    mixture = None  # set by use_mixture when the sweep tunes dataset.configs[i].weight / dataset.max_sample_num

    def use_mixture(self, mixture) -> None:
        """Evaluate trials on mixtures of the sources whose concatenation is ``self.dataset``."""
        self.mixture = mixture

    def trial_documents(self, bundle: _Bundle, params: dict, kept: np.ndarray):
        """The population a trial scores and its kept documents: the bundle's, or the trial's mixture of it."""
        if self.mixture is None:
            return bundle.population, kept
        return self.mixture.documents(bundle.population, kept, params)

    def trial_dataset(self, params: dict):
        """The dataset a trial's recipe loads (for Data-Juicer's full pipeline)."""
        return self.dataset if self.mixture is None else self.mixture.select(self.dataset, params)

    def best_dataset(self, bundle: _Bundle, params: dict):
        """The samples the best recipe loads, after its mappers, with their statistics column."""
        if self.mixture is None:
            return self.dataset_with_statistics(bundle)
        return self.mixture.with_statistics(bundle.dataset, bundle.rows, params)


def _trim_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them otherwise); a no-op elsewhere."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
