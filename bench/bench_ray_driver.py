"""The Ray driver's memory as the data grow: 3sigma (or, ``--mode sweep``, a 20-trial ``quality_score`` sweep over
the three filters' thresholds, its best recipe processed) on ``executor_type: ray`` at several sizes, peak RSS of
the driver process (dj-process) alone, and how much it grows per added document.

    python bench/bench_ray_driver.py [--mode 3sigma|sweep] [--docs 250000,1000000] [--workers 2] [--base-code DIR]

The documents are the bench corpus's (``../shared/data``) cut to their first 200 characters and repeated to the size
asked (so the text is not what grows the driver: Ray holds it in its object stores); the recipe has three cheap
filters. Each run starts a private Ray cluster on loopback in its own network and PID namespaces (the tests'
``tests/helpers/ray_netns.sh``: a head and ``--workers`` worker nodes). ``--base-code DIR`` runs the same with the
``data_juicer_hpo`` package in DIR too (e.g. ``git archive <commit> data_juicer_hpo | tar -x -C DIR``). The figure:
(peak at the largest size - peak at the smallest) / (documents added), in bytes per document (target: <= 32).
The driver's peak is read by a wrapper process (``RUSAGE_CHILDREN``: dj-process is its only child; the cluster's
processes are not its descendants).
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, ROOT, SHARED, save  # noqa: E402

NETNS = ROOT / "tests" / "helpers" / "ray_netns.sh"
PROCESS = [
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"average_line_length_filter": {"min_len": 5, "max_len": 10000}},
    {"maximum_line_length_filter": {"min_len": 5, "max_len": 100000}},
]
# prints the peak RSS (KiB) of the one child it runs, after it ends
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('driver-maxrss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _data(work: Path, n: int, files: int = 8) -> Path:
    """``n`` documents (the bench corpus's first 200 characters each, cycled) in ``files`` JSON Lines files."""
    directory = work / f"docs-{n}"
    if directory.exists():
        return directory
    directory.mkdir()
    with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"][:200] for line in f]
    texts = [t for t in texts if t.strip()]
    outs = [open(directory / f"part-{k}.jsonl", "w", encoding="utf-8") for k in range(files)]
    try:
        for i in range(n):
            outs[i % files].write(json.dumps({"text": f"{i} {texts[i % len(texts)]}"}, ensure_ascii=False) + "\n")
    finally:
        for out in outs:
            out.close()
    return directory


SWEEP = {
    "method": "random",
    "metric": {"name": "quality_score", "goal": "maximize"},
    "run_cap": 20,
    "parameters": {
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 150},
        "text_length_filter.max_len": {"distribution": "int_uniform", "min": 150, "max": 400},
        "average_line_length_filter.max_len": {"distribution": "int_uniform", "min": 50, "max": 400},
        "maximum_line_length_filter.max_len": {"distribution": "int_uniform", "min": 50, "max": 400},
    },
}


def _auto_hpo(mode: str, run_dir: Path) -> dict:
    if mode == "3sigma":
        return {"mode": "3sigma", "path_3sigma_recipe": str(run_dir / "refined.yaml")}
    (run_dir / "sweep.yaml").write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    return {"mode": "wandb", "backend": "local", "hpo_config": str(run_dir / "sweep.yaml"), "seed": 3,
            "output_dir": str(run_dir / "hpo"), "reference": str(SHARED / "reference-clean.jsonl.gz")}  # fmt: skip


def _run(work: Path, name: str, data: Path, workers: int, env_extra=None, mode: str = "3sigma") -> dict:
    run_dir = work / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    recipe = run_dir / "recipe.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "project_name": name,
                "executor_type": "ray",
                "ray_address": "auto",
                "dataset_path": str(data),
                "export_path": str(run_dir / "out.jsonl"),
                "np": 2,
                "process": PROCESS,
                "auto_hpo": _auto_hpo(mode, run_dir),
            },
            sort_keys=False,
        )
    )
    command = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "bash", str(NETNS)]
    command += [str(BIN / "python"), "-c", WRAPPER, str(BIN / "dj-process"), "--config", str(recipe)]
    env = {**os.environ, "DJ_HPO_RAY_WORKERS": str(workers), "DJ_HPO_BLOCK_RUNTIME_INSTALLS": "1", **(env_extra or {})}
    start = time.monotonic()
    res = subprocess.run(command, cwd=run_dir, env=env, capture_output=True, text=True, errors="replace")
    wall = time.monotonic() - start
    if res.returncode != 0:
        raise SystemExit(f"{name}: exit {res.returncode}\n{res.stderr[-3000:]}")
    kib = next(int(line.split()[1]) for line in res.stderr.splitlines() if line.startswith("driver-maxrss-kib"))
    chosen = run_dir / ("refined.yaml" if mode == "3sigma" else "hpo/best_recipe.yaml")
    refined = yaml.safe_load(chosen.read_text())["process"]
    out = {"driver_peak_mib": kib / 1024, "wall_s": wall, "refined": refined}
    if mode == "sweep":
        out["on_blocks"] = "trials as per-block partial aggregates" in res.stderr
        out["trials_csv"] = (run_dir / "hpo" / "trials.csv").read_text()
    shutil.rmtree(run_dir / "out.jsonl", ignore_errors=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("3sigma", "sweep"), default="3sigma")
    parser.add_argument("--docs", default="250000,1000000")
    parser.add_argument("--workers", type=int, default=2, help="worker nodes beside the head")
    parser.add_argument("--base-code", default=None)
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.docs.split(",")]
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-ray-driver-"))
    codes = [("this", None)] + (
        [("base", {"PYTHONPATH": str(Path(args.base_code).resolve())})] if args.base_code else []
    )
    results = {}
    try:
        for n in sizes:
            data = _data(work, n)
            for code, env in codes:
                out = _run(work, f"{code}-{n}", data, args.workers, env, args.mode)
                results.setdefault(code, {})[n] = out
                blocks = {True: " (trials on blocks)", False: " (trials on the driver)"}.get(out.get("on_blocks"), "")
                print(
                    f"{code} code, {n:,} documents: driver peak {out['driver_peak_mib']:.0f} MiB, {out['wall_s']:.0f} s"
                    f"{blocks}",
                    flush=True,
                )
        summary = {}
        for code in results:
            low, high = min(sizes), max(sizes)
            grow = (results[code][high]["driver_peak_mib"] - results[code][low]["driver_peak_mib"]) * 2**20
            summary[code] = grow / (high - low)
            print(
                f"{code} code: the driver grows by {summary[code]:.1f} bytes per added document ({low:,} -> {high:,})"
            )
        if "base" in results:
            same = all(results["this"][n]["refined"] == results["base"][n]["refined"] for n in sizes)
            print(f"refined recipes identical to the base code's: {same}")
        if "base" in results and args.mode == "sweep":
            same = all(results["this"][n]["trials_csv"] == results["base"][n]["trials_csv"] for n in sizes)
            print(f"trials.csv identical to the base code's: {same}")
        save(
            "ray-driver" if args.mode == "3sigma" else "ray-driver-sweep",
            {"sizes": sizes, "workers": args.workers, "runs": results, "bytes_per_doc": summary},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
