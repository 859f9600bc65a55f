"""Sweep cost: a 30-trial random sweep over the six-filter recipe's thresholds, divided by one plain dj-process run.

    python bench/bench_sweep.py [--repeats 3] [--trials 30] [--objective quality_score]

Interleaved runs on the bench corpus (``../shared/data``), medians. Variants: ``plain`` (the base recipe once),
``sweep`` (thresholds only: statistics computed once), ``sweep-rep_len`` (the same plus ``rep_len`` among 3 values,
so three statistic populations). Every sweep runs locally with its trials recorded as W&B offline runs, then
processes and exports the best recipe.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, corpus, interleave, save, summarize, write_recipe  # noqa: E402

THRESHOLDS = {
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 200},
    "text_length_filter.max_len": {"distribution": "int_uniform", "min": 5000, "max": 100000},
    "average_line_length_filter.max_len": {"distribution": "int_uniform", "min": 500, "max": 10000},
    "maximum_line_length_filter.max_len": {"distribution": "int_uniform", "min": 1000, "max": 100000},
    "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
    "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
    "special_characters_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.5},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--objective", default="quality_score")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-sweep-"))
    try:
        data = corpus(work)
        exports, variants = {}, {}
        goal = "minimize" if args.objective == "model_loss" else "maximize"
        for name, extra in (
            ("plain", None),
            ("sweep", {}),
            ("sweep-rep_len", {"character_repetition_filter.rep_len": {"values": [5, 10, 15]}}),
        ):
            exports[name] = work / name / "out.jsonl"
            recipe_extra = {}
            if extra is not None:
                sweep = {
                    "method": "random",
                    "run_cap": args.trials,
                    "metric": {"name": args.objective, "goal": goal},
                    "parameters": {**THRESHOLDS, **extra},
                }
                sweep_path = work / f"{name}-sweep.yaml"
                sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
                recipe_extra["auto_hpo"] = {
                    "mode": "wandb",
                    "backend": "local",
                    "hpo_config": str(sweep_path),
                    "reference": str(SHARED / "reference-clean.jsonl.gz"),
                    "output_dir": str(work / name / "hpo"),
                }
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], **recipe_extra)
            variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):  # a fresh sweep each time (no resume), and no stale export
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        print(
            f"bench corpus: {sum(1 for _ in open(data))} documents; {args.trials}-trial random sweeps, "
            f"objective {args.objective}; {args.repeats} interleaved runs"
        )
        samples = interleave(variants, args.repeats, work, prepare=clean)
        result = summarize(samples)
        for name in ("sweep", "sweep-rep_len"):
            result[f"ratio_{name}_to_plain"] = result[name]["median_s"] / result["plain"]["median_s"]
        result["trials"], result["objective"] = args.trials, args.objective
        for name in variants:
            print(f"{name:>14} median {result[name]['median_s']:.2f} s, peak {result[name]['peak_mib']:.0f} MiB")
        print(
            f"ratio sweep/plain: {result['ratio_sweep_to_plain']:.2f} (target <= 2.0); "
            f"with rep_len among 3 values: {result['ratio_sweep-rep_len_to_plain']:.2f}"
        )
        print(f"saved {save(f'sweep-{args.objective}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
