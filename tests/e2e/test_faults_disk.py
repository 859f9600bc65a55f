"""A full disk at any moment (issue 20), on a real small tmpfs: one line naming the full place, no traceback, nothing
half-written -- a disk already full when the run starts, and a sweep's output_dir (with W&B's offline runs and
their debug logs) filling up mid-sweep, twice."""

import csv
import os
import time

import pytest
import yaml

from tests.helpers.data import tree_digest, write_yaml
from tests.helpers.faults import finish, no_traceback, setup, start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _fill(mount, leave: int) -> None:
    stat = os.statvfs(mount)
    (mount / "filler").write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))


def _errors(err: str):
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_a_disk_full_before_the_run_is_one_line_and_nothing_is_written(tmp_path, small_fs):
    recipe = setup(tmp_path, f"sqlite:///{small_fs / 'hpo' / 'sweep.db'}", run_cap=2)
    doc = yaml.safe_load(recipe.read_text())
    doc["export_path"] = str(small_fs / "kept.jsonl")  # Data-Juicer's work_dir, its logs and backup go there too
    doc["auto_hpo"]["output_dir"] = str(small_fs / "hpo")
    recipe = write_yaml(tmp_path / "full.yaml", doc)
    _fill(small_fs, 0)
    before = tree_digest(small_fs)
    status, out, err = finish(start(tmp_path, recipe, sleep=0), timeout=120)
    assert status == 1, err[-3000:]
    no_traceback(out + err)
    assert _errors(err) == [
        f"error: auto_hpo: {small_fs} (export_path, auto_hpo.output_dir) is full before the run starts; make room "
        f"there and run again"
    ], err[-3000:]
    assert tree_digest(small_fs) == before  # no work_dir, no log, no empty backup


def test_an_output_dir_filling_mid_sweep_is_one_line_each_time(tmp_path, small_fs):
    # the study elsewhere, on purpose: only the sweep's outputs (trials.csv, plots, W&B runs) fill up
    storage = f"sqlite:///{tmp_path / 'study' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=12, output_dir=str(small_fs / "hpo"), storage_outside_output_dir=True)
    for attempt in range(2):  # the second time with the first run's outputs there (W&B appends to its logs)
        (small_fs / "filler").unlink(missing_ok=True)
        _fill(small_fs, (200 if attempt == 0 else 64) * 1024)  # a few W&B offline runs fit, not twelve
        started = time.monotonic()
        status, out, err = finish(start(tmp_path, recipe, sleep=0, env={"WANDB_MODE": "offline"}), timeout=300)
        assert time.monotonic() - started < 280
        assert status == 1, err[-3000:]
        no_traceback(out + err)
        assert "Logging error" not in out + err, (out + err)[-3000:]
        (line,) = _errors(err)
        assert line.startswith("error: auto_hpo: ") and "No space left on device (ENOSPC)" in line, line
        assert str(small_fs) in line and line.endswith("make room there and rerun the same command to resume")
        assert not [p for p in (small_fs / "hpo").rglob(".tmp-*")]  # no temporary file left behind
        if (small_fs / "hpo" / "trials.csv").exists():  # written whole or not at all
            with open(small_fs / "hpo" / "trials.csv", newline="") as f:
                rows = list(csv.DictReader(f))
            assert all(r["state"] in ("COMPLETE", "FAIL", "PRUNED", "RUNNING") for r in rows)
