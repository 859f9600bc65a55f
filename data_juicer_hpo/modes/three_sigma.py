"""``auto_hpo.mode: 3sigma``: tune every filter's bounds to mean +/- k*std of its statistic, then process.

Runs inside the executor's ``run``, after the dataset is loaded, on any executor that
:mod:`~data_juicer_hpo.data_access` serves: one statistics pass, the bounds (:mod:`~data_juicer_hpo.ksigma`, paired
by :mod:`~data_juicer_hpo.ops.thresholds`), the edits to the live ops and ``cfg.process``, the refined recipe, then
Data-Juicer's own ``run`` on the data that already carries the statistics.
"""

import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
from loguru import logger

from ..errors import AutoHpoError
from ..ksigma import bound_value, estimate, kept_mask, natural_range
from ..ops.recipe import dump_recipe, load_recipe_file, recipe_path, refined_recipe, set_process_arg
from ..ops.thresholds import match_statistic, threshold_pairs
from ..section import SECTION, section_of

__all__ = ["Change", "Skip", "plan_bounds", "tune", "EXECUTORS", "check", "run"]

EXECUTORS = ("default", "ray")
REFUSED = {
    "ray_partitioned": (
        " (it processes partitions independently, with checkpoints; 3sigma needs one statistics pass over the whole"
        " data before any sample is filtered: use executor_type ray)"
    )
}


@dataclass(frozen=True)
class Change:
    index: int  # op position in the recipe
    op_name: str
    arg: str
    old: object
    new: object
    stat_key: str


@dataclass(frozen=True)
class Skip:
    index: int
    op_name: str
    reason: str


def plan_bounds(ops, stat_keys, values, k: float) -> Tuple[List[Change], List[Skip]]:
    """The new threshold values of every stats filter, and why the others stay unchanged."""
    changes, skips = [], []
    for index, keys in stat_keys.items():
        op = ops[index]
        name = op._name
        pairs = threshold_pairs(type(op))
        if not pairs:
            skips.append(Skip(index, name, "has no min_*/max_* threshold argument"))
            continue
        if getattr(op, "reversed_range", False):
            skips.append(Skip(index, name, "reversed_range is set: it keeps what lies outside its bounds"))
            continue
        numeric = {}
        for key in keys:
            est, reason = estimate(values[index].get(key, []))
            numeric[key] = (est, reason)
        usable = [key for key, (est, reason) in numeric.items() if est is not None or "constant" in (reason or "")]
        for pair in pairs:
            candidates = usable if usable else keys
            stat_key = match_statistic(pair, candidates)
            label = "/".join(t.arg for t in pair.args)
            if stat_key is None:
                reasons = "; ".join(f"{key}: {r}" for key, (e, r) in numeric.items() if r) or "ambiguous"
                skips.append(Skip(index, name, f"{label}: no numeric statistic to tune ({reasons})"))
                continue
            est, reason = numeric[stat_key]
            if est is None:
                skips.append(Skip(index, name, f"{label}: {stat_key} {reason}"))
                continue
            stat_range = natural_range(stat_key, est)
            for threshold in pair.args:
                new = bound_value(est, k, threshold.side, threshold.type, stat_range)
                changes.append(Change(index, name, threshold.arg, getattr(op, threshold.arg, None), new, stat_key))
    return changes, skips


def _removed_counts(ops, changes: List[Change], values) -> Dict[int, np.ndarray]:
    """Per op position, the mask of samples its new bounds remove (on the statistic as that op sees it)."""
    by_op: Dict[int, Dict[str, Dict[str, object]]] = {}
    for c in changes:
        by_op.setdefault(c.index, {}).setdefault(c.stat_key, {})[c.arg.split("_", 1)[0]] = c.new
    removed = {}
    for index, per_stat in by_op.items():
        op = ops[index]
        mask = np.zeros(len(next(iter(values[index].values()))), dtype=bool)
        for stat_key, bounds in per_stat.items():
            keep = kept_mask(
                values[index][stat_key],
                bounds.get("min"),
                bounds.get("max"),
                getattr(op, "min_closed_interval", True),
                getattr(op, "max_closed_interval", True),
            )
            mask |= ~keep
        removed[index] = mask
    return removed


def _fmt(value) -> str:
    return repr(value) if not isinstance(value, int) or value < 10**15 else f"{value:.3g}"


