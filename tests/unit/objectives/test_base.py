"""The objective base (objectives/base.py): the Population, and the contract every registered objective keeps."""

import gzip
import json
import math

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.base import as_indices

from tests.helpers.texts import BAD, GOOD, word_docs


def _docs(words, n, seed, length=40):
    """Sentences: the documents end with a full stop."""
    return [doc + "." for doc in word_docs(words, n, seed, length)]


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for text in _docs(GOOD, 30, seed=1):
            f.write(json.dumps({"text": text}) + "\n")
    return str(path)


@pytest.fixture
def population():
    return Population(_docs(GOOD, 20, seed=2) + _docs(BAD, 20, seed=3))


def test_as_indices_deduplicates_and_checks_the_range():
    assert as_indices([3, 1, 3], 5).tolist() == [1, 3]
    assert as_indices(np.array([], dtype=int), 0).tolist() == []
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        as_indices([5], 5)
    with pytest.raises(ValueError):
        as_indices([-1], 5)


@pytest.mark.parametrize("name", ["model_loss", "quality_score", "retention", "synergy"])
def test_every_objective_scores_empty_as_worst_and_others_finitely(name, reference, population):
    options = {"reference": reference, "synergy": {"quality_score": 1.0, "model_loss": -0.2, "retention": 0.5}}
    objective = get_objective(name, options)
    assert objective.validate() == []
    assert objective.goal in ("maximize", "minimize")
    objective.setup(population)
    worst = objective.worst()
    assert math.isfinite(worst)
    assert objective.score(population, np.array([], dtype=np.int64)) == worst
    for kept in (np.arange(len(population)), np.array([0]), np.arange(20, 40)):
        value = objective.score(population, kept)
        assert isinstance(value, float) and math.isfinite(value)
    # Everything kept is at least as good as nothing kept for each built-in objective on this data.
    best_direction = 1 if objective.goal == "maximize" else -1
    assert best_direction * (objective.score(population, np.arange(len(population))) - worst) > 0


@pytest.mark.parametrize("name", ["model_loss", "quality_score"])
def test_objectives_needing_a_reference_say_so(name):
    assert get_objective(name, {}).validate() == [f"auto_hpo.reference: required by objective {name}"]


def test_an_empty_population_scores_worst(reference):
    empty = Population([])
    for name in ("model_loss", "quality_score", "retention"):
        objective = get_objective(name, {"reference": reference})
        objective.setup(empty)
        assert objective.score(empty, []) == objective.worst()
