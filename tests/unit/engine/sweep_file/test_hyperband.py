"""W&B's hyperband early termination as plain data (engine/sweep_file/hyperband.py): its rungs and problems."""

import pytest

from data_juicer_hpo.engine import parse_sweep_config
from data_juicer_hpo.engine.sweep_file.hyperband import Hyperband

from tests.helpers.sweep_files import minimal, problems_of


@pytest.mark.parametrize(
    "raw, max_resource, rungs",
    [
        ({"max_iter": 27, "s": 2}, None, [3, 9, 27]),
        ({"max_iter": 27, "s": 2, "eta": 3}, 81, [3, 9, 27]),  # max_iter wins, as in W&B
        ({"max_iter": 30, "s": 2}, None, [3, 10, 30]),
        ({"max_iter": 8, "s": 5, "eta": 2}, None, [1, 2, 4, 8]),  # bands below 1 are dropped
        ({"min_iter": 1}, 27, [1, 3, 9, 27]),
        ({"min_iter": 2, "eta": 2}, 20, [2, 4, 8, 16, 20]),
        ({"min_iter": 3, "max_iter": 27}, None, [3, 9, 27]),
    ],
)
def test_hyperband_rungs(raw, max_resource, rungs):
    sweep = parse_sweep_config(minimal(metric={"name": "m"}, early_terminate={"type": "hyperband", **raw}))
    assert sweep.hyperband.rungs(max_resource) == rungs


def test_hyperband_min_iter_needs_a_max_resource_for_rungs():
    with pytest.raises(ValueError):
        Hyperband(min_iter=1).rungs()


def test_hyperband_problems():
    et = {"type": "hyperbnd", "min_iter": 0, "eta": 1, "strict": "yes", "extra": 1}
    problems = problems_of(minimal(metric={"name": "m"}, early_terminate=et))
    assert [p.split(":")[0] for p in problems] == [
        f"hpo_config.early_terminate.{k}" for k in ("extra", "type", "min_iter", "eta", "strict")
    ]
    no_band = {"type": "hyperband", "max_iter": 2, "s": 1}
    (problem,) = problems_of(minimal(metric={"name": "m"}, early_terminate=no_band))
    assert problem.startswith("hpo_config.early_terminate.max_iter: must be >= eta")
