"""Faults without damage (issue 12), on real ``dj-process`` runs: a PostgreSQL server restarted or stopped
mid-sweep, crashes that must not leak the storage password or WANDB_API_KEY, signals.

The trials are made slow on purpose (a custom objective that sleeps and counts its calls in a file), so that the
fault lands in the middle of the sweep.
"""

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.faults import (
    API_KEY,
    assert_no_secret,
    finish,
    marks,
    no_traceback,
    setup,
    start,
    states,
    study_of,
    wait_for_marks,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# ---- 2. short storage outages ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_workers", [1, 2])
def test_postgres_restart_mid_sweep_loses_no_trial(tmp_path, restartable_pg, n_workers):
    url, server = restartable_pg
    recipe = setup(tmp_path, url, run_cap=6, n_workers=n_workers)
    proc = start(tmp_path, recipe)
    wait_for_marks(tmp_path, proc, 2)
    server.restart("fast")  # every connection dropped, mid-trial
    code, out, err = finish(proc)
    assert code == 0, err[-3000:]
    no_traceback(err)
    study = study_of(tmp_path)
    assert states(url, study) == {"COMPLETE": 6}
    # no trial was lost and run again: six trials, and summary.json's score of keeping every document
    assert marks(tmp_path) == 6 + 1
    assert (tmp_path / "out" / "kept.jsonl").exists()


def test_postgres_down_for_seconds_mid_sweep_is_waited_for(tmp_path, restartable_pg):
    url, server = restartable_pg
    recipe = setup(tmp_path, url, run_cap=5)
    proc = start(tmp_path, recipe)
    wait_for_marks(tmp_path, proc, 2)
    server.stop("fast")
    time.sleep(10)
    server.start(server.port)
    code, out, err = finish(proc)
    assert code == 0, err[-3000:]
    no_traceback(err)
    assert "retrying for up to 60 s" in err
    assert states(url, study_of(tmp_path)) == {"COMPLETE": 5}


def test_postgres_down_past_the_bound_one_line_and_no_secret(tmp_path, restartable_pg):
    url, server = restartable_pg
    password = urlparse(url).password
    recipe = setup(tmp_path, url, run_cap=8, storage_retry_s=3)
    proc = start(tmp_path, recipe)
    wait_for_marks(tmp_path, proc, 2)
    server.stop("fast")
    try:
        stopped = time.monotonic()
        code, out, err = finish(proc, timeout=120)
        elapsed = time.monotonic() - stopped
    finally:
        server.start(server.port)
    assert code == 1, err[-3000:]
    no_traceback(err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    masked = url.replace(password, "***")
    assert errors == [
        f"error: auto_hpo.storage: lost the connection to {masked} for 3 s; rerun the same command to resume"
    ], err[-3000:]
    assert elapsed < 30
    assert assert_no_secret(tmp_path, [out, err], [password, API_KEY], skip=[recipe]) > 5
    # the same command resumes and finishes the sweep
    code, out, err = finish(start(tmp_path, recipe, sleep=0))
    assert code == 0, err[-3000:]
    assert states(url, study_of(tmp_path)).get("COMPLETE") == 8


# ---- 1. crashes that must not leak ----------------------------------------------------------------------


def test_objective_crash_with_the_url_in_a_local_leaks_nothing(tmp_path, restartable_pg):
    url, _ = restartable_pg
    password = urlparse(url).password
    recipe = setup(tmp_path, url, run_cap=3, objective="faultobj:leaky", fail_fast=True)
    code, out, err = finish(start(tmp_path, recipe, url=url))
    assert code != 0
    assert "RuntimeError: cannot reach postgresql+psycopg2://hpo:***@" in err  # the error is told, masked
    assert assert_no_secret(tmp_path, [out, err], [password, API_KEY], skip=[recipe]) > 5
    error_logs = list((tmp_path / "out").rglob("*_ERROR*"))
    assert error_logs, "Data-Juicer's error log was not written"


# ---- 6. signals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_fails_the_running_trial_writes_trials_and_exits_cleanly(tmp_path, signum, code):
    import csv

    storage = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=4)
    proc = start(tmp_path, recipe, sleep=3)
    wait_for_marks(tmp_path, proc, 2, name="marks.started")
    time.sleep(0.5)  # inside the second trial's objective
    proc.send_signal(signum)
    started = time.monotonic()
    status, out, err = finish(proc, timeout=60)
    assert time.monotonic() - started < 20
    assert status == code, err[-3000:]
    no_traceback(err)
    assert err.rstrip().splitlines()[-1] == "auto_hpo: interrupted; rerun the same command to resume"
    with open(tmp_path / "hpo" / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["state"] for r in rows] == ["COMPLETE", "FAIL"]
    assert rows[1]["error"].startswith("interrupted")
    study = study_of(tmp_path)
    assert states(storage, study) == {"COMPLETE": 1, "FAIL": 1}
    # the same command resumes: the interrupted trial's slot is filled again
    status, out, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0, err[-3000:]
    assert states(storage, study) == {"COMPLETE": 4, "FAIL": 1}


# ---- 5. resume only what is comparable -------------------------------------------------------------------


def _variant(recipe: Path, name: str, **section) -> Path:
    import yaml

    doc = yaml.safe_load(recipe.read_text())
    doc["auto_hpo"].update(section)
    return write_yaml(recipe.parent / name, doc)


def test_resume_on_changed_data_refuses_unless_forced(tmp_path):
    storage = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=2)
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0, err[-3000:]
    study = study_of(tmp_path)
    csv_before = (tmp_path / "hpo" / "trials.csv").read_bytes()
    # unchanged: the rerun resumes (nothing left to run) without complaint
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0 and "auto_hpo.resume:" not in err, err[-3000:]
    # the dataset is appended to, as between a kill -9 and the rerun
    with open(tmp_path / "d.jsonl", "a") as f:
        f.write('{"text": "one more document appended later", "meta": {"id": "x"}}\n')
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 1
    no_traceback(err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: auto_hpo.resume: study '{study}' in sqlite:///"), err
    assert "samples: 150 -> 151" in errors[0] and "dataset: " in errors[0]
    assert "name" in errors[0] and "auto_hpo.resume: force" in errors[0]
    assert (tmp_path / "hpo" / "trials.csv").read_bytes() == csv_before  # nothing overwritten
    assert states(storage, study) == {"COMPLETE": 2}
    # the objective changed: named too
    changed = _variant(recipe, "changed.yaml", objective="retention")
    status, _, err = finish(start(tmp_path, changed, sleep=0))
    assert status == 1 and "objective: faultobj:slow" in err and "-> retention" in err, err[-3000:]
    # forced: resumes, says so, and the new fingerprint is the one stored
    forced = _variant(recipe, "forced.yaml", resume="force")
    status, _, err = finish(start(tmp_path, forced, sleep=0))
    assert status == 0, err[-3000:]
    assert "auto_hpo.resume: force: resuming study" in err
    assert states(storage, study) == {"COMPLETE": 2}  # nothing left to run: the cap was reached
    status, _, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0 and "auto_hpo.resume:" not in err, err[-3000:]


# ---- 3/4. full disk: one line, nothing half-written, no hang ----------------------------------------------


def test_export_to_a_full_disk_leaves_nothing_half_written_and_does_not_hang(tmp_path, small_fs):
    storage = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=2)
    import yaml

    doc = yaml.safe_load(recipe.read_text())
    write_jsonl(tmp_path / "big.jsonl", varied_texts(4000))  # ~1 MB kept: more than the 512 KiB disk holds
    doc.update(dataset_path=str(tmp_path / "big.jsonl"), export_path=str(small_fs / "kept.jsonl"))
    recipe = write_yaml(tmp_path / "full.yaml", doc)  # Data-Juicer's work_dir, with its logs, is on that disk too
    started = time.monotonic()
    status, out, err = finish(start(tmp_path, recipe, sleep=0), timeout=240)
    assert time.monotonic() - started < 200
    assert status == 1, err[-3000:]
    no_traceback(err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: auto_hpo: cannot write {small_fs / 'kept.jsonl'}: No space left on device (ENOSPC); make room "
        f"there and rerun the same command to resume"
    ], err[-3000:]
    assert not (small_fs / "kept.jsonl").exists()
    assert not list(small_fs.glob(".tmp-*"))
    assert (tmp_path / "hpo" / "trials.csv").exists()  # the sweep itself is kept


