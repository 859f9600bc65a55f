"""Helpers of the benchmark scripts: the bench corpus, six-filter recipes, timed runs with peak memory."""

import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
# ``../shared/data`` beside the checkout; DJ_HPO_SHARED_DATA points elsewhere (e.g. from a git worktree)
SHARED = Path(os.environ.get("DJ_HPO_SHARED_DATA") or ROOT.parent / "shared" / "data")
BIN = Path(sys.executable).parent

SIX_FILTERS = [
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"average_line_length_filter": {"min_len": 5, "max_len": 10000}},
    {"maximum_line_length_filter": {"min_len": 5, "max_len": 100000}},
    {"alphanumeric_filter": {"min_ratio": 0.25, "max_ratio": 1.0}},
    {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
    {"special_characters_filter": {"min_ratio": 0.0, "max_ratio": 0.25}},
]


def corpus(workdir: Path, scale: int = 1, limit=None) -> Path:
    """The bench corpus, decompressed (and concatenated ``scale`` times) into ``workdir``."""
    path = workdir / f"bench-x{scale}{'' if limit is None else f'-{limit}'}.jsonl"
    if path.exists():
        return path
    with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        lines = [line for i, line in enumerate(f) if limit is None or i < limit]
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(scale):
            out.writelines(lines)
    return path


def write_recipe(path: Path, data: Path, export: Path, process=SIX_FILTERS, np_=2, **extra) -> Path:
    body = {"project_name": "bench", "dataset_path": str(data), "export_path": str(export), "np": np_}
    body["process"] = process
    body.update(extra)
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def sweep_recipe(work: Path, name: str, data: Path, export: Path, sweep: dict, **auto_hpo) -> Path:
    """A local sweep's recipe on ``data``: the sweep file ``<name>-sweep.yaml`` and ``<name>.yaml``, its outputs in
    ``hpo/`` beside ``export`` (``auto_hpo``: more keys of the section)."""
    sweep_path = work / f"{name}-sweep.yaml"
    sweep_path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    section = {"mode": "wandb", "backend": "local", "hpo_config": str(sweep_path)}
    section.update(output_dir=str(export.parent / "hpo"), **auto_hpo)
    return write_recipe(work / f"{name}.yaml", data, export, auto_hpo=section)


POLL_S = 0.02  # Data-Juicer's worker pools live for one op's map each: a coarser poll misses their peaks


def tree_rss(parent) -> int:
    """RSS summed over ``parent`` and its descendants now; a process that ends while it is read counts 0 (dropping
    the whole sample instead would miss exactly the moments worker pools start and stop)."""
    try:
        tree = [parent] + parent.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for process in tree:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def timed(cmd, cwd, env=None):
    """Run ``cmd``; return (wall seconds, peak RSS of the whole process tree in MiB, exit code, CPU seconds of the
    tree). CPU seconds (user + system of the command and every descendant it waited for) hardly depend on what
    else the machine runs, unlike wall time."""
    full_env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    log = open(Path(cwd) / "last-run.log", "w")  # a file, not a pipe: a full pipe would stall the run
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT, text=True)
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(parent))
        time.sleep(POLL_S)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    log.close()
    if proc.returncode != 0:
        sys.stderr.write((Path(cwd) / "last-run.log").read_text()[-3000:])
    return wall, peak / 2**20, proc.returncode, cpu


# Plain Data-Juicer (no auto_hpo mode) would otherwise install a CUDA torch after some ops (see hooks/__init__.py).
BENCH_ENV = {"DJ_HPO_BLOCK_RUNTIME_INSTALLS": "1"}


def interleave(variants: dict, repeats: int, cwd: Path, prepare=None):
    """Run each variant's command ``repeats`` times, interleaved (A B A B ...); return per-variant samples."""
    samples = {name: [] for name in variants}
    for r in range(repeats):
        for name, cmd in variants.items():
            if prepare:
                prepare(name)
            env = dict(BENCH_ENV)
            if isinstance(cmd, tuple):  # (command, extra environment)
                cmd, extra = cmd
                env.update(extra)
            wall, peak, code, cpu = timed(cmd, cwd, env=env)
            if code != 0:
                raise SystemExit(f"{name}: exit code {code}")
            samples[name].append((wall, peak, cpu))
            print(
                f"  run {r + 1}/{repeats} {name:>22}: {wall:7.2f} s  peak {peak:7.0f} MiB  cpu {cpu:7.1f} s", flush=True
            )
    return samples


def median(values):
    return statistics.median(values)


def summarize(samples: dict) -> dict:
    """Per variant: the median wall time, peak memory and CPU time, and every run."""
    return {
        name: {
            "median_s": median([run[0] for run in s]),
            "peak_mib": median([run[1] for run in s]),
            "cpu_s": median([run[2] for run in s]),
            "runs": s,
        }
        for name, s in samples.items()
    }


def save(name: str, result: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
