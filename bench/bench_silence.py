"""The longest silence of a run: a 30-trial ``quality_score`` sweep (and, with ``--3sigma``, a 3sigma run) on the
bench corpus, every output line timestamped as it arrives, the longest gap between two lines reported with the
lines around it. Target (issue 18): no phase silent for more than 5 s.

    python bench/bench_silence.py [--docs N] [--trials 30] [--repeats 1] [--3sigma]

The run's standard output and error are read through one pipe (``PYTHONUNBUFFERED=1``), as a log collector would
read them: not a terminal, so progress comes as plain lines. The gap counted is the time between the arrival of two
consecutive lines, from the first line to the last (the interpreter's start-up before the first line is reported
apart). Raw figures go to ``bench/results/bench_silence.json``.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_ENV, BIN, corpus, median, save, write_recipe  # noqa: E402
from bench_sweep import _sweep_recipe  # noqa: E402

TARGET_S = 5.0


def stamped_run(cmd, cwd: Path, log_path: Path):
    """Run ``cmd``; return (exit code, [(seconds since start, line)], seconds to the first line)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONUNBUFFERED="1", **BENCH_ENV)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    lines = []
    pending = b""
    with open(log_path, "w", encoding="utf-8") as log:
        while True:
            chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(65536)
            if not chunk:
                break
            now = time.monotonic() - start
            pending += chunk
            # a progress bar redrawn with \r is output too: every \r- or \n-ended piece counts as a line
            parts = pending.replace(b"\r", b"\n").split(b"\n")
            pending = parts.pop()
            for part in parts:
                text = part.decode("utf-8", "replace").rstrip()
                if text:
                    lines.append((now, text))
                    log.write(f"{now:9.3f} {text}\n")
        if pending.strip():
            lines.append((time.monotonic() - start, pending.decode("utf-8", "replace").rstrip()))
    code = proc.wait()
    first = lines[0][0] if lines else time.monotonic() - start
    return code, lines, first


def longest_gap(lines):
    """(gap seconds, index of the line after the gap) over consecutive lines; (0, 0) with fewer than 2."""
    best = (0.0, 0)
    for i in range(1, len(lines)):
        gap = lines[i][0] - lines[i - 1][0]
        if gap > best[0]:
            best = (gap, i)
    return best


def _three_sigma_recipe(work: Path, data: Path) -> Path:
    auto_hpo = {"mode": "3sigma", "report": str(work / "3sigma" / "report.html")}
    return write_recipe(work / "3sigma.yaml", data, work / "3sigma" / "out.jsonl", auto_hpo=auto_hpo)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="only the first N documents (default: all 45,111)")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--3sigma", dest="three_sigma", action="store_true", help="also time a 3sigma run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, reports)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-silence-"))
    try:
        data = corpus(work, 1, limit=args.docs)
        n_docs = sum(1 for _ in open(data))
        # bench_sweep.py's 30-trial random threshold sweep of the six-filter recipe, scored by quality_score
        variants = {"sweep": _sweep_recipe(work, "sweep", data, work / "sweep" / "out.jsonl", "quality_score",
                                           args.trials, {})}  # fmt: skip
        if args.three_sigma:
            variants["3sigma"] = _three_sigma_recipe(work, data)
        print(f"bench corpus: {n_docs} documents; {args.trials}-trial quality_score sweep; {args.repeats} run(s)")
        result = {"documents": n_docs, "trials": args.trials, "target_s": TARGET_S, "runs": {}}
        for r in range(args.repeats):
            for name, recipe in variants.items():
                shutil.rmtree(work / name, ignore_errors=True)  # a fresh sweep, no resume
                (work / name).mkdir(parents=True)
                log_path = work / name / "stamped.log"
                cmd = [str(BIN / "dj-process"), "--config", str(recipe)]
                code, lines, first = stamped_run(cmd, work, log_path)
                if code != 0:
                    sys.stderr.write(log_path.read_text()[-3000:])
                    raise SystemExit(f"{name}: exit code {code}")
                gap, at = longest_gap(lines)
                total = lines[-1][0] if lines else 0.0
                result["runs"].setdefault(name, []).append({"longest_gap_s": gap, "wall_s": total, "first_s": first})
                print(
                    f"  run {r + 1}/{args.repeats} {name:>7}: {total:6.1f} s, {len(lines)} lines, first after "
                    f"{first:.1f} s, longest silence {gap:.2f} s{' (over the target)' if gap > TARGET_S else ''}"
                )
                for t, text in lines[max(0, at - 2) : at + 1]:
                    print(f"      {t:8.2f}  {text[:150]}")
        for name, runs in result["runs"].items():
            gaps = [run["longest_gap_s"] for run in runs]
            result[name] = {"median_longest_gap_s": median(gaps), "max_longest_gap_s": max(gaps)}
            print(
                f"{name:>7}: longest silence median {median(gaps):.2f} s, max {max(gaps):.2f} s "
                f"(target <= {TARGET_S:g} s)"
            )
        print(f"raw figures: {save('bench_silence', result)}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