def test_sqlite_storage_on_a_full_disk_is_one_line(tmp_path, small_fs):
    database = small_fs / "sweep.db"
    recipe = setup(tmp_path, f"sqlite:///{database}", run_cap=2, storage_outside_output_dir=True)  # on purpose
    stat = os.statvfs(small_fs)
    (small_fs / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 32 * 1024))  # ~32 KiB stay free
    status, out, err = finish(start(tmp_path, recipe, sleep=0), timeout=240)
    assert status == 1, err[-3000:]
    no_traceback(err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: auto_hpo.storage: sqlite:///{database}: database or disk is full"], err[-3000:]


def test_logs_on_a_full_disk_do_not_hang_the_run(tmp_path, small_fs):
    """Data-Juicer's queued log handlers deadlock when their file cannot be written (plain dj-process hangs):
    with a mode, the run ends with one line within seconds."""
    storage = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=2)
    import yaml

    doc = yaml.safe_load(recipe.read_text())
    doc.update(export_path=str(small_fs / "kept.jsonl"))  # work_dir, with the logs, is on the small disk too
    recipe = write_yaml(tmp_path / "full.yaml", doc)
    stat = os.statvfs(small_fs)
    (small_fs / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 48 * 1024))
    started = time.monotonic()
    status, out, err = finish(start(tmp_path, recipe, sleep=0), timeout=150)
    assert time.monotonic() - started < 120
    assert status == 1, err[-3000:]
    no_traceback(err)
    assert "data-juicer-hpo: log handler #" in err and "its later lines are dropped" in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"({small_fs} (export_path, work_dir) is full)" in errors[0], err[-3000:]
    assert "No space left on device (ENOSPC)" in errors[0]
    assert not (small_fs / "kept.jsonl").exists()


@pytest.mark.parametrize("to_group", [False, True], ids=["sigterm-to-parent", "ctrl-c-to-group"])
def test_signal_with_two_workers(tmp_path, to_group):
    """Ctrl-C reaches every process of the terminal's group; a service manager's SIGTERM often the parent only."""
    storage = f"sqlite:///{tmp_path / 'hpo' / 'sweep.db'}"
    recipe = setup(tmp_path, storage, run_cap=6, n_workers=2)
    proc = start(tmp_path, recipe, sleep=3)
    wait_for_marks(tmp_path, proc, 2, name="marks.started")
    time.sleep(0.5)
    if to_group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    status, out, err = finish(proc, timeout=90)
    assert status == (130 if to_group else 143), err[-3000:]
    no_traceback(err)
    assert err.rstrip().splitlines()[-1] == "auto_hpo: interrupted; rerun the same command to resume"
    study = study_of(tmp_path)
    counts = states(storage, study)
    assert "RUNNING" not in counts and counts.get("FAIL", 0) >= 1, counts
    status, out, err = finish(start(tmp_path, recipe, sleep=0))
    assert status == 0, err[-3000:]
    assert states(storage, study)["COMPLETE"] == 6
