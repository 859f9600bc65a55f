"""``auto_hpo.n_workers`` end to end: the real dj-process runs one sweep in several forked local workers."""

import csv
import os
import re
import signal
import subprocess
import time
from collections import Counter

import pytest

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.runs import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SWEEP = {
    "method": "random",
    "run_cap": 6,
    "metric": {"name": "retention", "goal": "maximize"},
    "parameters": {
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 10, "max": 400},
        "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.05, "max": 0.6},
    },
}

# For the custom objectives below, which act on their calls: every trial keeps documents, so each trial calls the
# objective (a trial keeping nothing scores worst() without calling it).
CALLING_SWEEP = {
    **SWEEP,
    "metric": {"name": "kept", "goal": "maximize"},
    "parameters": {
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 10, "max": 100},
        "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.6},
    },
}

# A custom objective that kills the worker w2 in the middle of its first trial, once; the other workers wait for
# that in their first trial, so that w2 surely gets one.
KILLER = """
import multiprocessing, os, signal, time

def kept(dataset, cfg):
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "killed")
    if multiprocessing.current_process().name == "w2" and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    deadline = time.monotonic() + 60
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.01)
    return float(len(dataset))
"""


def _recipe(tmp_path, sweep=SWEEP, **auto_hpo):
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(300))
    write_yaml(tmp_path / "sweep.yaml", sweep)
    section = {
        "mode": "wandb",
        "backend": "local",
        "hpo_config": str(tmp_path / "sweep.yaml"),
        "output_dir": str(tmp_path / "hpo"),
        "process_best": False,
        "n_workers": 3,
        **auto_hpo,
    }
    return write_yaml(
        tmp_path / "recipe.yaml",
        {
            "project_name": "workers-test",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": [
                {"text_length_filter": {"min_len": 10, "max_len": 100000}},
                {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
            ],
            "auto_hpo": section,
        },
    )


def _trials(tmp_path):
    with open(tmp_path / "hpo" / "trials.csv") as f:
        return list(csv.DictReader(f))


def _trial_lines(stderr):
    return [(slot, worker) for worker, slot in re.findall(r"trial #\d+ (w\d) \((\d+)/6, [^)]*\): retention=", stderr)]


def test_three_workers_share_one_sweep_and_record_their_trials(tmp_path, dj_process):
    res = dj_process("--config", _recipe(tmp_path), env={"WANDB_MODE": "offline"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "[3] local workers (w1 here, w2..w3 forked)" in res.stderr
    assert "workers on several machines need a shared server" in res.stderr
    rows = _trials(tmp_path)
    assert len(rows) == 6 and all(r["state"] == "COMPLETE" for r in rows)
    lines = _trial_lines(res.stderr)
    assert sorted(int(slot) for slot, _ in lines) == [1, 2, 3, 4, 5, 6]
    assert len({worker for _, worker in lines}) >= 2  # the trials were really spread over the workers
    assert res.stderr.count("computing statistics of") == 1  # once, in the parent, before the fork
    assert len(list((tmp_path / "hpo" / "wandb").glob("offline-run-*"))) == 6
    assert "[6] trials recorded as W&B offline runs" in res.stderr


def test_a_killed_worker_is_reported_and_its_trial_replaced(tmp_path, dj_process):
    (tmp_path / "killer.py").write_text(KILLER)
    recipe = _recipe(tmp_path, CALLING_SWEEP, objective="killer:kept")
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled", "PYTHONPATH": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "killed").exists()
    died = [line for line in res.stderr.splitlines() if "died (killed by SIGKILL)" in line]
    assert len(died) == 1 and "worker w2 (pid " in died[0] and "failed and replaced" in died[0]
    rows = _trials(tmp_path)
    assert Counter(r["state"] for r in rows) == {"COMPLETE": 6, "FAIL": 1}
    (failed,) = [r for r in rows if r["state"] == "FAIL"]
    assert failed["error"].startswith("interrupted: worker w2 (pid ")


# A custom objective that fails in worker w2 only; the others wait for that in their first trial.
FAILING = """
import multiprocessing, os, time

def kept(dataset, cfg):
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failed")
    if multiprocessing.current_process().name == "w2":
        open(marker, "w").close()
        raise ValueError("boom in w2")
    deadline = time.monotonic() + 60
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # w2 stops the sweep meanwhile
    return float(len(dataset))
"""


def test_fail_fast_in_one_worker_stops_them_all(tmp_path, dj_process):
    (tmp_path / "failing.py").write_text(FAILING)
    recipe = _recipe(tmp_path, {**CALLING_SWEEP, "run_cap": 30}, objective="failing:kept", fail_fast=True)
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled", "PYTHONPATH": str(tmp_path)})
    assert res.returncode != 0
    assert "worker w2 stopped the sweep: ValueError: boom in w2" in res.stderr
    assert "Traceback" in res.stderr  # the worker's own, in the log
    rows = _trials(tmp_path)  # written from the storage as the sweep stopped
    assert [r["error"] for r in rows if r["state"] == "FAIL"] == ["ValueError: boom in w2"]
    assert all(r["state"] in ("COMPLETE", "FAIL") for r in rows)
    done = _trial_lines(res.stderr.replace("/30 ", "/6 "))
    assert len(done) <= 4  # the others stopped after their current trial instead of running on to the cap


# A custom objective whose second call in each worker hangs while the file HANG names exists.
HANGING = """
import os, time

calls = []

def kept(dataset, cfg):
    calls.append(1)
    if len(calls) == 2 and os.path.exists(os.environ["HANG"]):
        open(os.path.join(os.path.dirname(os.environ["HANG"]), f"hanging-{os.getpid()}"), "w").close()
        time.sleep(600)
    return float(len(dataset))
"""


def test_a_rerun_after_kill_9_of_the_whole_sweep_keeps_work_and_finishes_the_cap(tmp_path, dj_process):
    (tmp_path / "hanging.py").write_text(HANGING)
    (tmp_path / "hang").touch()
    recipe = _recipe(tmp_path, CALLING_SWEEP, objective="hanging:kept")
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONPATH": str(tmp_path), "HANG": str(tmp_path / "hang")}
    sweep_process = subprocess.Popen(
        [str(BIN / "dj-process"), "--config", str(recipe)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("hanging-*"))) < 3:  # every worker is in the middle of its second trial
            assert sweep_process.poll() is None and time.monotonic() < deadline, "the workers did not all hang"
            time.sleep(0.1)
    finally:
        os.killpg(sweep_process.pid, signal.SIGKILL)  # the whole sweep: parent and forked workers
        sweep_process.wait()
    (tmp_path / "hang").unlink()  # the rerun's trials must not hang (HANG stays set: the objective reads it)
    res = dj_process(
        "--config", recipe, env={"WANDB_MODE": "disabled", "PYTHONPATH": str(tmp_path), "HANG": env["HANG"]}
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _trials(tmp_path)
    assert Counter(r["state"] for r in rows) == {"COMPLETE": 6, "FAIL": 3}, " | ".join(
        f"{r['number']} {r['state']} {r['error']}" for r in rows
    )
    failed = [r for r in rows if r["state"] == "FAIL"]
    assert all(r["error"].startswith("interrupted: worker w") and "is gone" in r["error"] for r in failed)
    assert {int(r["number"]) for r in failed} <= set(range(6))  # from the killed run, not the rerun
    first_run = [r for r in rows if int(r["number"]) < 6]
    assert Counter(r["state"] for r in first_run) == {"COMPLETE": 3, "FAIL": 3}  # its completed trials kept
