"""Applying 3sigma's bounds: log each change, and per op the bounds as written and as tuned with how many documents
each keeps; set them on the live ops and ``cfg.process``; write the refined recipe and plots."""

import inspect
import os
import sys
from functools import partial
from typing import List, NamedTuple, Optional, Tuple

from loguru import logger

from data_juicer_hpo.modes.three_sigma.blocks import (
    KeptCounts,
    block_central_sums,
    block_counts,
    block_partials,
    kept_counts,
    merged_estimates,
    op_rules,
)
from data_juicer_hpo.modes.three_sigma.bounds import bound_interval
from data_juicer_hpo.modes.three_sigma.plan import Change, plan_bounds
from data_juicer_hpo.modes.three_sigma.plots import plot_bounds
from data_juicer_hpo.ops.recipe import (
    dump_recipe,
    load_recipe_file,
    recipe_path,
    refined_recipe,
    set_process_arg,
)
from data_juicer_hpo.progress import Progress
from data_juicer_hpo.section import SECTION

__all__ = ["tune", "Tuned"]


def _fmt(value) -> str:
    if type(value).__name__ == "Fraction":
        return f"'{value}'"
    return repr(value) if not isinstance(value, int) or value < 10**15 else f"{value:.3g}"


def _stated(process, ops, c: Change):
    """A parsed threshold's old value as the recipe states it ('1TB', not the bytes the op holds)."""
    args = next(iter(process[c.index].values())) or {}
    if c.arg in args:
        return args[c.arg]
    param = inspect.signature(type(ops[c.index]).__init__).parameters.get(c.arg)
    return param.default if param is not None and param.default is not param.empty else c.old


def _cli_overrides(original: dict, cfg) -> List[Tuple[str, object]]:
    """Top-level keys given on the command line, with their effective values (``--export_path x``)."""
    keys = []
    for arg in sys.argv[1:]:
        if arg.startswith("--") and arg not in ("--config",):
            key = arg[2:].split("=", 1)[0]
            if "." not in key and key in cfg and key not in ("config", SECTION):
                keys.append((key, cfg.get(key)))
    return keys


class Tuned(NamedTuple):
    """What :func:`tune` did: the changes, the samples each op keeps with the bounds as written and as tuned (on
    its tuned statistics), and the files it wrote."""

    changes: List[Change]
    kept: KeptCounts
    recipe: Optional[str]
    plots: List[str]


def _apply(changes: List[Change], ops, cfg) -> None:
    for c in changes:
        if c.written_kept:  # tighten_only kept the written bound: nothing to change
            continue
        setattr(ops[c.index], c.arg, c.op_value)
        set_process_arg(cfg.process, c.index, c.arg, c.new)


def _default_side_dir(cfg) -> str:
    return os.path.join(cfg.get("work_dir") or os.getcwd(), "auto_hpo")


def written_value(cfg, ops, c: Change):
    """A bound as the recipe states it (a parsed threshold: '1TB', not the bytes the op holds)."""
    return _stated(cfg.process, ops, c) if c.live is not None else c.old


def _log_changes(cfg, ops, changes: List[Change]) -> None:
    for c in changes:
        old = written_value(cfg, ops, c)
        if c.written_kept:
            logger.info(f"{c.op_name}.{c.arg}: {_fmt(old)} kept (tighten_only: 3sigma's {_fmt(c.sigma)} is looser)")
        else:
            logger.info(f"{c.op_name}.{c.arg}: {_fmt(old)} -> {_fmt(c.new)}")


def _log_per_op(cfg, ops, changes, kept: KeptCounts, n: int, tighten_only: bool) -> None:
    """Per op: its bounds as written and as tuned, and how many samples each keeps (on its tuned statistics)."""
    for index in sorted(kept.tuned):
        mine = [c for c in changes if c.index == index]
        as_written = ", ".join(f"{c.arg}={_fmt(written_value(cfg, ops, c))}" for c in mine)
        as_tuned = ", ".join(f"{c.arg}={_fmt(c.new)}" for c in mine)
        how = "tuned (tighten_only)" if tighten_only else "tuned"
        logger.info(
            f"auto_hpo[3sigma]: {ops[index]._name} (#{index}): as written [{as_written}] keeps "
            f"[{kept.written[index]}] of [{n}]; {how} [{as_tuned}] keeps [{kept.tuned[index]}]"
        )


