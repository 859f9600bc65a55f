"""3sigma overhead: dj-process with ``auto_hpo: {mode: 3sigma}`` against plain dj-process, same six-filter recipe.

    python bench/bench_3sigma.py [--repeats 3] [--scale 1] [--docs N] [--base-code DIR]

Runs are interleaved (plain, 3sigma, plain, ...) on the bench corpus (``../shared/data``); the figure is the ratio
of the median wall times (target: 3sigma / plain <= 0.60), and the median peak memory (RSS summed over the process
tree) of each. ``--scale 4`` runs on the corpus concatenated four times; ``--compare-scale 4`` also reports 3sigma
at 4x against 1x; ``--docs N`` takes only the first N documents (a smoke run). ``--base-code DIR`` adds a 3sigma run
with the ``data_juicer_hpo`` package in ``DIR`` (e.g. ``git archive main data_juicer_hpo | tar -x -C DIR``) to each
round, as ``base-3sigma``: its time and memory beside this code's, and whether both wrote the same refined recipe and
kept the same documents.
"""

import argparse
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, corpus, interleave, save, summarize, write_recipe  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--compare-scale", type=int, default=None, help="also run 3sigma on N x the corpus")
    parser.add_argument("--docs", type=int, default=None, help="only the first N documents of the corpus")
    parser.add_argument("--base-code", default=None, help="also run 3sigma with the data_juicer_hpo package in DIR")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-"))
    try:
        variants, exports = {}, {}
        data = corpus(work, args.scale, limit=args.docs)
        three_sigma = {"mode": "3sigma", "path_3sigma_recipe": "refined.yaml"}
        plans = [("plain", {}, None), ("3sigma", {"auto_hpo": three_sigma}, None)]
        if args.base_code:
            base_env = {"PYTHONPATH": str(Path(args.base_code).resolve())}
            plans.append(("base-3sigma", {"auto_hpo": three_sigma}, base_env))
        for name, extra, env in plans:
            exports[name] = work / name / "out.jsonl"
            if extra:  # the refined recipe beside the export (a path relative to the run's directory, the temp dir)
                extra = {"auto_hpo": dict(extra["auto_hpo"], path_3sigma_recipe=str(work / name / "refined.yaml"))}
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], **extra)
            command = [str(BIN / "dj-process"), "--config", str(recipe)]
            variants[name] = (command, env) if env else command
        if args.compare_scale:
            big = corpus(work, args.compare_scale)
            exports["3sigma-x%d" % args.compare_scale] = work / "big" / "out.jsonl"
            recipe = write_recipe(
                work / "big.yaml", big, exports["3sigma-x%d" % args.compare_scale], auto_hpo={"mode": "3sigma"}
            )
            variants["3sigma-x%d" % args.compare_scale] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):
            shutil.rmtree(exports[name].parent, ignore_errors=True)
            exports[name].parent.mkdir(parents=True)

        print(f"bench corpus x{args.scale}: {sum(1 for _ in open(data))} documents, {args.repeats} interleaved runs")
        samples = interleave(variants, args.repeats, work, prepare=clean)
        if args.base_code:
            same = {
                what: _digest(exports["3sigma"].parent / what) == _digest(exports["base-3sigma"].parent / what)
                for what in ("out.jsonl",)
            }
            # the refined recipes name their own export paths: compare what they tune
            same["refined.yaml"] = _process(exports["3sigma"].parent / "refined.yaml") == _process(
                exports["base-3sigma"].parent / "refined.yaml"
            )
        result = summarize(samples)
        result["ratio_3sigma_to_plain"] = result["3sigma"]["median_s"] / result["plain"]["median_s"]
        result["memory_ratio_3sigma_to_plain"] = result["3sigma"]["peak_mib"] / result["plain"]["peak_mib"]
        if args.compare_scale:
            key = "3sigma-x%d" % args.compare_scale
            result["scale_time_ratio"] = result[key]["median_s"] / result["3sigma"]["median_s"]
            result["scale_memory_ratio"] = result[key]["peak_mib"] / result["3sigma"]["peak_mib"]
        print(f"plain  median {result['plain']['median_s']:.2f} s, peak {result['plain']['peak_mib']:.0f} MiB")
        print(f"3sigma median {result['3sigma']['median_s']:.2f} s, peak {result['3sigma']['peak_mib']:.0f} MiB")
        print(
            f"ratio 3sigma/plain: time {result['ratio_3sigma_to_plain']:.3f} (target <= 0.60), "
            f"memory {result['memory_ratio_3sigma_to_plain']:.3f}"
        )
        if args.base_code:
            base = result["base-3sigma"]
            result["same_as_base"] = same
            print(
                f"base code 3sigma median {base['median_s']:.2f} s, peak {base['peak_mib']:.0f} MiB; this / base: "
                f"time {result['3sigma']['median_s'] / base['median_s']:.3f}, "
                f"memory {result['3sigma']['peak_mib'] / base['peak_mib']:.3f}; refined recipe "
                f"{'identical' if same['refined.yaml'] else 'DIFFERS'}, kept documents "
                f"{'identical' if same['out.jsonl'] else 'DIFFER'}"
            )
        if args.compare_scale:
            print(
                f"3sigma x{args.compare_scale} vs x1: time {result['scale_time_ratio']:.2f}, "
                f"memory {result['scale_memory_ratio']:.2f}"
            )
        print(f"saved {save(f'3sigma-x{args.scale}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _process(path: Path) -> list:
    """The op list of a refined recipe (its paths differ from run to run)."""
    return yaml.safe_load(path.read_text())["process"]


def _digest(path: Path) -> str:
    """sha256 of a file's sorted lines (the export's order may follow the worker processes')."""
    return hashlib.sha256(b"".join(sorted(path.read_bytes().splitlines(keepends=True)))).hexdigest()


if __name__ == "__main__":
    main()
