"""Trials per second of the per-block engine on a local multi-node Ray cluster, beside the single-process engine,
at growing numbers of documents.

    python bench/bench_block_trials.py [--docs 1000000,10000000] [--trials 20] [--workers 2] [--blocks 16]

The documents are synthetic, as in ``bench/simulate_trials.py``: the six filters' statistic columns drawn per block
from distributions shaped like the bench corpus's, plus a short text per document (a few words), so what is timed
is the engine, not Data-Juicer's statistics. Each size runs twice:

* ``blocks``: the real engine of ``executor_type: ray`` sweeps (``modes/wandb/trials/blocks.py``) on a cluster of a
  head and ``--workers`` worker nodes (the tests' ``tests/helpers/ray_netns.sh``: loopback only, private network
  and PID namespaces); the dataset's blocks are made on the cluster, ``quality_score``'s classifier is trained on
  the driver against ``../shared/data/reference-clean.jsonl.gz`` and the actors score their own documents;
* ``single``: the default executor's engine (``TrialEvaluator`` over the same columns, ``quality_score`` set up on
  the same texts) in one process of its own.

Both must give the same kept count, retention and quality_score for every trial (checked, to the last bit).
Reported per size: setup seconds, trials per second, and the peak RSS of the driver (``blocks``) and of the single
process.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import BIN, ROOT, SHARED, SIX_FILTERS, save  # noqa: E402
from simulate_trials import THRESHOLDS, block_columns, trial_params  # noqa: E402

NETNS = ROOT / "tests" / "helpers" / "ray_netns.sh"
WORDS = "the of and data model quality text filter corpus good bad noise page line word token train test".split()
STAT_KEYS = {0: "text_len", 1: "avg_line_length", 2: "max_line_length", 3: "alnum_ratio", 4: "char_rep_ratio",
             5: "special_char_ratio"}  # fmt: skip


def block_texts(block: int, size: int) -> list:
    """Short texts of one block (seeded by its index): 3-8 words each."""
    rng = np.random.default_rng(5000 + block)
    lengths = rng.integers(3, 9, size)
    picks = rng.integers(0, len(WORDS), lengths.sum())
    cuts = np.cumsum(lengths)[:-1]
    return [" ".join(WORDS[w] for w in part) for part in np.split(picks, cuts)]


def sizes_of(n_docs: int, blocks: int) -> list:
    return [int(s) for s in np.diff(np.linspace(0, n_docs, blocks + 1).astype(np.int64))]


def _targets():
    from data_juicer_hpo.ops.addressing import Target

    return {name: Target(name, position, arg) for name, (position, arg, _, _) in THRESHOLDS.items()}


def _objective():
    from data_juicer_hpo.objectives import get_objective

    return get_objective("quality_score", {"reference": str(SHARED / "reference-clean.jsonl.gz"), "text_key": "text"})


def run_single(n_docs: int, blocks: int, trials: int) -> dict:
    """The default executor's engine in this process."""
    from data_juicer.ops import load_ops

    from data_juicer_hpo.modes.wandb.trials import Bundles, TrialEvaluator
    from data_juicer_hpo.objectives import Population

    start = time.perf_counter()
    parts = [block_columns(b, s) for b, s in enumerate(sizes_of(n_docs, blocks))]
    columns = {p: {STAT_KEYS[p]: np.concatenate([part[0][p][STAT_KEYS[p]] for part in parts])} for p in STAT_KEYS}
    del parts
    texts = [t for b, s in enumerate(sizes_of(n_docs, blocks)) for t in block_texts(b, s)]
    population = Population(texts)
    evaluator = TrialEvaluator(Bundles.of_columns(SIX_FILTERS, columns, _targets(), population, load_ops), _targets(),
                               _objective())  # fmt: skip
    evaluator.objective.setup(population)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    values = []
    for number in range(trials):
        value = evaluator.evaluate(trial_params(number), number)
        values.append({"quality_score": value, **evaluator.scores.pop(number)})
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"setup_s": setup, "trials_per_s": trials / seconds, "peak_mib": peak, "values": values}