def _log_intervals(cfg, ops, changes: List[Change], estimates, k: float, reduce) -> None:
    """Each bound's 95 % interval as an estimate from the sample (``auto_hpo.sample``) of the whole data's."""
    centers = {}
    for c in changes:
        est = estimates[c.index][c.stat_key][0]
        centers[(c.index, c.stat_key, c.scale)] = est.log_mean if c.scale == "log" else est.mean
    parts = reduce(partial(block_central_sums, centers))
    sums = {key: [sum(p[key][j] for p in parts) for j in (0, 1)] for key in centers}
    for c in changes:
        est = estimates[c.index][c.stat_key][0]
        s3, s4 = sums[(c.index, c.stat_key, c.scale)]
        low, high = bound_interval(est, k, c.arg.split("_", 1)[0], s3 / est.n, s4 / est.n, c.scale)
        logger.info(
            f"auto_hpo[3sigma]: {c.op_name}.{c.arg}: 3sigma's {_fmt(c.sigma if c.written_kept else c.new)}, "
            f"95 % interval from the sample [{low:.6g}, {high:.6g}] (before the clamp to the statistic's range and "
            "the argument's type)"
        )


def tune(cfg, section, ops, stat_keys, values, n: int, aligned: bool, reduce=None) -> Tuned:
    """Plan, log, apply (live ops and ``cfg.process``), and write the refined recipe and plots.

    ``reduce(fn)``: ``fn`` applied to every part of the statistics (op position -> stat key -> values), a list of
    the results -- the blocks of a Ray dataset, where ``values`` is only a sample for the plots --; by default
    ``values`` is the one part."""
    reduce = reduce or (lambda fn: [fn(values)])
    k = float(section["k"])
    scale = section.get("scale") or "linear"
    tighten_only = bool(section.get("tighten_only"))
    estimates = merged_estimates(stat_keys, reduce(partial(block_partials, stat_keys)))
    changes, skips = plan_bounds(ops, stat_keys, values, k, scale, tighten_only, estimates)
    for s in skips:
        logger.info(f"auto_hpo[3sigma]: {s.op_name} (#{s.index}) unchanged: {s.reason}")
    for note in dict.fromkeys(f"{c.op_name} (#{c.index}): {c.note}" for c in changes if c.note):
        logger.info(f"auto_hpo[3sigma]: {note}")
    _log_changes(cfg, ops, changes)
    if section.get("sample") is not None and changes:
        _log_intervals(cfg, ops, changes, estimates, k, reduce)
    rules = op_rules(ops, {c.index for c in changes})
    kept = kept_counts(reduce(partial(block_counts, rules, changes))) if changes else KeptCounts()
    _log_per_op(cfg, ops, changes, kept, n, tighten_only)
    for index in sorted(kept.tuned):
        logger.info(f"auto_hpo[3sigma]: {ops[index]._name} (#{index}) bounds remove [{n - kept.tuned[index]}] of [{n}]")
    if kept.all_tuned is not None and aligned:
        removed = n - kept.all_tuned
        logger.info(f"auto_hpo[3sigma]: the tuned filters remove [{removed}] of [{n}] samples together")
        logger.info(
            f"auto_hpo[3sigma]: on the tuned statistics the recipe as written keeps [{kept.all_written}] of [{n}] "
            f"samples, the tuned one [{kept.all_tuned}]"
        )
    _apply(changes, ops, cfg)

    out_path = section["path_3sigma_recipe"]
    if out_path:
        source = recipe_path(cfg)
        original = load_recipe_file(source) if source else {"process": cfg.process}
        edits = {(c.index, c.arg): c.new for c in changes if not c.written_kept}
        recipe = refined_recipe(original, edits, _cli_overrides(original, cfg))
        dump_recipe(recipe, out_path)
        logger.info(f"auto_hpo[3sigma]: refined recipe written to [{out_path}]")
    plots = []
    if section["plot"]:
        plot_dir = os.path.dirname(os.path.abspath(out_path)) if out_path else _default_side_dir(cfg)
        with Progress(f"drawing the histograms of {len({(c.index, c.stat_key) for c in changes})} statistics"):
            paths = plot_bounds(changes, values, plot_dir, k, scale)
        for path in paths:
            logger.info(f"auto_hpo[3sigma]: plot written to [{path}]")
            plots.append(path)
    return Tuned(changes, kept, out_path, plots)
