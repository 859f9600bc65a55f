"""Claims of a trial's place (engine/claims.py): one winner per key across processes, dead claims taken over, live
ones never."""

import json
import os
import subprocess
import sys
import textwrap
import time

import optuna
import pytest
from optuna.trial import TrialState

from data_juicer_hpo.engine.claims import TABLE, Claims, grid_claim, new_token, slot_claim
from data_juicer_hpo.engine.retry import Outage
from data_juicer_hpo.engine.storage import open_storage
from data_juicer_hpo.engine.workers import identity

from tests.helpers.pg_server import pg_url_fixture
from tests.helpers.runs import ROOT

pg_url = pg_url_fixture()


def _claims(url: str, study: str, grace: float = 60.0):
    storage = open_storage(url)
    study_id = optuna.create_study(storage=storage, study_name=study, load_if_exists=True)._study_id
    claims = Claims(storage, study_id, Outage("db"), grace)
    claims.ensure_table()
    return storage, study_id, claims


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_key_is_taken_once_and_a_failed_trial_frees_it(tmp_path):
    storage, study_id, claims = _claims(f"sqlite:///{tmp_path / 'db.sqlite'}", "s")
    claims.ensure_table()  # twice: nothing happens
    first, second = new_token(), new_token()
    assert claims.take([slot_claim(1), slot_claim(2)], first, identity("w1")) == slot_claim(1)
    assert claims.take([slot_claim(1), slot_claim(2)], second, identity("w2")) == slot_claim(2)
    assert claims.held() == {slot_claim(1), slot_claim(2)}  # unbound, but their worker (this process) is asking
    trial_id = storage.create_new_trial(study_id)
    assert claims.bind(first, trial_id)
    claims.release(second)  # an ask that stopped before its trial existed
    assert claims.held() == {slot_claim(1)}
    storage.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
    assert claims.take([slot_claim(1)], new_token(), identity()) is None  # a finished trial keeps its place
    failed = storage.create_new_trial(study_id)
    token = new_token()
    assert claims.take([grid_claim("a=1")], token, identity()) == grid_claim("a=1")
    assert claims.bind(token, failed)
    storage.set_trial_state_values(failed, TrialState.FAIL)
    again = new_token()
    assert claims.take([grid_claim("a=1")], again, identity()) == grid_claim("a=1")  # a failed trial's is free
    assert not claims.bind(token, failed)  # the old token holds nothing any more
    assert claims.bind(again, storage.create_new_trial(study_id))
    assert len(grid_claim("x" * 500)) < 255


def test_an_unbound_claim_is_live_while_its_worker_may_still_be_asking(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _, _, claims = _claims(url, "s", grace=1.0)
    me = identity("w1")
    dead_here = {**me, "pid": _dead_pid()}
    elsewhere = {**me, "pid": 1, "node": "another-host|boot|pid:[1]"}
    assert claims.take(["dead"], new_token(), dead_here) == "dead"
    assert claims.take(["far"], new_token(), elsewhere) == "far"
    stale = new_token()
    assert claims.take(["mine"], stale, me) == "mine"
    claims.done(stale)  # this process gave it up without releasing it (an error between claim and trial)
    assert claims.held() == {"far"}  # a dead worker here, a left-over of this process: free at once
    assert claims.take(["dead", "mine"], new_token(), me) == "dead"
    time.sleep(1.2)  # another machine's: free once older than the grace period
    assert claims.take(["far"], new_token(), me) == "far"
    assert claims.take(["mine"], new_token(), me) == "mine"


CONTENDER = """
import json, os, random, sys, time
from data_juicer_hpo.engine.claims import Claims, new_token
from data_juicer_hpo.engine.retry import Outage
from data_juicer_hpo.engine.storage import open_storage
from data_juicer_hpo.engine.workers import identity
url, study_id, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
claims = Claims(open_storage(url), study_id, Outage("db"), 60)
claims.held()  # connected
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
keys = [f"k{i}" for i in range(40)]
random.Random(os.getpid()).shuffle(keys)  # each its own order: they collide on keys others are taking
won = []
for key in keys:  # a pause between claims: on a loaded machine one process could otherwise take all 40 in its slice
    won.append(claims.take([key], new_token(), identity()))
    time.sleep(0.01)
print(json.dumps([w for w in won if w]))
"""


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_processes_racing_for_the_same_keys_each_win_different_ones(tmp_path, backend, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'db.sqlite'}"
    _, study_id, _ = _claims(url, f"race-{time.monotonic_ns()}")
    script = tmp_path / "contender.py"
    script.write_text(textwrap.dedent(CONTENDER))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    go = tmp_path / "go"
    racers = [
        subprocess.Popen([sys.executable, str(script), url, str(study_id), str(go)], env=env, stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.ready.*"))) < 4:  # all four connected and waiting
        assert time.monotonic() < deadline and all(r.poll() is None for r in racers)
        time.sleep(0.05)
    go.touch()
    won = [json.loads(r.communicate(timeout=120)[0]) for r in racers]
    assert all(r.returncode == 0 for r in racers)
    flat = [key for keys in won for key in keys]
    assert sorted(flat) == sorted(f"k{i}" for i in range(40))  # every key exactly once over all four
    assert sum(1 for keys in won if keys) >= 2  # they really raced


def test_the_table_is_made_once_beside_optunas(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _claims(url, "a")
    _claims(url, "b")
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert TABLE in tables and "trials" in tables
