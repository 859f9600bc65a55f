"""``python -m data_juicer_hpo.label --config recipe.yaml --n 200 --out DIR``: the documents worth labelling.

Reads the recipe as ``dj-process`` would (Data-Juicer's parser with the ``auto_hpo`` section, nothing written),
loads its data, computes every statistic filter's statistic once (the recipe's mappers applied first, as a sweep
does), draws ``n`` documents (:mod:`.draw`: spread over every tuned statistic, denser near the recipe's bounds and,
when the recipe has a sweep file, the sweep space's edges; seeded) and writes ``DIR/to_label.jsonl``: each drawn
record as loaded (its text under the recipe's text key, before any mapper: that is what the sweep reads from the
labels file) plus a ``label_meta`` object -- ``row`` (its position in the loaded data), ``how`` (``spread``,
``near``, ``random``), ``statistics`` (each tuned statistic's value, after the mappers), ``near`` (the bounds and
edges it lies near). Add the label under ``auto_hpo.labels.label_key`` (``keep: true``/``false``) to make the
labels file; other fields are carried along harmlessly.
"""

import argparse
import json
import math
import os
from types import SimpleNamespace
from typing import List, Optional, Sequence

import numpy as np
from data_juicer.core.data.dataset_builder import DatasetBuilder
from data_juicer.core.executor import default_executor
from data_juicer.ops import OPERATORS
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.data import LocalData
from data_juicer_hpo.data.loading import load_dataset
from data_juicer_hpo.errors import AutoHpoError, script_main
from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.hooks import install
from data_juicer_hpo.imports import lazy_import
from data_juicer_hpo.label.draw import Mark, Pick, Statistic, draw
from data_juicer_hpo.modes.wandb.checks import dj_keys, load_sweep
from data_juicer_hpo.ops.addressing import resolve_targets
from data_juicer_hpo.ops.statistics import is_stats_filter
from data_juicer_hpo.ops.thresholds import is_list_valued, match_statistic, threshold_pairs
from data_juicer_hpo.progress import Progress
from data_juicer_hpo.section import SECTION, section_of

dj_config = lazy_import("data_juicer.config")

__all__ = ["main", "USAGE", "OUTPUT", "tuned_statistics"]

OUTPUT = "to_label.jsonl"
USAGE = """\
usage: python -m data_juicer_hpo.label --config RECIPE.yaml --out DIR [--n 200] [--seed 0] [Data-Juicer flags]

Draw documents of the recipe's data worth labelling keep/drop for the labels objective (auto_hpo.labels): spread
over every tuned statistic, denser near the recipe's bounds and the sweep space's edges; seeded and reproducible.
Writes DIR/to_label.jsonl.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line naming the flag, exit 1 (argparse would print its usage and exit 2)
        raise AutoHpoError(message)


def _parser() -> _Parser:
    parser = _Parser(prog="python -m data_juicer_hpo.label", usage=USAGE, add_help=False)
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--n", default="200")
    parser.add_argument("--seed", default="0")
    return parser


def _count(flag: str, text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        raise AutoHpoError(f"{flag}: must be an integer >= {least} (got {text!r})")
    return value


def _sweep_edges(cfg) -> dict:
    """(op position, argument) -> the sweep space's two edges, when the recipe's ``auto_hpo.hpo_config`` names one."""
    path = section_of(cfg)["hpo_config"]
    if not path:
        return {}
    sweep = load_sweep(path, cfg)
    targets, _ = resolve_targets(list(sweep.parameters), cfg.process, OPERATORS.modules, dj_keys(cfg))
    edges = {}
    for name, target in targets.items():
        spec = sweep.parameters[name]
        ends = [spec.from_unit(0.0), spec.from_unit(1.0)]
        ends = [float(v) for v in ends if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        if target.position is not None and ends:
            edges[(target.position, target.arg)] = sorted(set(ends))
    return edges


def tuned_statistics(ops, values: dict, edges: dict) -> List[Statistic]:
    """Each numeric statistic a threshold pair of a statistic filter reads (``values``: op position -> stat key ->
    values), with the recipe's bounds and the sweep's edges on it as marks."""
    out = []
    for position, op in enumerate(ops):
        if not is_stats_filter(op) or position not in values:
            continue
        pairs = threshold_pairs(type(op))
        for pair in pairs:
            stat = match_statistic(pair, list(values[position]), len(pairs))
            column = values[position].get(stat) if stat else None
            if column is None or is_list_valued(column):
                continue  # media filters' per-item statistics: not drawn along
            marks = []
            for threshold in pair.args:
                bound = getattr(op, threshold.arg, None)
                if isinstance(bound, (int, float)) and not isinstance(bound, bool) and math.isfinite(bound):
                    marks.append(Mark(float(bound), f"{op._name}.{threshold.arg} = {bound:g} (the recipe)"))
                for edge in edges.get((position, threshold.arg), []):
                    marks.append(Mark(edge, f"{op._name}.{threshold.arg} = {edge:g} (the sweep's edge)"))
            numbers = np.asarray([np.nan if v is None else v for v in column], dtype=np.float64)
            out.append(Statistic(f"{op._name}.{stat}", numbers, tuple(marks)))
    return out


def _record(row: dict, pick: Pick, statistics: List[Statistic]) -> dict:
    record = {k: v for k, v in row.items() if k != Fields.stats}
    values = {s.name: (None if np.isnan(s.values[pick.row]) else float(s.values[pick.row])) for s in statistics}
    record["label_meta"] = {"row": pick.row, "how": pick.how, "statistics": values, "near": pick.near}
    return record


def _run(argv: Sequence[str]) -> str:
    known, rest = _parser().parse_known_args(list(argv))
    n, seed = _count("--n", known.n, 1), _count("--seed", known.seed, 0)
    install()  # the auto_hpo section in Data-Juicer's parser
    # load_configs_only: nothing written (no work directory, log or backup); no auto_hpo mode, so none of its checks
    # (the labels file this command helps make may not exist yet); the sweep file is read below
    args = ["--config", known.config, *rest, f"--{SECTION}.mode", "null"]
    cfg = dj_config.init_configs(args=args, load_configs_only=True)
    dataset = load_dataset(SimpleNamespace(cfg=cfg, dataset_builder=DatasetBuilder(cfg, executor_type="default")))
    ops = default_executor.load_ops(cfg.process)
    with Progress("computing the statistics to draw along", total=None):
        stats = LocalData(None).statistics_pass(dataset, ops)
    if not stats.aligned:
        raise AutoHpoError(f"process: {'; '.join(stats.notes)}: the statistics no longer line up with the documents")
    statistics = tuned_statistics(ops, stats.values, _sweep_edges(cfg))
    if not statistics:
        raise AutoHpoError("process: no filter with a numeric statistic and thresholds to draw documents along")
    picks = draw(statistics, n, seed)
    rows = dataset.select([p.row for p in picks]).to_list()
    lines = [json.dumps(_record(row, pick, statistics), ensure_ascii=False) + "\n" for row, pick in zip(rows, picks)]
    os.makedirs(known.out, exist_ok=True)
    path = os.path.join(known.out, OUTPUT)
    write_atomic(path, "".join(lines))
    near = sum(1 for p in picks if p.how == "near")
    logger.info(
        f"auto_hpo[label]: [{len(picks)}] of [{len(dataset)}] documents in [{path}] ({near} near a bound or edge, "
        f"the rest spread over {len(statistics)} statistics); add the label under auto_hpo.labels.label_key "
        f"(keep: true/false)"
    )
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command (see the module doc); an :class:`AutoHpoError` is one line per problem and exit status 1."""
    return script_main(_run, USAGE, argv)
