"""Parallel sweep workers: a 24-trial random sweep with 1 and with 2 local workers on PostgreSQL (and 1 worker on
SQLite, for the shared storage's overhead per trial).

    python bench/bench_workers.py [--repeats 2] [--docs 20000]

The sweep moves ``rep_len`` (so trials recompute a statistic and have real work to share out) and the
thresholds of the six-filter recipe; the server is a private PostgreSQL on loopback, as in the tests.
"""

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests.helpers
from _common import BIN, SHARED, corpus, interleave, save, summarize, write_recipe  # noqa: E402
from bench_sweep import THRESHOLDS  # noqa: E402
from tests.helpers.pg_server import postgres_server, unavailable  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--trials", type=int, default=24)
    args = parser.parse_args(argv)
    why = unavailable()
    if why:
        raise SystemExit(f"needs a PostgreSQL server: {why}")
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-workers-"))
    runs = {"count": 0}
    try:
        data = corpus(work, limit=args.docs)
        with postgres_server() as pg_url:
            storages = {"pg-1w": (pg_url, 1), "pg-2w": (pg_url, 2), "sqlite-1w": (None, 1)}
            variants, out_dirs = {}, {}
            for name, (storage, workers) in storages.items():
                out_dirs[name] = work / name
                sweep_path = work / f"{name}-sweep.yaml"
                recipe = write_recipe(
                    work / f"{name}.yaml",
                    data,
                    out_dirs[name] / "out.jsonl",
                    auto_hpo={
                        "mode": "wandb",
                        "backend": "local",
                        "hpo_config": str(sweep_path),
                        "reference": str(SHARED / "reference-clean.jsonl.gz"),
                        "output_dir": str(out_dirs[name] / "hpo"),
                        "n_workers": workers,
                        "process_best": False,
                        **({"storage": storage} if storage else {}),
                    },
                )
                variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]

            def prepare(name):  # a fresh study every run: a new sweep name on the shared server
                runs["count"] += 1
                shutil.rmtree(out_dirs[name], ignore_errors=True)
                sweep = {
                    "name": f"bench-{name}-{runs['count']}",
                    "method": "random",
                    "run_cap": args.trials,
                    "metric": {"name": "quality_score", "goal": "maximize"},
                    "parameters": {
                        **THRESHOLDS,
                        "character_repetition_filter.rep_len": {"distribution": "int_uniform", "min": 5, "max": 16},
                    },
                }
                (work / f"{name}-sweep.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))

            print(f"{args.docs} documents, {args.trials}-trial random sweeps, {args.repeats} interleaved runs")
            samples = interleave(variants, args.repeats, work, prepare=prepare)
            with open(out_dirs["pg-2w"] / "hpo" / "trials.csv") as f:
                rows = list(csv.DictReader(f))
        result = summarize(samples)
        result["trials_in_last_2w_run"] = len(rows)
        result["speedup_2w"] = result["pg-1w"]["median_s"] / result["pg-2w"]["median_s"]
        result["storage_overhead_per_trial_s"] = (
            result["pg-1w"]["median_s"] - result["sqlite-1w"]["median_s"]
        ) / args.trials
        for name in variants:
            print(f"{name:>10} median {result[name]['median_s']:.2f} s")
        print(
            f"speed-up with 2 workers on PostgreSQL: {result['speedup_2w']:.2f}x; PostgreSQL vs SQLite overhead "
            f"per trial: {result['storage_overhead_per_trial_s'] * 1000:.0f} ms "
            f"({len(rows)} trials in the 2-worker run)"
        )
        print(f"saved {save('workers', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
