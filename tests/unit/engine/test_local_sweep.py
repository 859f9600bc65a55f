"""The local sweep engine on Optuna with SQLite storage: sampling, grids, resume, failures, pruning."""

import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest

from data_juicer_hpo.engine import LocalSweep, TrialPruned, grid_points, parse_sweep_config
from data_juicer_hpo.errors import AutoHpoError

from tests.helpers.runs import ROOT


def make_sweep(method="random", parameters=None, **keys):
    raw = {"method": method, "metric": {"name": "score", "goal": "maximize"}, **keys}
    raw["parameters"] = parameters or {"x": {"min": 0.0, "max": 1.0}}
    return parse_sweep_config(raw)


def db(tmp_path, name="sweep.db"):
    return f"sqlite:///{tmp_path / name}"


def test_random_sweep_samples_every_distribution_exactly(tmp_path):
    params = {
        "i": {"min": 1, "max": 4},
        "x": {"distribution": "log_uniform_values", "min": 1.0, "max": 100.0},
        "c": {"values": ["a", "b"], "probabilities": [0.25, 0.75]},
        "k": {"value": "constant"},
    }
    sweep = make_sweep(parameters=params, run_cap=200)
    seen = []

    def train(ctx):
        seen.append(dict(ctx.params))
        return 0.0

    records = LocalSweep(sweep, db(tmp_path), "s", seed=7).run(train)
    assert [r.params for r in records] == seen and len(seen) == 200
    for name, spec in sweep.parameters.items():
        assert all(spec.support_contains(p[name]) for p in seen)
    counts = Counter(p["i"] for p in seen)
    assert sum((counts[k] - 50) ** 2 / 50 for k in range(1, 5)) < 25  # chi-square, df=3
    assert abs(sum(p["c"] == "b" for p in seen) / 200 - 0.75) < 4 * math.sqrt(0.75 * 0.25 / 200)
    assert abs(sum(p["x"] < 10.0 for p in seen) / 200 - 0.5) < 4 * 0.5 / math.sqrt(200)  # median = geometric mean


def test_seed_repeats_a_sweep_and_a_resume_does_not_replay_its_draws(tmp_path):
    sweep = make_sweep(parameters={"x": {"min": 0.0, "max": 1.0}, "i": {"min": 0, "max": 1000}})
    first = LocalSweep(sweep, db(tmp_path, "a.db"), "s", seed=3).run(lambda ctx: 0.0, n_trials=6)
    LocalSweep(sweep, db(tmp_path, "b.db"), "s", seed=3).run(lambda ctx: 0.0, n_trials=3)
    resumed = LocalSweep(sweep, db(tmp_path, "b.db"), "s", seed=3)
    resumed.run(lambda ctx: 0.0, n_trials=6)
    assert [r.params for r in resumed.records()] == [r.params for r in first]
    assert len({r.params["x"] for r in first}) == 6


def test_bayes_is_seeded_and_returns_the_user_values(tmp_path):
    params = {"c": {"values": [[1], {"a": 2}, "s"]}, "x": {"distribution": "q_uniform", "min": 0, "max": 10}}
    sweep = make_sweep(method="bayes", parameters=params, run_cap=13)

    def train(ctx):
        assert ctx.params["c"] in ([1], {"a": 2}, "s") and type(ctx.params["x"]) is int
        return -abs(ctx.params["x"] - 7) + (ctx.params["c"] == "s")

    runs = [LocalSweep(sweep, db(tmp_path, f"{i}.db"), "s", seed=11).run(train) for i in range(2)]
    assert [r.params for r in runs[0]] == [r.params for r in runs[1]]
    assert all(r.state == "COMPLETE" for r in runs[0])


def test_grid_covers_every_point_once_also_when_resumed_midway(tmp_path):
    sweep = make_sweep(method="grid", parameters={"a": {"values": [1, True, "z"]}, "b": {"min": 0, "max": 1}})
    calls = []

    def train(ctx):
        calls.append(dict(ctx.params))
        return 1.0

    assert len(LocalSweep(sweep, db(tmp_path), "g").run(train, n_trials=4)) == 4
    resumed = LocalSweep(sweep, db(tmp_path), "g")
    assert len(resumed.run(train)) == 2
    assert resumed.run(train) == []
    expected = grid_points(sweep)
    assert calls == expected  # each point once, in order, 1 and True kept apart
    assert [r.params for r in resumed.records()] == expected
    assert [type(p["a"]) for p in calls[::2]] == [int, bool, str]


