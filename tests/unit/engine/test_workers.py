"""Several worker processes on one study (PostgreSQL with advisory locks, SQLite with flock), and crash safety
(engine/workers.py; the locks themselves: test_locking.py)."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from data_juicer_hpo.engine import LocalSweep, grid_points, parse_sweep_config
from data_juicer_hpo.engine.workers import identity

from tests.helpers.pg_server import pg_url_fixture, restarting
from tests.helpers.runs import ROOT

pg_url = pg_url_fixture()

RANDOM = {
    "method": "random",
    "run_cap": 12,
    "metric": {"name": "m", "goal": "maximize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}},
}
GRID = {
    "method": "grid",
    "metric": {"name": "m", "goal": "maximize"},
    "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": ["p", "q", "r", "s"]}},
}

# One worker: builds its engine, waits for the go file (so that all start asking at once), runs the sweep.
# Every call of train is logged to `calls` (one JSON line, appended: lines of concurrent writers stay whole).
WORKER = """
import json, os, random, sys, time
from data_juicer_hpo.engine import LocalSweep, parse_sweep_config
conf = json.loads(sys.argv[1])
engine = LocalSweep(parse_sweep_config(conf["sweep"]), conf["url"], conf["study"], seed=conf["seed"],
                    worker=conf["label"])
while not os.path.exists(conf["go"]):
    time.sleep(0.005)
rng = random.Random(conf["seed"])
done = []
def train(ctx):
    with open(conf["calls"], "a") as f:
        f.write(json.dumps({"number": ctx.number, "params": ctx.params, "worker": conf["label"]}) + "\\n")
    if len(done) == conf.get("hang_at", -1):
        open(conf["hanging"], "w").close()
        time.sleep(600)
    done.append(ctx.number)
    time.sleep(rng.uniform(0, conf["jitter"]))
    return float(ctx.number)
