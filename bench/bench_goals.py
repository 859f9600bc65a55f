"""P6: what constraints and a second objective cost. A 30-trial constrained sweep and a 30-trial 2-objective
sweep against the single-objective sweep over the same space (bench_sweep.py's thresholds), on the bench corpus.

    python bench/bench_goals.py [--repeats 3] [--trials 30] [--sweep-only]

Interleaved runs, medians; every variant processes and exports its chosen recipe at the end (``--sweep-only``: none
does, so the figure is the sweep's own cost: the variants choose recipes that keep 8 % or 60 % of the data, and
exporting those differs). Variants:
``single`` (metric quality_score), ``constrained`` (the same, ``retention >= 0.5``: every trial also scores
retention), ``pareto`` (``objectives: {quality_score: maximize, retention: maximize}``: a multi-objective study,
pareto.csv, one recipe per Pareto trial, pareto.png). Target: each <= 1.1x ``single``.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, corpus, interleave, save, summarize, write_recipe  # noqa: E402
from bench_sweep import THRESHOLDS  # noqa: E402

VARIANTS = {
    "single": {},
    "constrained": {"constraints": ["retention >= 0.5"]},
    "pareto": {"objectives": {"quality_score": "maximize", "retention": "maximize"}},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument(
        "--sweep-only",
        action="store_true",
        help="process_best: false (the trials and their outputs alone: the chosen recipes keep different amounts of "
        "data, and processing them costs accordingly)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-goals-"))
    try:
        data = corpus(work)
        exports, variants = {}, {}
        sweep = {
            "method": "random",
            "run_cap": args.trials,
            "metric": {"name": "quality_score", "goal": "maximize"},
            "parameters": THRESHOLDS,
        }
        sweep_path = work / "sweep.yaml"
        sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
        for name, extra in VARIANTS.items():
            exports[name] = work / name / "out.jsonl"
            section = {
                "mode": "wandb",
                "backend": "local",
                "hpo_config": str(sweep_path),
                "reference": str(SHARED / "reference-clean.jsonl.gz"),
                "output_dir": str(work / name / "hpo"),
                **({"process_best": False} if args.sweep_only else {}),
                **extra,
            }
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], auto_hpo=section)
            variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):  # a fresh sweep each time (no resume), and no stale export
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        what = " (process_best: false)" if args.sweep_only else ""
        print(f"bench corpus: {sum(1 for _ in open(data))} documents; {args.trials}-trial random sweeps{what}")
        samples = interleave(variants, args.repeats, work, prepare=clean)
        result = summarize(samples)
        for name in ("constrained", "pareto"):
            result[f"ratio_{name}_to_single"] = result[name]["median_s"] / result["single"]["median_s"]
        result["trials"] = args.trials
        result["process_best"] = not args.sweep_only
        for name in variants:
            print(f"{name:>12} median {result[name]['median_s']:.2f} s, peak {result[name]['peak_mib']:.0f} MiB")
        print(
            f"ratio constrained/single: {result['ratio_constrained_to_single']:.3f}, "
            f"pareto/single: {result['ratio_pareto_to_single']:.3f} (target <= 1.1)"
        )
        print(f"saved {save('goals-sweep-only' if args.sweep_only else 'goals', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
