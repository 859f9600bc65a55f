"""Bundles: what the sweep trials sharing one set of statistic-shaping values need, built once.

A *statistic-shaping* value is any swept value but a filter's threshold (``rep_len`` changes the
character-repetition statistic, ``max_ratio`` does not). A bundle is the recipe with those values: the samples
after its mappers (each mapper state applied once), every filter's statistics as compact columns (each filter
argument set computed once, together with the other listed values of its shaping arguments, in one pass), and the
population an objective scores (set up once per mapper state: a bundle that differs only in a statistic shares it).
"""

import itertools
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.objectives import Population
from data_juicer_hpo.ops.addressing import Target, apply_params
from data_juicer_hpo.ops.columns import StatisticRows, as_column
from data_juicer_hpo.ops.statistics import is_stats_filter
from data_juicer_hpo.ops.thresholds import threshold_args
from data_juicer_hpo.progress import Progress

__all__ = ["MAX_SIBLINGS", "Bundle", "Bundles", "op_key"]

MAX_SIBLINGS = 16  # prepared argument combinations of one filter computed up front (a larger grid: on demand)


@dataclass
class Bundle:
    """Everything the trials that share one set of statistic-shaping values need."""

    key: tuple
    process: List[dict]
    ops: list
    dataset: object  # the samples after the recipe's mappers (None on the slow path)
    population: object  # objectives.Population, shared by every bundle with the same mapper state
    rows: object  # ops.columns.StatisticRows: every sample's statistics dict, made on demand from numeric columns
    stat_keys: Dict[int, tuple]  # filter position -> cache key of its statistics (masks are cached by it)
    fast: bool


def op_key(entry: dict, keep_only: set) -> tuple:
    """The statistic-shaping arguments of one ``process`` entry: every argument but its thresholds."""
    ((name, args),) = entry.items()
    return (name, tuple(sorted((k, repr(v)) for k, v in (args or {}).items() if k not in keep_only)))