def test_grid_retries_a_failed_point_in_the_next_run_only(tmp_path):
    sweep = make_sweep(method="grid", parameters={"a": {"values": [1, 2, 3]}})
    flaky = {"fail": True}

    def train(ctx):
        if ctx.params["a"] == 2 and flaky["fail"]:
            raise ValueError("flaky")
        return float(ctx.params["a"])

    first = LocalSweep(sweep, db(tmp_path), "g").run(train)
    assert [(r.params["a"], r.state) for r in first] == [(1, "COMPLETE"), (2, "FAIL"), (3, "COMPLETE")]
    flaky["fail"] = False
    second = LocalSweep(sweep, db(tmp_path), "g").run(train)
    assert [(r.params["a"], r.state) for r in second] == [(2, "COMPLETE")]


@pytest.mark.parametrize("goal, best_x", [("maximize", 0.9), ("minimize", 0.1)])
def test_best_honours_the_goal(tmp_path, goal, best_x):
    sweep = parse_sweep_config(
        {"method": "grid", "metric": {"name": "m", "goal": goal}, "parameters": {"x": {"values": [0.5, 0.1, 0.9]}}}
    )
    engine = LocalSweep(sweep, db(tmp_path), "s")
    engine.run(lambda ctx: ctx.params["x"])
    assert engine.best().params == {"x": best_x} and engine.best().value == best_x


def test_resume_keeps_completed_trials_and_run_cap_counts_them(tmp_path, log_lines):
    sweep = make_sweep(run_cap=5)
    calls = []

    def train(ctx):
        calls.append(ctx.number)
        return ctx.params["x"]

    assert len(LocalSweep(sweep, db(tmp_path), "s", seed=1).run(train, n_trials=3)) == 3
    assert len(LocalSweep(sweep, db(tmp_path), "s", seed=1).run(train)) == 2
    again = LocalSweep(sweep, db(tmp_path), "s", seed=1)
    assert again.run(train) == []
    assert calls == [0, 1, 2, 3, 4]
    assert [(r.number, r.state) for r in again.records()] == [(n, "COMPLETE") for n in range(5)]
    # progress counts toward this call's cap: n_trials=3 first, then run_cap=5
    progress = [line.split(",")[0] for line in log_lines]  # Optuna's number, then the place under the cap
    assert progress == ["trial #0 (1/3", "trial #1 (2/3", "trial #2 (3/3", "trial #3 (4/5", "trial #4 (5/5"]
    assert re.match(r"trial #0 \(1/3, \d\d:\d\d elapsed, ETA \d\d:\d\d\): score=", log_lines[0])
    assert " best=" in log_lines[0] and " (#" in log_lines[0]
    assert "ETA" not in log_lines[2] and "ETA" not in log_lines[4]  # the call's last trial: nothing left
    assert " params={'x': " in log_lines[0]


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tmp_path, log_lines):
    def train(ctx):
        if ctx.number == 1:
            raise RuntimeError("disk full\nsecond line")
        return 1.0

    engine = LocalSweep(make_sweep(run_cap=3), db(tmp_path), "s", seed=0)
    records = engine.run(train)
    assert [r.state for r in records] == ["COMPLETE", "FAIL", "COMPLETE"]
    failed = engine.records()[1]
    assert failed.error == "RuntimeError: disk full\nsecond line" and 0 <= failed.params["x"] < 1
    (line,) = [line for line in log_lines if "failed" in line]
    assert "RuntimeError: disk full | second line" in line and f"params={failed.params}" in line
    # failures used up this call's attempts; the next call retries the missing one
    assert [r.state for r in LocalSweep(make_sweep(run_cap=3), db(tmp_path), "s").run(train)] == ["COMPLETE"]


def test_catch_false_reraises_after_recording_the_failure(tmp_path):
    engine = LocalSweep(make_sweep(run_cap=3), db(tmp_path), "s")
    with pytest.raises(ZeroDivisionError):
        engine.run(lambda ctx: 1 / 0, catch=False)
    assert [(r.state, r.error) for r in engine.records()] == [("FAIL", "ZeroDivisionError: division by zero")]


def test_a_train_function_must_return_a_number(tmp_path):
    engine = LocalSweep(make_sweep(run_cap=2), db(tmp_path), "s")
    records = engine.run(lambda ctx: None if ctx.number == 0 else float("nan"))
    assert [r.state for r in records] == ["FAIL", "FAIL"]
    assert records[0].error == "train returned None, not a number"