def _make_block(batch):
    import pyarrow as pa
    from data_juicer.utils.constant import Fields

    b, size = int(batch["block"][0]), int(batch["size"][0])
    statistics, _ = block_columns(b, size)
    stats = pa.StructArray.from_arrays([pa.array(statistics[p][STAT_KEYS[p]]) for p in STAT_KEYS],
                                       names=[STAT_KEYS[p] for p in STAT_KEYS])  # fmt: skip
    return pa.table({"text": block_texts(b, size), Fields.stats: stats})


def run_blocks(n_docs: int, blocks: int, trials: int) -> dict:
    """The per-block engine on the cluster this process is beside (the driver's peak is this process's)."""
    import ray

    from data_juicer_hpo.modes.wandb.trials.blocks import BlockTrials

    start = time.perf_counter()
    sizes = sizes_of(n_docs, blocks)
    items = [{"block": b, "size": s} for b, s in enumerate(sizes)]
    dataset = ray.data.from_items(items, override_num_blocks=blocks)
    dataset = dataset.map_batches(_make_block, batch_size=1, batch_format="pyarrow").materialize()
    stats = SimpleNamespace(dataset=SimpleNamespace(data=dataset), stat_keys={p: [k] for p, k in STAT_KEYS.items()})
    engine = BlockTrials(stats, SIX_FILTERS, _targets())
    engine.setup_quality(_objective())
    engine.evaluate(None)  # the actors score their documents (part of the setup)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    values = [engine.evaluate(trial_params(number)) for number in range(trials)]
    seconds = time.perf_counter() - start
    result = {"setup_s": setup, "trials_per_s": trials / seconds, "blocks": len(engine.offsets) - 1,
              "actors": len(engine.actors), "nodes": len([n for n in ray.nodes() if n["Alive"]])}  # fmt: skip
    engine.close()
    del dataset, stats
    result["driver_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["values"] = values
    return result


def _inside(args) -> None:
    """One engine at one size, in this process; the result as JSON on the last line."""
    if args.engine == "blocks":
        import ray

        ray.init(address="auto", log_to_driver=False)
        out = run_blocks(args.n, args.blocks, args.trials)
    else:
        out = run_single(args.n, args.blocks, args.trials)
    print(json.dumps(out))


def _run(engine: str, n: int, args) -> dict:
    cmd = [str(BIN / "python"), str(Path(__file__).resolve()), "--engine", engine, "--n", str(n),
           "--blocks", str(args.blocks), "--trials", str(args.trials)]  # fmt: skip
    store = int(args.store_gb * 10**9)
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJ_HPO_RAY_WORKERS=str(args.workers),
               DJ_HPO_RAY_STORE=str(store))  # fmt: skip
    if engine == "blocks":
        cmd = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "bash", str(NETNS), *cmd]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"{engine} at {n}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="1000000,10000000")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="worker nodes beside the head")
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--store-gb", type=float, default=2.5, help="object store of each node")
    parser.add_argument("--engine", choices=("blocks", "single"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        return _inside(args)
    result = {"trials": args.trials, "workers": args.workers, "blocks": args.blocks, "runs": {}}
    for n in [int(x) for x in args.docs.split(",")]:
        blocks, single = _run("blocks", n, args), _run("single", n, args)
        same = blocks["values"] == single["values"]
        if not same:
            for number, (b, s) in enumerate(zip(blocks["values"], single["values"])):
                if b != s:
                    print(f"  trial {number}: blocks {b} | single {s}", flush=True)
        print(
            f"{n:>11,} docs | blocks ({blocks['blocks']} on {blocks['actors']} actors, {blocks['nodes']} nodes): "
            f"{blocks['trials_per_s']:6.2f} trials/s, setup {blocks['setup_s']:5.0f} s, driver peak "
            f"{blocks['driver_peak_mib']:5.0f} MiB | single process: {single['trials_per_s']:6.2f} trials/s, setup "
            f"{single['setup_s']:5.0f} s, peak {single['peak_mib']:5.0f} MiB | same values: {same}",
            flush=True,
        )
        for run in (blocks, single):
            run["kept"] = [v["kept"] for v in run.pop("values")]
        result["runs"][n] = {"blocks": blocks, "single": single, "same_values": same}
    print(f"saved {save('block-trials', result)}")


if __name__ == "__main__":
    main()