def _cli_overrides(original: dict, cfg) -> List[Tuple[str, object]]:
    """Top-level keys given on the command line, with their effective values (``--export_path x``)."""
    keys = []
    for arg in sys.argv[1:]:
        if arg.startswith("--") and arg not in ("--config",):
            key = arg[2:].split("=", 1)[0]
            if "." not in key and key in cfg and key not in ("config", SECTION):
                keys.append((key, cfg.get(key)))
    return keys


def _apply(changes: List[Change], ops, cfg) -> None:
    for c in changes:
        setattr(ops[c.index], c.arg, c.new)
        set_process_arg(cfg.process, c.index, c.arg, c.new)


def _default_side_dir(cfg) -> str:
    return os.path.join(cfg.get("work_dir") or os.getcwd(), "auto_hpo")


def tune(cfg, section, ops, stat_keys, values, n: int, aligned: bool) -> List[Change]:
    """Plan, log, apply (live ops and ``cfg.process``), and write the refined recipe and plots."""
    k = float(section["k"])
    changes, skips = plan_bounds(ops, stat_keys, values, k)
    for s in skips:
        logger.info(f"auto_hpo[3sigma]: {s.op_name} (#{s.index}) unchanged: {s.reason}")
    for c in changes:
        logger.info(f"{c.op_name}.{c.arg}: {_fmt(c.old)} -> {_fmt(c.new)}")
    removed = _removed_counts(ops, changes, values)
    for index, mask in removed.items():
        logger.info(f"auto_hpo[3sigma]: {ops[index]._name} (#{index}) bounds remove [{int(mask.sum())}] of [{n}]")
    if removed and aligned:
        union = np.logical_or.reduce(list(removed.values()))
        logger.info(f"auto_hpo[3sigma]: the tuned filters remove [{int(union.sum())}] of [{n}] samples together")
    _apply(changes, ops, cfg)

    out_path = section["path_3sigma_recipe"]
    if out_path:
        source = recipe_path(cfg)
        original = load_recipe_file(source) if source else {"process": cfg.process}
        recipe = refined_recipe(original, {(c.index, c.arg): c.new for c in changes}, _cli_overrides(original, cfg))
        dump_recipe(recipe, out_path)
        logger.info(f"auto_hpo[3sigma]: refined recipe written to [{out_path}]")
    if section["plot"]:
        from ..plotting import plot_bounds

        plot_dir = os.path.dirname(os.path.abspath(out_path)) if out_path else _default_side_dir(cfg)
        for path in plot_bounds(changes, values, plot_dir, k):
            logger.info(f"auto_hpo[3sigma]: plot written to [{path}]")
    return changes


def check_size(cfg, n: int) -> None:
    if n < 2:
        key = "dataset_path" if cfg.get("dataset_path") else "dataset"
        raise AutoHpoError(
            f"{key}: has {n} sample(s) after loading; {SECTION}.mode 3sigma needs at least 2 to estimate a std"
        )


def preflight(cfg) -> None:
    """Data-Juicer's own check of the op arguments (as its ``run`` does), before any work."""
    if getattr(cfg, "strict_preflight", True):
        from data_juicer.core.preflight import pre_instantiation_check

        pre_instantiation_check(cfg.process)


def check(cfg) -> List[str]:
    """Nothing beyond the section and the dataset path (checked by the mode registry)."""
    return []


def run(executor, original_run, dataset=None, load_data_np=None, skip_export=False, skip_return=False):
    """The 3sigma mode (see the module doc), on any executor that :mod:`..data_access` serves."""
    from ..data_access import data_access

    access = data_access(executor)
    cfg = executor.cfg
    section = section_of(cfg)
    preflight(cfg)
    dataset = access.load(dataset, load_data_np)
    n = access.count(dataset)
    check_size(cfg, n)
    ops = access.load_ops(cfg.process)
    logger.info(
        f"auto_hpo[3sigma]: computing the statistics of [{len(ops)}] ops on [{n}] samples once ({access.kind} executor)"
    )
    stats = access.statistics_pass(dataset, ops)
    for note in stats.notes:
        logger.info(f"auto_hpo[3sigma]: {note}")
    if stats.stat_keys:
        tune(cfg, section, ops, stats.stat_keys, stats.values, stats.count, stats.aligned)
    else:
        logger.info("auto_hpo[3sigma]: no filter with statistics; nothing to tune")
    executor._dj_hpo_inner = True
    try:
        return access.process_tuned(
            original_run,
            dataset,
            stats,
            ops,
            load_data_np=load_data_np,
            skip_export=skip_export,
            skip_return=skip_return,
        )
    finally:
        executor._dj_hpo_inner = False