def test_an_unbounded_local_sweep_is_refused(tmp_path):
    engine = LocalSweep(make_sweep(), db(tmp_path), "s")
    with pytest.raises(AutoHpoError) as info:
        engine.run(lambda ctx: 0.0)
    assert info.value.problems[0].startswith("hpo_config.run_cap: ")


def test_the_metric_target_ends_the_sweep(tmp_path):
    sweep = parse_sweep_config(
        {"method": "grid", "metric": {"name": "m", "target": 2}, "parameters": {"x": {"values": [5, 2, 1, 0]}}}
    )
    engine = LocalSweep(sweep, db(tmp_path), "s")
    assert [r.params["x"] for r in engine.run(lambda ctx: ctx.params["x"])] == [5, 2]
    assert LocalSweep(sweep, db(tmp_path), "s").run(lambda ctx: ctx.params["x"]) == []


def test_hyperband_prunes_bad_trials_and_spares_good_ones(tmp_path):
    sweep = make_sweep(
        parameters={"x": {"values": [0, 1, 2, 3, 4, 5]}},
        early_terminate={"type": "hyperband", "max_iter": 27, "s": 2},
        run_cap=60,
    )

    def train(ctx):
        assert ctx.rungs == [3, 9, 27]
        good = ctx.params["x"] >= 3
        for step in ctx.rungs:
            value = (1.0 if good else 0.1) * step / 27
            ctx.report(value, step)
            if ctx.should_prune():
                if ctx.params["x"] % 2:  # both ways of stopping: raise, or return early
                    raise TrialPruned()
                return value
        return value

    engine = LocalSweep(sweep, db(tmp_path), "s", seed=5)
    records = engine.run(train)
    pruned = [r for r in records if r.state == "PRUNED"]
    assert len(pruned) >= 10
    assert all(r.params["x"] < 3 for r in pruned)
    assert {r.params["x"] % 2 for r in pruned} == {0, 1}
    assert all(r.value is not None and r.value <= 0.1 for r in pruned)  # the last reported value
    assert engine.best().value == 1.0


def test_rungs_are_empty_without_early_terminate(tmp_path):
    seen = []
    LocalSweep(make_sweep(run_cap=1), db(tmp_path), "s").run(lambda ctx: seen.append(ctx.rungs) or 0.0)
    assert seen == [[]]


def test_a_non_integer_eta_is_refused_by_the_local_engine(tmp_path):
    sweep = make_sweep(early_terminate={"type": "hyperband", "min_iter": 1, "max_iter": 9, "eta": 2.5})
    with pytest.raises(AutoHpoError) as info:
        LocalSweep(sweep, db(tmp_path), "s")
    assert info.value.problems[0].startswith("hpo_config.early_terminate.eta: ")


def test_a_study_made_for_another_sweep_is_not_resumed(tmp_path):
    LocalSweep(make_sweep(run_cap=1), db(tmp_path), "s").run(lambda ctx: 0.0)
    other = make_sweep(parameters={"x": {"min": 0.0, "max": 2.0}})
    with pytest.raises(AutoHpoError) as info:
        LocalSweep(other, db(tmp_path), "s")
    assert "was made for another method, goal, parameters" in str(info.value)


WORKER = """
import sys, time
from data_juicer_hpo.engine import LocalSweep, parse_sweep_config
sweep = parse_sweep_config({{"method": "random", "run_cap": 3, "parameters": {{"x": {{"min": 0.0, "max": 1.0}}}}}})
engine = LocalSweep(sweep, {url!r}, "s", seed=0, heartbeat_interval=1, grace_period=1)
def train(ctx):
    open({marker!r}, "w").close()
    time.sleep(120)
engine.run(train)
"""


def test_a_trial_left_running_by_a_killed_process_is_failed_on_resume(tmp_path):
    url, marker = db(tmp_path), str(tmp_path / "started")
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER.format(url=url, marker=marker)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(marker):
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start its trial"
            time.sleep(0.1)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    sweep = parse_sweep_config({"method": "random", "run_cap": 3, "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    engine = LocalSweep(sweep, url, "s", seed=0, heartbeat_interval=1, grace_period=1)
    assert [r.state for r in engine.records()] == ["RUNNING"]
    time.sleep(2.5)  # let its last heartbeat age past the grace period (SQLite keeps whole seconds)
    new = engine.run(lambda ctx: 0.5)
    states = [(r.number, r.state) for r in engine.records()]
    assert states == [(0, "FAIL"), (1, "COMPLETE"), (2, "COMPLETE"), (3, "COMPLETE")]
    assert len(new) == 3 and 0 <= engine.records()[0].params["x"] < 1


# ---- storage URLs -------------------------------------------------------------------------------------------
