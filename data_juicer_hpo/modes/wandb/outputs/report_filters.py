"""The filters of a sweep's report: for a trial's recipe, every filter the sweep moves, with its statistic as the
trials saw it (the columns of the trial's bundle, before :meth:`TrialEvaluator.release
<data_juicer_hpo.modes.wandb.trials.evaluator.TrialEvaluator.release>`), its bounds as written and as the trial set
them, and the population's texts for the example documents -- nothing is computed again."""

import inspect
from typing import Dict, List, Optional, Tuple

import numpy as np

from data_juicer_hpo.ops.statistics import is_stats_filter
from data_juicer_hpo.ops.thresholds import is_list_valued, match_statistic, threshold_pairs
from data_juicer_hpo.report import FilterSection, TunedStatistic, fetch_texts, filter_sections

__all__ = ["trial_statistics", "trial_sections", "kept_count", "written_bundle", "built_bundle"]


def _stated(entry: dict, op, arg: str) -> str:
    """A bound as the recipe states it: its value in the ``process`` entry, else the op's default."""
    args = next(iter(entry.values())) or {}
    if arg in args:
        return str(args[arg])
    param = inspect.signature(type(op).__init__).parameters.get(arg)
    if param is not None and param.default is not param.empty:
        return "none" if param.default is None else str(param.default)
    return str(getattr(op, arg, ""))


def _numeric(column) -> bool:
    if isinstance(column, np.ndarray):
        return column.dtype.kind in "iuf"
    if is_list_valued(column):
        return all(v is None or all(isinstance(x, (int, float)) for x in v) for v in column)
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column[:1000]) and None not in column


def built_bundle(evaluator, params: dict):
    """The bundle of the trial with ``params`` if this process built it (a trial another worker process ran, or an
    earlier run of a resumed sweep, may use one that would cost a statistics pass and an objective setup), or None."""
    return evaluator.bundles.bundles.get(evaluator.bundles.shaping_key(params))


def trial_statistics(
    evaluator, targets: Dict[str, object], params: dict, build: bool = False
) -> Tuple[List[TunedStatistic], object]:
    """The statistics of every filter the sweep moves, for the trial with ``params``, and the trial's bundle
    (``build``: build it when this process has not). None for a recipe that runs Data-Juicer's pipeline per trial
    (no statistic columns), or an unbuilt bundle."""
    bundle = evaluator.bundle(params) if build else built_bundle(evaluator, params)
    if bundle is None or not bundle.fast or bundle.population is None:
        return [], bundle
    bundles = evaluator.bundles
    chosen_process, _ = evaluator.best_recipe(params)
    written_ops, chosen_ops = bundles.load_ops(bundles.base_process), bundles.load_ops(chosen_process)
    positions = sorted({t.position for t in targets.values() if getattr(t, "position", None) is not None})
    out = []
    for p in positions:
        if p not in bundle.stat_keys or not is_stats_filter(chosen_ops[p]):
            continue
        columns = bundles.stats.get(bundle.stat_keys[p], {})
        op = chosen_ops[p]
        pairs = threshold_pairs(type(op))
        for pair in pairs:
            stat_key = match_statistic(pair, list(columns), len(pairs))
            if stat_key is None or not _numeric(columns[stat_key]):
                continue
            sides = {t.side: t.arg for t in pair.args}
            out.append(
                TunedStatistic(
                    index=p,
                    op_name=op._name,
                    stat_key=stat_key,
                    values=columns[stat_key],
                    args=sides,
                    written={s: getattr(written_ops[p], a, None) for s, a in sides.items()},
                    chosen={s: getattr(op, a, None) for s, a in sides.items()},
                    written_text={s: _stated(bundles.base_process[p], written_ops[p], a) for s, a in sides.items()},
                    chosen_text={s: _stated(chosen_process[p], op, a) for s, a in sides.items()},
                    low_closed=bool(getattr(op, "min_closed_interval", True)),
                    high_closed=bool(getattr(op, "max_closed_interval", True)),
                    any_=bool(getattr(op, "any", True)),
                )
            )
    return out, bundle


def trial_sections(evaluator, targets, params: dict, n_examples: int = 3, build=False) -> List[FilterSection]:
    """The report's filter sections for the trial with ``params``, example documents included."""
    stats, bundle = trial_statistics(evaluator, targets, params, build)
    if not stats:
        return []
    texts = bundle.population.texts
    return filter_sections(stats, lambda rows: fetch_texts(texts, rows), n_examples)


def written_bundle(evaluator, targets):
    """The bundle of the recipe as written when it costs no objective setup -- it exists, or differs from the
    trials' only in filter arguments (a statistics pass at most) -- else None."""
    key = evaluator.bundles.shaping_key({})
    if key in evaluator.bundles.bundles:
        return evaluator.bundles.bundles[key]
    base_ops = evaluator.bundles.load_ops(evaluator.bundles.base_process)
    for name, t in targets.items():
        if name in evaluator.bundles.keep_only:
            continue
        if t.position is None or not is_stats_filter(base_ops[t.position]):
            return None  # a mapper argument or a top-level key: another population, another objective setup
    return evaluator.bundle({})


def kept_count(evaluator, bundle, params: dict) -> Optional[int]:
    """How many documents the trial with ``params`` keeps (its mixture's, in a mixture sweep)."""
    if bundle is None or not bundle.fast or bundle.population is None:
        return None
    _, kept = evaluator.trial_documents(bundle, params, evaluator.kept_indices(bundle, params))
    return int(len(kept))
