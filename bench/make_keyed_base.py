"""A copy of the package as it was before issue 21's speed-ups (8c4278e), with issue 19's keyed negatives put in:
the before/after base that shows what issue 21's changes did to ``quality_score`` apart from issue 19's draw.

    python bench/make_keyed_base.py DIR
    python bench/bench_sweep.py --no-rep-len --objective quality_score --base-code DIR
    python bench/bench_quality_fit.py --base-code DIR

Issue 19 made the classifier's negatives the documents of smallest keyed hash (the same on every executor) and
rounds the objective's mean once from an exact sum; 8c4278e drew the negatives by index, so its ``quality_score``
values differ from this code's whatever the speed-ups do. ``DIR`` gets 8c4278e's ``data_juicer_hpo`` (``git
archive``), this checkout's ``objectives/exact.py`` and ``patches/keyed-negatives-8c4278e.patch``: that draw, the
lookup of a sampled text by its key, and the exact mean, on 8c4278e's own fit (sparse products, one fold after the
other). Nothing else changes.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

BASE_COMMIT = "8c4278e"
PATCH = Path(__file__).resolve().parent / "patches" / "keyed-negatives-8c4278e.patch"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="an empty or missing directory")
    args = parser.parse_args(argv)
    target = args.dir.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SystemExit(f"{target}: not an empty directory")
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASE_COMMIT, "data_juicer_hpo"], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {BASE_COMMIT}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    exact = "data_juicer_hpo/objectives/exact.py"
    shutil.copyfile(ROOT / exact, target / exact)
    subprocess.run(["patch", "-s", "-p1", "-d", str(target), "-i", str(PATCH)], check=True)
    print(f"{target}: {BASE_COMMIT} with issue 19's keyed negatives")


if __name__ == "__main__":
    main()
