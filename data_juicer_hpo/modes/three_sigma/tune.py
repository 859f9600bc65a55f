"""Applying 3sigma's bounds: log each change and what it removes, set it on the live ops and ``cfg.process``, and
write the refined recipe and plots."""

import inspect
import os
import sys
from typing import List, Tuple

import numpy as np
from loguru import logger

from data_juicer_hpo.modes.three_sigma.plan import Change, plan_bounds, removed_masks
from data_juicer_hpo.modes.three_sigma.plots import plot_bounds
from data_juicer_hpo.ops.recipe import (
    dump_recipe,
    load_recipe_file,
    recipe_path,
    refined_recipe,
    set_process_arg,
)
from data_juicer_hpo.section import SECTION

__all__ = ["tune"]


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


def _apply(changes: List[Change], ops, cfg) -> None:
    for c in changes:
        setattr(ops[c.index], c.arg, c.op_value)
        set_process_arg(cfg.process, c.index, c.arg, c.new)


def _default_side_dir(cfg) -> str:
    return os.path.join(cfg.get("work_dir") or os.getcwd(), "auto_hpo")


def tune(cfg, section, ops, stat_keys, values, n: int, aligned: bool) -> List[Change]:
    """Plan, log, apply (live ops and ``cfg.process``), and write the refined recipe and plots."""
    k = float(section["k"])
    scale = section.get("scale") or "linear"
    changes, skips = plan_bounds(ops, stat_keys, values, k, scale)
    for s in skips:
        logger.info(f"auto_hpo[3sigma]: {s.op_name} (#{s.index}) unchanged: {s.reason}")
    for note in dict.fromkeys(f"{c.op_name} (#{c.index}): {c.note}" for c in changes if c.note):
        logger.info(f"auto_hpo[3sigma]: {note}")
    for c in changes:
        old = _stated(cfg.process, ops, c) if c.live is not None else c.old
        logger.info(f"{c.op_name}.{c.arg}: {_fmt(old)} -> {_fmt(c.new)}")
    removed = removed_masks(ops, changes, values)
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
        plot_dir = os.path.dirname(os.path.abspath(out_path)) if out_path else _default_side_dir(cfg)
        for path in plot_bounds(changes, values, plot_dir, k, scale):
            logger.info(f"auto_hpo[3sigma]: plot written to [{path}]")
    return changes
