"""Processes and signals (issue 20), on real ``dj-process`` runs: SIGHUP, a second signal, the parent of forked
workers killed, SIGTERM while the data loads, more workers than trials, W&B's temporary directories, the temporary
export a killed run left."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from data_juicer_hpo.signals import LINE

from tests.helpers.data import varied_texts, write_jsonl
from tests.helpers.faults import finish, no_traceback, setup, start, states, study_of, wait_for_marks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _trials(tmp_path):
    with open(tmp_path / "hpo" / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def _sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"


def test_sighup_is_handled_like_sigterm(tmp_path):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=4)
    proc = start(tmp_path, recipe, sleep=3)
    wait_for_marks(tmp_path, proc, 2, name="marks.started")
    time.sleep(0.5)  # inside the second trial's objective
    proc.send_signal(signal.SIGHUP)  # the terminal closed, the ssh session dropped
    status, _, err = finish(proc, timeout=60)
    assert status == 129, err[-3000:]
    no_traceback(err)
    assert err.rstrip().splitlines()[-1] == LINE
    rows = _trials(tmp_path)
    assert [r["state"] for r in rows] == ["COMPLETE", "FAIL"] and rows[1]["error"] == "interrupted by Terminated"
    assert states(_sqlite(tmp_path), study_of(tmp_path)) == {"COMPLETE": 1, "FAIL": 1}


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_does_not_change_the_outcome(tmp_path, second):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=4, n_workers=2)
    proc = start(tmp_path, recipe, sleep=3)
    wait_for_marks(tmp_path, proc, 2, name="marks.started")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole group
    time.sleep(0.3)
    os.killpg(proc.pid, second)  # pressed again while the run winds down
    status, _, err = finish(proc, timeout=90)
    assert status == 130, err[-3000:]
    no_traceback(err)
    assert err.rstrip().splitlines()[-1] == LINE
    counts = states(_sqlite(tmp_path), study_of(tmp_path))
    assert "RUNNING" not in counts and counts.get("FAIL", 0) >= 1, counts
    assert [r["state"] for r in _trials(tmp_path)].count("FAIL") == counts["FAIL"]


def _forked_workers(pid: int):
    """The children of ``pid`` that are forks of it (the same command line), not services it started."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        own = f.read()
    found = []
    for child in map(int, out.split()):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if f.read() == own:
                    found.append(child)
        except OSError:
            pass
    return found


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"  # a zombie is gone too
    except OSError:
        return True


def test_workers_die_with_a_killed_parent_and_the_rerun_finishes(tmp_path):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=6, n_workers=2)
    proc = start(tmp_path, recipe, sleep=4)
    wait_for_marks(tmp_path, proc, 2, name="marks.started")  # both workers are inside a trial
    workers = _forked_workers(proc.pid)
    assert workers, "no forked worker found"
    proc.kill()  # as the OOM killer does
    proc.wait()
    deadline = time.monotonic() + 20
    while not all(_gone(p) for p in workers):
        assert time.monotonic() < deadline, "a forked worker outlived its parent"
        time.sleep(0.1)
    counts = states(_sqlite(tmp_path), study_of(tmp_path))
    assert counts.get("COMPLETE", 0) < 6  # the orphan did not run the sweep on alone
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0, err[-3000:]
    assert states(_sqlite(tmp_path), study_of(tmp_path))["COMPLETE"] == 6


def test_sigterm_while_the_data_loads_says_only_its_line(tmp_path):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=4, n_workers=2)
    write_jsonl(tmp_path / "d.jsonl", varied_texts(30000))  # the statistics of the shared bundle take seconds
    proc = start(tmp_path, recipe, sleep=0)
    deadline = time.monotonic() + 120
    while "computing statistics of" not in proc.output_files[1].read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, proc.output_files[1].read_text()[-3000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    status, _, err = finish(proc, timeout=60)
    assert status == 143, err[-3000:]
    no_traceback(err)
    assert "KeyError" not in err and "Record does not exist" not in err and "could not write" not in err, err[-3000:]
    assert err.rstrip().splitlines()[-1] == LINE


def test_no_more_workers_than_trials_left_and_no_wandb_temporaries_left(tmp_path):
    # a short path: multiprocessing's managers put their AF_UNIX sockets there (at most 107 bytes)
    temporary = Path(tempfile.mkdtemp(prefix="dj-hpo-"))
    try:
        _workers_and_temporaries(tmp_path, temporary)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _workers_and_temporaries(tmp_path, temporary):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=3, n_workers=24)
    env = {"TMPDIR": str(temporary), "WANDB_MODE": "offline"}
    status, _, err = finish(start(tmp_path, recipe, sleep=0, env=env))
    assert status == 0, err[-3000:]
    assert "n_workers [24] -> [3]: [3] trials left to run" in err
    assert "[3] local workers (w1 here, w2..w3 forked)" in err
    assert len({line for line in (tmp_path / "marks").read_text().splitlines()}) <= 3  # at most 3 processes ran trials
    assert len(list((tmp_path / "hpo" / "wandb").glob("offline-run-*"))) == 3
    assert sorted(os.listdir(temporary)) == []  # W&B's tmp*wandb-media, tmp*wandb-artifacts: removed
    status, _, err = finish(start(tmp_path, recipe, sleep=0, env=env))  # nothing left to run: no worker forked
    assert status == 0 and "n_workers [24] -> [1]: [0] trials left to run" in err, err[-3000:]


def test_a_temporary_export_left_by_a_killed_run_is_removed_by_the_next(tmp_path):
    recipe = setup(tmp_path, _sqlite(tmp_path), run_cap=1)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    left = [out / f".tmp-{dead.pid}-kept.jsonl", out / f".tmp-{dead.pid}-kept_stats.jsonl"]
    for path in left:
        path.write_text('{"text": "half a line')  # what kill -9 during the export leaves
    (out / ".tmp-1-kept.jsonl").write_text("a live process's (pid 1): not ours to remove")
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0, err[-3000:]
    assert not any(path.exists() for path in left) and (out / "kept.jsonl").exists()
    assert (out / ".tmp-1-kept.jsonl").exists()
