"""Sweep cost: 30-trial random sweeps over the six-filter recipe's thresholds, against one plain dj-process run.

    python bench/bench_sweep.py [--repeats 3] [--trials 30] [--objective quality_score[,retention,model_loss]]
                                [--scale 1[,4]] [--no-rep-len]

Interleaved runs on the bench corpus (``../shared/data``, decompressed -- and concatenated ``N`` times for each
``--scale N`` -- into a temp dir), medians of wall time and of peak RSS summed over the process tree. Variants per
scale: ``plain`` (the base recipe once), ``sweep-<objective>`` (thresholds only: statistics computed once) for each
objective, and ``rep_len-<objective>`` (the first objective, plus ``rep_len`` among 3 values, so three statistic
populations). Every sweep runs locally with its trials recorded as W&B offline runs, then processes and exports the
best recipe. Ratios: each sweep to the plain run of its scale (target: the ``quality_score`` sweep <= 1.0x the plain
run), and every variant at the largest scale to itself at the smallest. ``--base-code DIR`` also runs every sweep
with the package in ``DIR``: whether ``trials.csv`` is identical, and when not (a changed classifier), whether the
parameters are, how far apart the metric values are and whether the trials rank the same.
"""

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, corpus, interleave, save, summarize, sweep_recipe, write_recipe  # noqa: E402

THRESHOLDS = {
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 200},
    "text_length_filter.max_len": {"distribution": "int_uniform", "min": 5000, "max": 100000},
    "average_line_length_filter.max_len": {"distribution": "int_uniform", "min": 500, "max": 10000},
    "maximum_line_length_filter.max_len": {"distribution": "int_uniform", "min": 1000, "max": 100000},
    "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
    "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
    "special_characters_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.5},
}
REP_LEN = {"character_repetition_filter.rep_len": {"values": [5, 10, 15]}}


def _csv_list(kind):
    return lambda text: [kind(part) for part in text.split(",") if part]


def _sweep_recipe(work: Path, name: str, data: Path, export: Path, objective: str, trials: int, extra: dict) -> Path:
    sweep = {
        "method": "random",
        "run_cap": trials,
        "metric": {"name": objective, "goal": "minimize" if objective == "model_loss" else "maximize"},
        "parameters": {**THRESHOLDS, **extra},
    }
    return sweep_recipe(work, name, data, export, sweep, reference=str(SHARED / "reference-clean.jsonl.gz"))


