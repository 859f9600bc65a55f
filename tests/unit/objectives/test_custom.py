"""Custom objectives given as 'package.module:function'."""

import math
import sys
import textwrap

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective

MODULE = "dj_hpo_test_user_objectives"


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent("""
            NOT_CALLABLE = 3

            def mean_length(dataset, cfg):
                texts = [row["text"] for row in dataset]
                return sum(map(len, texts)) / len(texts) + (cfg or {}).get("bonus", 0)

            def infinite(dataset, cfg):
                return float("inf")

            def text(dataset, cfg):
                return "high"
            """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield MODULE
    sys.modules.pop(MODULE, None)


def test_scores_the_kept_samples_without_a_dataset(user_module):
    objective = get_objective(f"{user_module}:mean_length", {})
    assert objective.validate() == []
    population = Population(["a", "bbb", "ccccc"], cfg={"bonus": 10})
    assert objective.score(population, np.array([0, 2])) == 13.0
    assert objective.goal is None and objective.worst() == math.inf


def test_scores_a_selection_of_the_dataset(user_module):
    datasets = pytest.importorskip("datasets")
    texts = ["a", "bbb", "ccccc"]
    population = Population(texts, dataset=datasets.Dataset.from_dict({"text": texts, "n": [1, 2, 3]}))
    objective = get_objective(f"{user_module}:mean_length", {"goal": "maximize"})
    assert objective.score(population, np.array([1, 2])) == 4.0
    assert objective.goal == "maximize" and objective.worst() == -math.inf
    assert objective.score(population, []) == -math.inf


@pytest.mark.parametrize("function, kind", [("infinite", "inf"), ("text", "'high'")])
def test_a_bad_return_value_fails_the_trial(user_module, function, kind):
    objective = get_objective(f"{user_module}:{function}", {})
    with pytest.raises(ValueError, match=f"must return a finite number, but returned {kind}"):
        objective.score(Population(["x"]), [0])


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("no_such_pkg_xyz.mod:f", "auto_hpo.objective: cannot import module 'no_such_pkg_xyz.mod' of"),
        (f"{MODULE}:absent", f"auto_hpo.objective: module '{MODULE}' has no attribute 'absent'"),
        (f"{MODULE}:NOT_CALLABLE", f"auto_hpo.objective: '{MODULE}:NOT_CALLABLE' is not callable (it is a int)"),
        ("path/to/file.py:f", "auto_hpo.objective: custom objective must be written 'package.module:function'"),
        (f"{MODULE}:", "auto_hpo.objective: custom objective must be written 'package.module:function'"),
    ],
)
def test_spec_problems(user_module, spec, expected):
    problems = get_objective(spec, {}).validate()
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_an_error_inside_the_user_module_is_reported(tmp_path, monkeypatch):
    (tmp_path / "dj_hpo_test_broken.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    problems = get_objective("dj_hpo_test_broken:f", {}).validate()
    assert problems == [
        "auto_hpo.objective: cannot import module 'dj_hpo_test_broken' of 'dj_hpo_test_broken:f' "
        "(RuntimeError: boom)"
    ]


def test_goal_option_is_checked(user_module):
    problems = get_objective(f"{user_module}:mean_length", {"goal": "up"}).validate()
    assert problems == ["auto_hpo.goal: must be one of maximize, minimize (got 'up')"]