class Bundles:
    """The bundles of one sweep, built on demand from the base recipe and cached by their shaping values.

    :param data: the executor's data access (:mod:`data_juicer_hpo.data`; None: bundles given as columns).
    :param cfg: the Data-Juicer config (top-level swept keys are set on it while a bundle is built).
    :param dataset: the loaded dataset.
    :param base_process: the base recipe's ``process`` list; ``base_top``: the swept top-level keys' base values.
    :param targets: sweep parameter name -> target.
    :param load_ops: Data-Juicer's ``load_ops`` (or the data access's).
    :param on_population: called once with every new population (the objectives' per-document work).
    """

    def __init__(
        self,
        data,
        cfg,
        dataset,
        base_process: List[dict],
        base_top: dict,
        targets: Dict[str, Target],
        load_ops: Callable,
        on_population: Optional[Callable] = None,
    ):
        self.data, self.cfg, self.dataset, self.targets = data, cfg, dataset, targets
        self.base_process, self.base_top, self.load_ops = base_process, base_top, load_ops
        self.on_population = on_population
        base_ops = load_ops(base_process)
        self.op_thresholds = [threshold_args(op) for op in base_ops]
        # the sweep parameters that are filter thresholds (every other one shapes a statistic or the data)
        self.keep_only = {
            name for name, t in targets.items() if t.position is not None and t.arg in self.op_thresholds[t.position]
        }
        self.bundles: Dict[tuple, Bundle] = {}
        self.mapped: Dict[tuple, object] = {}  # mapper state -> dataset; (mapper state, "population") -> Population
        self.stats: Dict[tuple, Dict[str, list]] = {}  # filter statistics key -> stat key -> values
        self.variants: Dict[int, Dict[str, list]] = {}  # filter position -> shaping arg -> values (see prepare)
        # processes per op when several sweep workers share the machine (None: Data-Juicer's own choice)
        self.cpu_share: Optional[int] = None

    def shaping_key(self, params: dict) -> tuple:
        return tuple(sorted((n, repr(v)) for n, v in params.items() if n not in self.keep_only and n in self.targets))

    def apply_top(self, top: dict) -> None:
        for key, value in {**self.base_top, **top}.items():
            self.cfg[key] = value

    def bundle(self, params: dict) -> Bundle:
        key = self.shaping_key(params)
        if key not in self.bundles:
            shaping = {n: v for n, v in params.items() if n not in self.keep_only}
            process, top = apply_params(self.base_process, self.targets, shaping)
            self.apply_top(top)
            self.bundles[key] = self.build(key, process, tuple(sorted((k, repr(v)) for k, v in top.items())))
        return self.bundles[key]

    def prepare(self, parameters: dict) -> None:
        """Note the finite ``values`` of the sweep's statistic-shaping op arguments (``rep_len: {values: [5, 10,
        15]}``): the first time a filter's statistics are computed, those of every value are computed with them, in
        the same pass over the data. ``parameters``: sweep parameter name -> ``sweep.ParamSpec``."""
        for name, spec in parameters.items():
            target = self.targets.get(name)
            values = getattr(spec, "values", None)
            if target is None or target.position is None or name in self.keep_only or not values:
                continue
            weights = getattr(spec, "probabilities", None) or [1] * len(values)
            drawn = [v for v, w in zip(values, weights) if w > 0]  # a zero-probability value is never drawn
            if 1 < len(drawn):
                self.variants.setdefault(target.position, {})[target.arg] = drawn

    def _siblings(self, entry: dict, position: int) -> List[dict]:
        """The ``process`` entries of one filter with the other prepared values of its shaping arguments."""
        grid = self.variants.get(position)
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

        todo, keys, labels = [], [], []

        def add(op, key, entry, p):
            if key not in self.stats and key not in keys:
                args = next(iter(entry.values())) or {}
                shown = "".join(f", {arg}={args[arg]!r}" for arg in self.variants.get(p, {}) if arg in args)
                todo.append(op)
                keys.append(key)
                labels.append(f"{op._name}(#{p}{shown})")

        for p in positions:
            add(ops[p], stat_keys[p], process[p], p)
            for entry in self._siblings(process[p], p):
                key = (state, p, op_key(entry, self.op_thresholds[p]))
                if key not in self.stats and key not in keys:
                    add(self.load_ops([entry])[0], key, entry, p)
        if not todo:
            return
        for op in todo if self.cpu_share else ():
            op.auto_op_parallelism, op.num_proc = False, self.cpu_share
        names = ", ".join(labels)
        logger.info(f"auto_hpo[sweep]: computing statistics of [{names}] (reused by every trial sharing them)")
        with Progress(f"computing the statistics of {len(todo)} filters on {self.data.count(dataset):,} documents"):
            computed = self.data.compute(dataset, todo)
        for key, values in zip(keys, computed):
            self.stats[key] = {stat: as_column(column) for stat, column in values.items()}

    def build(self, key: tuple, process: List[dict], top_key: tuple) -> Bundle:
        """Walk the recipe: mappers transform (cached by their arguments), filters' statistics are computed only
        for argument sets not seen before (cached per filter); no sample is removed on the way."""

        ops = self.load_ops(process)
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
                rows.add(self.stats[stat_keys[p]])  # like Data-Juicer: a statistic already present is reused
            pending.clear()

        for position, op in enumerate(ops):
            if is_stats_filter(op):
                stat_keys[position] = (state, position, op_key(process[position], self.op_thresholds[position]))
                pending.append(position)
                continue
            flush()
            state = state + (op_key(process[position], set()),)
            if state not in self.mapped:
                before = self.data.count(dataset)
                with Progress(f"applying {op._name} to {before:,} documents"):
                    mapped = self.data.apply(dataset, op)
                if self.data.count(mapped) != before:
                    return self._slow(key, process, ops, f"{op._name} changes the sample count")
                self.mapped[state] = mapped
            dataset = self.mapped[state]
        flush()
        if (state, "population") not in self.mapped:
            text_key = getattr(ops[0], "text_key", "text") if ops else "text"
            texts = self.data.texts(dataset, text_key)
            population = Population(texts, dataset=self.data.samples(dataset), cfg=self.cfg)
            # set up now, before any trial starts (a W&B run's processes would otherwise come on top of the
            # setup's peak); the objective then scores this population without setting up again
            self.on_population(population)
            self.mapped[(state, "population")] = population
        population = self.mapped[(state, "population")]
        if self.data.kind == "default":
            dataset = self.data.samples(dataset)
        return Bundle(key, process, ops, dataset, population, rows, stat_keys, True)

    @classmethod
    def of_columns(
        cls, process: List[dict], statistics: Dict[int, dict], targets: Dict[str, Target], population, load_ops
    ) -> "Bundles":
        """The bundles of one population given as statistic columns (``statistics``: filter position -> stat key
        -> column), with no dataset or executor: the keep-mask engine alone, for simulations and for a block of a
        larger population."""
        bundles = cls(None, None, None, process, {}, targets, load_ops)
        bundles.add_columns(statistics, population)
        return bundles

    def add_columns(self, statistics: Dict[int, dict], population) -> Bundle:
        """The base recipe's bundle on a population given as statistic columns (``statistics``: filter position ->
        stat key -> column), with no dataset: for simulations and for a block of a larger population."""

        rows = StatisticRows(len(population))
        stat_keys = {}
        for position in sorted(statistics):
            process = self.base_process
            stat_keys[position] = ("columns", position, op_key(process[position], self.op_thresholds[position]))
            self.stats[stat_keys[position]] = statistics[position]
            rows.add(statistics[position])
        key = self.shaping_key({})
        ops = self.load_ops(self.base_process)
        self.bundles[key] = Bundle(key, self.base_process, ops, None, population, rows, stat_keys, True)
        return self.bundles[key]

    def _slow(self, key, process, ops, why: str) -> Bundle:
        logger.info(f"auto_hpo[sweep]: {why}: each trial runs Data-Juicer's full pipeline")
        return Bundle(key, process, ops, None, None, [], {}, False)

    def keep_only_bundle(self, params: dict) -> Bundle:
        """Drop every bundle, population and statistic but those of the bundle ``params`` uses (its statistics
        stay: the best recipe is processed with them); that bundle is returned without its population."""
        keep = self.bundle(params)
        self.bundles = {keep.key: keep}
        keep.population = None
        used = set(keep.stat_keys.values())
        for key in [key for key in self.stats if key not in used]:
            del self.stats[key]  # in place: the keep-mask engine shares this dict
        self.mapped = {key: value for key, value in self.mapped.items() if key[-1] != "population"}
        return keep

    @staticmethod
    def dataset_with_statistics(bundle: Bundle):
        """The bundle's samples with their statistics column, ready for Data-Juicer's processing."""

        return bundle.dataset.add_column(Fields.stats, bundle.rows.as_arrow())