def _trial_values(path: Path) -> list:
    """Every trial's parameters and metric (not its timings) from a ``trials.csv``."""
    if not path.exists():
        return []
    with open(path) as f:
        rows = list(csv.DictReader(f))
    skip = {"duration_s", "datetime_start", "datetime_complete", "worker", "run_id"}
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def _how_far_apart(base: list, this: list) -> dict:
    """How two sweeps' trials differ: the same parameters? the largest relative difference of a metric value (a
    numeric column that is no parameter), and whether the trials rank the same by the first metric."""
    metrics = [k for k in base[0] if "." not in k and k not in ("number", "state", "error")]
    numbers, same_parameters = [], True
    for a, b in zip(base, this):
        same_parameters &= all(a[k] == b.get(k) for k in a if "." in k)
        for key in metrics:
            try:
                x, y = float(a[key]), float(b[key])
            except (TypeError, ValueError):
                continue
            numbers.append(abs(x - y) / max(abs(x), abs(y), 1e-300))

    def ranking(rows):
        return sorted(range(len(rows)), key=lambda i: (float(rows[i][metrics[0]] or "nan"), i)) if metrics else []

    return {
        "same_parameters": same_parameters,
        "max_relative_difference": max(numbers, default=0.0),
        "same_ranking": ranking(base) == ranking(this),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--objective", type=_csv_list(str), default=["quality_score"], help="comma-separated")
    parser.add_argument("--scale", type=_csv_list(int), default=[1], help="comma-separated corpus multiples")
    parser.add_argument("--no-rep-len", action="store_true", help="skip the sweep that also moves rep_len")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (trials.csv of the last runs)")
    parser.add_argument(
        "--base-code",
        default=None,
        help="also run each sweep with the data_juicer_hpo package in this directory "
        "(e.g. `git archive main data_juicer_hpo | tar -x -C DIR`), as `base:` variants: before/after in one run",
    )
    parser.add_argument("--docs", type=int, default=None, help="only the first N documents of the corpus")
    parser.add_argument("--only", type=_csv_list(str), default=None, help="run only these variant prefixes")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-sweep-"))
    try:
        exports, variants, docs = {}, {}, {}
        for scale in args.scale:
            data = corpus(work, scale, limit=args.docs)
            docs[scale] = sum(1 for _ in open(data))
            plans = [("plain", None, None)] + [(f"sweep-{o}", o, {}) for o in args.objective]
            if not args.no_rep_len:
                plans.append((f"rep_len-{args.objective[0]}", args.objective[0], REP_LEN))
            for base, objective, extra in plans:
                name = f"{base}@{scale}x"
                exports[name] = work / name / "out.jsonl"
                if objective is None:
                    recipe = write_recipe(work / f"{name}.yaml", data, exports[name])
                else:
                    recipe = _sweep_recipe(work, name, data, exports[name], objective, args.trials, extra)
                variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]
                if args.base_code and objective is not None:
                    base_name = f"base:{name}"
                    exports[base_name] = work / base_name.replace(":", "-") / "out.jsonl"
                    base_recipe = _sweep_recipe(
                        work, base_name.replace(":", "-"), data, exports[base_name], objective, args.trials, extra
                    )
                    command = [str(BIN / "dj-process"), "--config", str(base_recipe)]
                    variants[base_name] = (command, {"PYTHONPATH": str(Path(args.base_code).resolve())})
        if args.only:
            variants = {n: c for n, c in variants.items() if any(n.startswith(p) for p in args.only)}

        def clean(name):  # a fresh sweep each time (no resume), and no stale export
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        print(
            f"bench corpus: {', '.join(f'{n} documents ({s}x)' for s, n in docs.items())}; {args.trials}-trial "
            f"random sweeps, objectives {', '.join(args.objective)}; {args.repeats} interleaved runs"
        )
        samples = interleave(variants, args.repeats, work, prepare=clean)
        result = summarize(samples)
        result.update(trials=args.trials, objectives=args.objective, scales=args.scale, documents=docs)
        ratios = {}
        for name in variants:
            base, scale = name.rsplit("@", 1)
            plain = result.get(f"plain@{scale}")
            if base != "plain" and plain:
                ratios[f"{name} / plain"] = (
                    result[name]["median_s"] / plain["median_s"],
                    result[name]["peak_mib"] / plain["peak_mib"],
                    result[name]["cpu_s"] / plain["cpu_s"],
                )
            small, large = f"{base}@{min(args.scale)}x", f"{base}@{max(args.scale)}x"
            if len(args.scale) > 1 and name == large and small in result:
                ratios[f"{large} / {small}"] = (
                    result[large]["median_s"] / result[small]["median_s"],
                    result[large]["peak_mib"] / result[small]["peak_mib"],
                    result[large]["cpu_s"] / result[small]["cpu_s"],
                )
        result["ratios"] = {k: {"time": t, "peak": p, "cpu": c} for k, (t, p, c) in ratios.items()}
        for name in variants:
            r = result[name]
            print(f"{name:>26} median {r['median_s']:7.2f} s, peak {r['peak_mib']:6.0f} MiB, cpu {r['cpu_s']:7.1f} s")
        for key, (t, p, c) in ratios.items():
            target = " (target <= 1.0)" if key.startswith("sweep-quality_score@") and key.endswith("/ plain") else ""
            print(f"{key:>42}: time {t:.2f}x{target}, peak memory {p:.2f}x, cpu time {c:.2f}x")
        for name in [n for n in variants if n.startswith("base:") and n[5:] in variants]:
            pair = [_trial_values(exports[n].parent / "hpo" / "trials.csv") for n in (name, name[5:])]
            same = pair[0] == pair[1] and bool(pair[0])
            result.setdefault("identical_trials", {})[name[5:]] = same
            print(f"{name[5:]}: trials.csv values {'identical to' if same else 'DIFFER from'} the base code's")
            if not same and pair[0] and len(pair[0]) == len(pair[1]):
                apart = _how_far_apart(*pair)
                result.setdefault("trials_apart", {})[name[5:]] = apart
                print(
                    f"  parameters {'identical' if apart['same_parameters'] else 'DIFFER'}; metric values at most "
                    f"{apart['max_relative_difference']:.3g} apart (relative); trials ranked "
                    f"{'the same' if apart['same_ranking'] else 'DIFFERENTLY'} by their metric"
                )
        if args.keep:
            for name in variants:
                found = exports[name].parent / "hpo" / "trials.csv"
                if found.exists():
                    with open(found) as f:
                        print(f"{name}: {sum(1 for _ in csv.DictReader(f))} trials in {found}")
        tag = "-".join(args.objective) + "-x" + "-".join(map(str, args.scale))
        print(f"saved {save(f'sweep-{tag}', result)}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