records = engine.run(train)
print(json.dumps([r.number for r in records]))
"""


def _sqlite(tmp_path):
    return f"sqlite:///{tmp_path / 'sweep.db'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def storage(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return url, f"study-{request.node.name}-{time.monotonic_ns()}"  # one server for the session
    return _sqlite(tmp_path), "study"


def _start(tmp_path, url, study, sweep, n, jitter=0.05, overrides=None):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = []
    for i in range(n):
        conf = {
            "sweep": sweep,
            "url": url,
            "study": study,
            "seed": i,
            "label": f"w{i + 1}",
            "go": str(tmp_path / "go"),
            "calls": str(tmp_path / "calls.jsonl"),
            "jitter": jitter,
            "hanging": str(tmp_path / f"hanging{i}"),
            **(overrides or {}).get(i, {}),
        }
        workers.append(
            subprocess.Popen(
                [sys.executable, str(script), json.dumps(conf)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return workers


def _go(tmp_path):
    (tmp_path / "go").touch()


def _finish(workers, timeout=120):
    outs = []
    for w in workers:
        out, err = w.communicate(timeout=timeout)
        assert w.returncode == 0, err[-3000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


def _calls(tmp_path):
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_concurrent_random_workers_run_exactly_the_cap(tmp_path, storage):
    url, study = storage
    workers = _start(tmp_path, url, study, RANDOM, n=3)
    _go(tmp_path)
    per_worker = _finish(workers)
    calls = _calls(tmp_path)
    assert len(calls) == 12  # not one train call more than the cap
    assert sorted(n for numbers in per_worker for n in numbers) == list(range(12))
    assert sum(1 for numbers in per_worker if numbers) >= 2  # they really shared the work
    records = LocalSweep(parse_sweep_config(RANDOM), url, study).records()
    assert [(r.number, r.state) for r in records] == [(n, "COMPLETE") for n in range(12)]
    assert {r.number: r.worker for r in records} == {c["number"]: c["worker"] for c in calls}
    assert len({r.params["x"] for r in records}) == 12


def test_concurrent_grid_workers_evaluate_every_point_once(tmp_path, storage):
    url, study = storage
    workers = _start(tmp_path, url, study, GRID, n=3, jitter=0.02)
    _go(tmp_path)
    _finish(workers)
    expected = grid_points(parse_sweep_config(GRID))
    evaluated = Counter(json.dumps(c["params"], sort_keys=True) for c in _calls(tmp_path))
    assert evaluated == Counter(json.dumps(p, sort_keys=True) for p in expected)  # each of the 12 exactly once
    records = LocalSweep(parse_sweep_config(GRID), url, study).records()
    assert len(records) == 12 and all(r.state == "COMPLETE" for r in records)
    assert sorted(json.dumps(r.params, sort_keys=True) for r in records) == sorted(evaluated)


# 24 points, as in the fault report of issue 20
GRID24 = {**GRID, "parameters": {"a": {"values": [1, 2, 3, 4]}, "b": {"values": ["p", "q", "r", "s", "t", "u"]}}}


@pytest.mark.slow
def test_grid_workers_through_server_restarts_evaluate_every_point_once(tmp_path, restartable_pg):
    """Six workers on one grid while the server restarts every 2-2.5 s: each restart drops the study lock's session
    (the server releases an advisory lock with it), mid-ask or not; the claims keep every point to one trial."""
    url, server = restartable_pg
    study = f"restarts-{time.monotonic_ns()}"
    workers = _start(tmp_path, url, study, GRID24, n=6, jitter=0.8)
    with restarting(server, seed=len(str(tmp_path))) as restarts:
        _go(tmp_path)
        errors = [w.communicate(timeout=300)[1] for w in workers]
    told = [[line for line in e.splitlines() if "Error" in line or "error" in line or "lost" in line] for e in errors]
    assert [w.returncode for w in workers] == [0] * 6, (told, restarts)
    assert not [e for e in errors if "Traceback" in e], errors
    assert len(restarts) >= 2  # the sweep really went through restarts
    expected = grid_points(parse_sweep_config(GRID24))
    evaluated = Counter(json.dumps(c["params"], sort_keys=True) for c in _calls(tmp_path))
    assert evaluated == Counter(json.dumps(p, sort_keys=True) for p in expected)  # each of the 24 exactly once
    records = LocalSweep(parse_sweep_config(GRID24), url, study).records()
    assert Counter(r.state for r in records) == {"COMPLETE": 24}


def _wait_for(path: Path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker never reached its slow trial"
        time.sleep(0.02)


def test_a_killed_worker_trial_is_failed_at_once_and_one_rerun_finishes_the_cap(tmp_path, storage):
    url, study = storage
    sweep = {**RANDOM, "run_cap": 4}
    (worker,) = _start(tmp_path, url, study, sweep, n=1, jitter=0.0, overrides={0: {"hang_at": 2}})
    _go(tmp_path)
    try:
        _wait_for(tmp_path / "hanging0", worker)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate()
    engine = LocalSweep(parse_sweep_config(sweep), url, study)  # default heartbeat: a 60 s grace period
    before = engine.records()
    assert [(r.number, r.state) for r in before] == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "RUNNING")]
    start = time.monotonic()
    new = engine.run(lambda ctx: 0.5)
    assert time.monotonic() - start < 20  # no waiting for the heartbeat to age
    after = engine.records()
    assert after[:2] == before[:2]  # completed trials kept as they were
    assert after[2].state == "FAIL" and after[2].params == before[2].params
    assert after[2].error.startswith(f"interrupted: worker w1 (pid {worker.pid} on ") and "is gone" in after[2].error
    assert [(r.number, r.state) for r in new] == [(3, "COMPLETE"), (4, "COMPLETE")]
    assert sum(r.state == "COMPLETE" for r in after) == 4
    assert engine.run(lambda ctx: 0.5) == []


def test_the_others_replace_the_trial_of_a_worker_killed_mid_sweep(tmp_path, pg_url):
    study = f"killed-mid-sweep-{time.monotonic_ns()}"
    sweep = {**RANDOM, "run_cap": 9}
    workers = _start(tmp_path, pg_url, study, sweep, n=3, jitter=0.3, overrides={2: {"hang_at": 0}})
    _go(tmp_path)
    try:
        _wait_for(tmp_path / "hanging2", workers[2])
    finally:
        os.kill(workers[2].pid, signal.SIGKILL)
        workers[2].communicate()
    _finish(workers[:2])
    records = LocalSweep(parse_sweep_config(sweep), pg_url, study).records()
    states = Counter(r.state for r in records)
    assert states == {"COMPLETE": 9, "FAIL": 1}
    (failed,) = [r for r in records if r.state == "FAIL"]
    assert failed.worker == "w3" and failed.error.startswith("interrupted: worker w3 ")
    assert {r.worker for r in records if r.state == "COMPLETE"} == {"w1", "w2"}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    "owner, reaped",
    [
        ("dead pid here", True),
        ("recycled pid here", True),  # our own pid, but another process start time: not the trial's worker
        # trials are tagged when they are made; an untagged one (an older engine, a plain ask) may be another
        # machine's live trial: failed only once older than the grace period, never at once
        ("no worker attribute", False),
        ("no worker attribute for an hour", True),
        ("dead pid elsewhere", False),  # another machine: left to its heartbeat
    ],
)
def test_which_running_trials_count_as_interrupted(tmp_path, owner, reaped):
    sweep = parse_sweep_config({**RANDOM, "run_cap": 3})
    url = _sqlite(tmp_path)
    LocalSweep(sweep, url, "s").close()  # makes the study
    study = optuna.load_study(study_name="s", storage=url)
    if owner.endswith("for an hour"):  # made as an old engine left it, an hour ago
        storage = optuna.storages.RDBStorage(url)
        started = datetime.datetime.now() - datetime.timedelta(hours=1)
        template = optuna.trial.FrozenTrial(0, TrialState.RUNNING, None, started, None, {}, {}, {}, {}, {}, 0)
        storage.create_new_trial(storage.get_study_id_from_name("s"), template_trial=template)
        trial = None
    else:
        trial = study.ask()  # a RUNNING trial, as a worker leaves it
    me = identity()
    worker = {**me, "label": "w9"}
    if owner == "dead pid here":
        worker["pid"] = _dead_pid()
    elif owner == "recycled pid here":
        worker["started"] = (me["started"] or 0) - 3600
    elif owner == "dead pid elsewhere":
        worker.update(pid=_dead_pid(), node="another-host|boot|pid:[1]", host="another-host")
    if trial is not None and not owner.startswith("no worker attribute"):
        trial.set_user_attr("worker", worker)
    engine = LocalSweep(sweep, url, "s")
    new = engine.run(lambda ctx: 1.0)
    first = engine.records()[0]
    if reaped:
        assert first.state == "FAIL" and first.error.startswith("interrupted: ") and len(new) == 3
    else:
        assert first.state == "RUNNING" and len(new) == 2  # it still holds its slot of the cap


def test_the_stop_hook_ends_a_run_before_its_next_trial(tmp_path):
    engine = LocalSweep(parse_sweep_config(RANDOM), _sqlite(tmp_path), "s")
    asked = []
    records = engine.run(lambda ctx: asked.append(ctx.number) or 1.0, stop=lambda: len(asked) >= 2)
    assert [r.number for r in records] == [0, 1]


def test_trial_log_lines_name_the_worker(tmp_path):
    from loguru import logger

    lines = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO")
    try:
        LocalSweep(parse_sweep_config({**RANDOM, "run_cap": 2}), _sqlite(tmp_path), "s", worker="w2").run(
            lambda ctx: 1.0
        )
    finally:
        logger.remove(sink)
    heads = [line.split(",")[0] for line in lines if line.startswith("trial")]
    assert heads == ["trial #0 w2 (1/2", "trial #1 w2 (2/2"]


# ---- the locks themselves -----------------------------------------------------------------------------------
