"""3sigma overhead: dj-process with ``auto_hpo: {mode: 3sigma}`` against plain dj-process, same six-filter recipe.

    python bench/bench_3sigma.py [--repeats 3] [--scale 1]

Runs are interleaved (plain, 3sigma, plain, ...) on the bench corpus (``../shared/data``); the figure is the ratio
of the median wall times, and the median peak memory (RSS summed over the process tree) of each. ``--scale 4`` runs on
the corpus concatenated four times; ``--compare-scale 4`` also reports 3sigma at 4x against 1x.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, corpus, interleave, save, summarize, write_recipe  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--compare-scale", type=int, default=None, help="also run 3sigma on N x the corpus")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-"))
    try:
        variants, exports = {}, {}
        data = corpus(work, args.scale)
        for name, extra in (("plain", {}), ("3sigma", {"auto_hpo": {"mode": "3sigma"}})):
            exports[name] = work / name / "out.jsonl"
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], **extra)
            variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]
        if args.compare_scale:
            big = corpus(work, args.compare_scale)
            exports["3sigma-x%d" % args.compare_scale] = work / "big" / "out.jsonl"
            recipe = write_recipe(
                work / "big.yaml", big, exports["3sigma-x%d" % args.compare_scale], auto_hpo={"mode": "3sigma"}
            )
            variants["3sigma-x%d" % args.compare_scale] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        print(f"bench corpus x{args.scale}: {sum(1 for _ in open(data))} documents, {args.repeats} interleaved runs")
        samples = interleave(variants, args.repeats, work, prepare=clean)
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
            f"ratio 3sigma/plain: time {result['ratio_3sigma_to_plain']:.3f} (target <= 0.85), "
            f"memory {result['memory_ratio_3sigma_to_plain']:.3f}"
        )
        if args.compare_scale:
            print(
                f"3sigma x{args.compare_scale} vs x1: time {result['scale_time_ratio']:.2f}, "
                f"memory {result['scale_memory_ratio']:.2f}"
            )
        print(f"saved {save(f'3sigma-x{args.scale}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
