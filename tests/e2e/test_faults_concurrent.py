"""Concurrent sweeps through database restarts (issue 20): three ``dj-process`` runs with two local workers each share
one 24-point grid study on PostgreSQL while the server is restarted every 2-2.5 s. Every grid point is evaluated
exactly once, no run fails, no traceback.

One repetition runs in ``make test``; ``make test-faults`` runs 20 (``DJ_HPO_STRESS_REPEATS``).
"""

import json
import os
from collections import Counter

import optuna
import pytest

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.faults import OBJECTIVE, finish, marks, no_traceback, start
from tests.helpers.pg_server import restarting
from tests.helpers.recipes import length_recipe

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPEATS = int(os.environ.get("DJ_HPO_STRESS_REPEATS", "1"))
GRID = {
    "method": "grid",
    "metric": {"name": "kept", "goal": "maximize"},
    "parameters": {
        "text_length_filter.min_len": {"values": [1, 5, 10, 20]},
        "text_length_filter.max_len": {"values": [1000, 2000, 3000, 4000, 5000, 6000]},
    },
}


def _recipes(tmp_path, url: str, study: str, n: int):
    (tmp_path / "faultobj.py").write_text(OBJECTIVE)
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(150))
    sweep = write_yaml(tmp_path / "sweep.yaml", {**GRID, "name": study})
    return [
        length_recipe(
            tmp_path / f"recipe{i}.yaml",
            data,
            tmp_path / f"out{i}" / "kept.jsonl",
            mode="wandb",
            backend="local",
            hpo_config=str(sweep),
            storage=url,
            objective="faultobj:slow",
            output_dir=str(tmp_path / f"hpo{i}"),
            n_workers=2,
            process_best=False,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("repetition", range(REPEATS))
def test_three_sweeps_of_two_workers_through_restarts_evaluate_each_point_once(tmp_path, restartable_pg, repetition):
    url, server = restartable_pg
    study = f"stress-{tmp_path.name}"[:60]
    recipes = _recipes(tmp_path, url, study, 3)
    with restarting(server, seed=repetition) as restarts:
        runs = [
            start(tmp_path, recipe, sleep=0.8, env={"WANDB_MODE": "disabled"}, name=f"-{i}")
            for i, recipe in enumerate(recipes)
        ]
        results = [finish(run, timeout=600) for run in runs]
    for code, _, err in results:
        assert code == 0, (err[-3000:], restarts)
        no_traceback(err)
    assert len(restarts) >= 3  # the sweeps really ran through restarts
    # the objective ran 24 times over the three runs (no point twice), and once more in each run for summary.json's
    # score of keeping every document
    assert marks(tmp_path) == 24 + 3
    trials = optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)
    assert Counter(t.state.name for t in trials) == {"COMPLETE": 24}
    points = Counter(json.dumps(t.user_attrs["params"], sort_keys=True) for t in trials)
    assert len(points) == 24 and set(points.values()) == {1}
    assert len({json.loads(line)["pid"] for line in (tmp_path / "marks").read_text().splitlines()}) >= 4
