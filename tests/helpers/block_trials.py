"""Run beside a Ray cluster (tests/e2e/test_ray_blocks.py): a sweep's trials on blocks against the in-process
engine of the default executor, on the same documents and statistics.

    python -m tests.helpers.block_trials DATA.jsonl REFERENCE.jsonl.gz OUT.json [--blocks N] [--ready FILE]

The statistics are computed here with the filters' own ``compute_stats`` (one dict per document, as Data-Juicer's
statistics pass writes them); the in-process engine gets them as columns (``Bundles.of_columns``) and a
``quality_score`` set up on all the texts; the block engine gets a Ray dataset of the same rows in ``--blocks``
blocks. Every trial's kept count, retention and quality_score from both go to OUT. With ``--ready FILE``, the block
engine's trials run a second time after FILE has been written (a test kills a node meanwhile).
"""

import argparse
import json
import os
import time
from types import SimpleNamespace

import numpy as np
import ray
from data_juicer.ops import load_ops
from data_juicer.utils.constant import Fields

from data_juicer_hpo.modes.wandb.trials.blocks import BlockTrials
from data_juicer_hpo.modes.wandb.trials.bundles import Bundles
from data_juicer_hpo.modes.wandb.trials.evaluator import TrialEvaluator
from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.ops.addressing import Target
from data_juicer_hpo.ops.columns import as_column
from data_juicer_hpo.ops.statistics import probe_stat_keys

PROCESS = [
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"average_line_length_filter": {"min_len": 10, "max_len": 100000}},
    {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
    {"special_characters_filter": {"min_ratio": 0.0, "max_ratio": 0.5}},
    {"alphanumeric_filter": {"min_ratio": 0.25}},
]
RANGES = {  # sweep parameter -> (position, arg, low, high)
    "text_length_filter.min_len": (0, "min_len", 0, 400),
    "text_length_filter.max_len": (0, "max_len", 2000, 60000),
    "average_line_length_filter.max_len": (1, "max_len", 100, 5000),
    "character_repetition_filter.max_ratio": (2, "max_ratio", 0.05, 0.6),
    "special_characters_filter.max_ratio": (3, "max_ratio", 0.1, 0.5),
    "alphanumeric_filter.min_ratio": (4, "min_ratio", 0.3, 0.85),
}


def trial_params(number: int) -> dict:
    rng = np.random.default_rng(number)
    out = {}
    for name, (_, _, low, high) in RANGES.items():
        out[name] = int(rng.integers(low, high + 1)) if isinstance(low, int) else float(rng.uniform(low, high))
    if number % 5 == 0:  # a bound landing on a document's statistic exactly
        out["text_length_filter.min_len"] = 0
    return out


def statistics(texts):
    """Every document's statistics dict after each filter's ``compute_stats``, and the filters."""
    ops = load_ops(PROCESS)
    batch = {"text": list(texts), Fields.stats: [{} for _ in texts]}
    for op in ops:
        if op.is_batched_op():
            batch = op.compute_stats_batched(batch)
        else:
            batch[Fields.stats] = [
                op.compute_stats_single({"text": t, Fields.stats: s})[Fields.stats]
                for t, s in zip(batch["text"], batch[Fields.stats])
            ]
    return [{"text": t, Fields.stats: s} for t, s in zip(batch["text"], batch[Fields.stats])], ops


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("reference")
    parser.add_argument("out")
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--ready", default=None)
    args = parser.parse_args(argv)
    texts = [json.loads(line)["text"] for line in open(args.data, encoding="utf-8")]
    rows, ops = statistics(texts)
    # each filter's statistics, found as the statistics pass finds them (a probe with an empty dict)
    stat_keys = {p: probe_stat_keys(op, {"text": texts[0]}) for p, op in enumerate(ops)}
    targets = {name: Target(name, p, arg) for name, (p, arg, _, _) in RANGES.items()}
    options = {"reference": args.reference, "text_key": "text"}

    columns = {p: {k: as_column([r[Fields.stats][k] for r in rows]) for k in keys} for p, keys in stat_keys.items()}
    population = Population(texts)
    local = TrialEvaluator(
        Bundles.of_columns(PROCESS, columns, targets, population, load_ops), targets,
        get_objective("quality_score", options), extras={"retention": get_objective("retention", {})},
    )  # fmt: skip
    local.objective.setup(population)
    expected = []
    for number in range(args.trials):
        value = local.evaluate(trial_params(number), number)
        scores = local.scores.pop(number)
        expected.append({"quality_score": value, "kept": scores["kept"], "retention": scores["retention"]})
    everything = np.arange(len(texts))
    expected_all = {"quality_score": local.objective.score(population, everything), "kept": len(texts)}

    ray.init(address="auto", log_to_driver=False)
    dataset = ray.data.from_items([{"text": r["text"], Fields.stats: r[Fields.stats]} for r in rows])
    dataset = dataset.repartition(args.blocks).materialize()
    stats = SimpleNamespace(dataset=SimpleNamespace(data=dataset), stat_keys=stat_keys)
    trials = BlockTrials(stats, PROCESS, targets)
    auc = trials.setup_quality(get_objective("quality_score", options))
    on_blocks = [trials.evaluate(trial_params(number)) for number in range(args.trials)]
    result = {
        "expected": expected,
        "on_blocks": on_blocks,
        "expected_all": expected_all,
        "on_blocks_all": trials.evaluate(None),
        "auc": auc,
        "blocks": len(trials.offsets) - 1,
        "actors": len(trials.actors),
        "nodes": len({n["NodeID"] for n in ray.nodes() if n["Alive"]}),
    }
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("trials")
        again, started = [], time.monotonic()
        for number in range(args.trials):
            again.append(trials.evaluate(trial_params(number)))
            time.sleep(max(0.0, 0.3 - (time.monotonic() - started) % 0.3))  # let the kill land mid-trials
        result["again"] = again
        result["nodes_after"] = len({n["NodeID"] for n in ray.nodes() if n["Alive"]})
    trials.close()
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
