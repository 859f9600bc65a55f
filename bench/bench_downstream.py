"""P7: a 30-trial ``downstream_task`` sweep on 10,000 bench documents labelled by ``meta.source`` (eval: 2,000 others).

    python bench/bench_downstream.py [--repeats 1] [--trials 30] [--docs 10000] [--eval-docs 2000]

The first ``--docs`` documents of the bench corpus (``../shared/data``, or ``$DJ_HPO_SHARED_DATA``) are the data,
the next ``--eval-docs`` the labelled eval file. Variants, interleaved, medians: ``plain`` (the six-filter recipe
once), ``sweep-retention`` (the same sweep scored by ``retention``: the cost of the sweep machinery alone) and
``sweep-downstream`` (scored by ``downstream_task``: every trial trains and evaluates a 16-label classifier).
Reports wall time (target: the downstream sweep <= 2 minutes on 2 cores) and the peak memory of the process tree.
"""

import argparse
import gzip
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, interleave, save, summarize, write_recipe  # noqa: E402
from bench_sweep import THRESHOLDS  # noqa: E402


def split_corpus(work: Path, docs: int, eval_docs: int):
    """(data, eval) JSON Lines files: the first ``docs`` documents and the ``eval_docs`` after them."""
    data, evaluation = work / f"data-{docs}.jsonl", work / f"eval-{eval_docs}.jsonl"
    with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f, open(data, "w") as d, open(
        evaluation, "w"
    ) as e:
        for i, line in enumerate(f):
            if i >= docs + eval_docs:
                break
            (d if i < docs else e).write(line)
    return data, evaluation


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--eval-docs", type=int, default=2000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-downstream-"))
    try:
        data, evaluation = split_corpus(work, args.docs, args.eval_docs)
        exports, variants = {}, {}
        for name, objective in (
            ("plain", None),
            ("sweep-retention", "retention"),
            ("sweep-downstream", "downstream_task"),
        ):
            exports[name] = work / name / "out.jsonl"
            extra = {}
            if objective:
                sweep = {
                    "method": "random",
                    "run_cap": args.trials,
                    "metric": {"name": objective, "goal": "maximize"},
                    "parameters": THRESHOLDS,
                }
                sweep_path = work / f"{name}-sweep.yaml"
                sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
                extra["auto_hpo"] = {
                    "mode": "wandb",
                    "backend": "local",
                    "hpo_config": str(sweep_path),
                    "output_dir": str(work / name / "hpo"),
                    "downstream": {"label_key": "meta.source", "eval": str(evaluation), "metric": "accuracy"},
                }
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], **extra)
            variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):  # a fresh sweep each time (no resume), and no stale export
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        print(f"{args.docs} documents (eval: {args.eval_docs}); {args.trials}-trial random sweeps; {args.repeats} runs")
        samples = interleave(variants, args.repeats, work, prepare=clean)
        result = summarize(samples)
        trials = (work / "sweep-downstream" / "hpo" / "trials.csv").read_text().splitlines()
        result["downstream_trials_csv_head"] = trials[:4]
        for name in ("sweep-retention", "sweep-downstream"):
            result[f"ratio_{name}_to_plain"] = result[name]["median_s"] / result["plain"]["median_s"]
        result["per_trial_downstream_minus_retention_s"] = (
            result["sweep-downstream"]["median_s"] - result["sweep-retention"]["median_s"]
        ) / args.trials
        result.update(trials=args.trials, docs=args.docs, eval_docs=args.eval_docs)
        for name in variants:
            print(f"{name:>18} median {result[name]['median_s']:.2f} s, peak {result[name]['peak_mib']:.0f} MiB")
        print(
            f"downstream sweep: {result['sweep-downstream']['median_s']:.1f} s (target <= 120 s); "
            f"{result['per_trial_downstream_minus_retention_s']:.2f} s per trial more than retention"
        )
        print(f"saved {save('downstream', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
