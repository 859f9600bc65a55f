"""Mixture sweep cost: a 30-trial sweep over 3 source weights and 3 thresholds, divided by one plain dj-process run
of the base mixture recipe.

    python bench/bench_mixture.py [--repeats 3] [--trials 30] [--objective model_loss]

The sources are three parts of the bench corpus (``../shared/data``) split by ``meta.source``: blog posts
(12,000), newsgroup posts (7,000) and newswire (6,000); the recipe mixes them with ``max_sample_num: 20000`` and
filters with the six-filter recipe. Interleaved runs, medians, peak memory of the whole process tree. The sweep
runs locally (trials recorded as W&B offline runs), then processes and exports the best recipe.
"""

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, SIX_FILTERS, interleave, save, summarize  # noqa: E402

SOURCES = ("blog_authorship_corpus", "20newsgroups", "reuters21578")
PARAMETERS = {
    "dataset.configs[0].weight": {"distribution": "uniform", "min": 0.1, "max": 3.0},
    "dataset.configs[1].weight": {"distribution": "uniform", "min": 0.1, "max": 3.0},
    "dataset.configs[2].weight": {"distribution": "uniform", "min": 0.1, "max": 3.0},
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 400},
    "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
    "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
}


def split_sources(work: Path) -> list:
    """One JSON Lines file per source of the bench corpus, in corpus order."""
    paths = {name: work / f"{name}.jsonl" for name in SOURCES}
    files = {name: open(path, "w", encoding="utf-8") for name, path in paths.items()}
    try:
        with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                source = json.loads(line)["meta"]["source"]
                if source in files:
                    files[source].write(line)
    finally:
        for f in files.values():
            f.close()
    return [paths[name] for name in SOURCES]


def write_mixture_recipe(path: Path, sources: list, export: Path, max_sample_num: int, **extra) -> Path:
    body = {
        "project_name": "bench-mixture",
        "dataset": {
            "configs": [{"type": "local", "path": str(p), "weight": 1.0} for p in sources],
            "max_sample_num": max_sample_num,
        },
        "export_path": str(export),
        "np": 2,
        "process": SIX_FILTERS,
        **extra,
    }
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--objective", default="model_loss")
    parser.add_argument("--max-sample-num", type=int, default=20000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-mixture-"))
    try:
        sources = split_sources(work)
        goal = "minimize" if args.objective == "model_loss" else "maximize"
        sweep = {
            "method": "random",
            "run_cap": args.trials,
            "metric": {"name": args.objective, "goal": goal},
            "parameters": PARAMETERS,
        }
        sweep_path = work / "sweep.yaml"
        sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
        exports = {name: work / name / "out.jsonl" for name in ("plain", "sweep")}
        auto_hpo = {
            "mode": "wandb",
            "backend": "local",
            "hpo_config": str(sweep_path),
            "reference": str(SHARED / "reference-clean.jsonl.gz"),
            "output_dir": str(work / "sweep" / "hpo"),
        }
        variants = {
            "plain": write_mixture_recipe(work / "plain.yaml", sources, exports["plain"], args.max_sample_num),
            "sweep": write_mixture_recipe(
                work / "sweep-recipe.yaml", sources, exports["sweep"], args.max_sample_num, auto_hpo=auto_hpo
            ),
        }
        variants = {name: [str(BIN / "dj-process"), "--config", str(path)] for name, path in variants.items()}

        def clean(name):  # a fresh sweep each time (no resume), and no stale export
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        sizes = [sum(1 for _ in open(p)) for p in sources]
        print(
            f"sources {dict(zip(SOURCES, sizes))}, max_sample_num {args.max_sample_num}; {args.trials}-trial random "
            f"sweep over 3 weights + 3 thresholds, objective {args.objective}; {args.repeats} interleaved runs"
        )
        samples = interleave(variants, args.repeats, work, prepare=clean)
        result = summarize(samples)
        result["ratio_sweep_to_plain"] = result["sweep"]["median_s"] / result["plain"]["median_s"]
        result.update(trials=args.trials, objective=args.objective, sizes=sizes, max_sample_num=args.max_sample_num)
        best = (work / "sweep" / "hpo" / "best_recipe.yaml").read_text()
        result["last_best_dataset"] = yaml.safe_load(best)["dataset"]
        for name in variants:
            print(f"{name:>8} median {result[name]['median_s']:.2f} s, peak {result[name]['peak_mib']:.0f} MiB")
        print(f"ratio sweep/plain: {result['ratio_sweep_to_plain']:.2f} (target <= 2.0)")
        print(f"saved {save(f'mixture-{args.objective}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
