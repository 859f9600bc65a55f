"""synergy: a weighted sum of objectives, with every problem of its mapping reported at once."""

import json
import math

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective

from tests.helpers.texts import BAD, GOOD, word_docs


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in word_docs(GOOD, 20, seed=1)))
    return str(path)


def test_score_is_the_weighted_sum(reference):
    weights = {"quality_score": 1.0, "model_loss": -0.2, "retention": 0.5}
    objective = get_objective("synergy", {"reference": reference, "synergy": weights})
    assert objective.validate() == [] and objective.goal == "maximize"
    population = Population(word_docs(GOOD, 20, seed=2) + word_docs(BAD, 20, seed=3))
    objective.setup(population)
    kept = np.arange(5, 30)
    parts = {name: get_objective(name, {"reference": reference}) for name in weights}
    expected = sum(w * parts[name].score(population, kept) for name, w in weights.items())
    assert objective.score(population, kept) == pytest.approx(expected)
    assert objective.component_scores(population, kept)["retention"] == pytest.approx(25 / 40)
    assert objective.worst() == pytest.approx(1.0 * 0.0 - 0.2 * math.log(2**18) + 0.5 * 0.0)
    assert objective.score(population, []) == objective.worst()
    # With these signs keeping the good half beats keeping the bad half.
    assert objective.score(population, np.arange(20)) > objective.score(population, np.arange(20, 40))


def test_parts_stream_the_population_without_holding_its_tokens(reference):
    """Each part tokenizes the population a chunk at a time: no token streams are left in the shared cache, and a
    second setup gives the same scores."""
    objective = get_objective("synergy", {"reference": reference, "synergy": {"quality_score": 1, "model_loss": -1}})
    population = Population(word_docs(GOOD, 10, seed=2) + word_docs(BAD, 10, seed=3))
    objective.setup(population)
    first = objective.component_scores(population, np.arange(0, 20, 3))
    assert "tokens.streams" not in population.cache
    objective.setup(population)
    assert objective.component_scores(population, np.arange(0, 20, 3)) == first


VALID = (
    "downstream_task, kept, kept_tokens, labels, labels_precision, labels_recall, model_loss, quality_score, "
    "retention"
)


@pytest.mark.parametrize(
    "mapping, expected",
    [
        (None, ["auto_hpo.synergy: required by objective synergy, a mapping {objective: weight} such as"]),
        ({}, ["auto_hpo.synergy: required by objective synergy"]),
        ([("retention", 1)], ["auto_hpo.synergy: must be a mapping {objective: weight}"]),
        (
            {"synergy": 1, "foo": 2, "retention": True, "quality_score": "1", "model_loss": float("nan")},
            [
                f"auto_hpo.synergy.synergy: synergy cannot contain itself (valid: {VALID})",
                f"auto_hpo.synergy.foo: unknown objective 'foo' (valid: {VALID})",
                "auto_hpo.synergy.retention: weight must be a finite number (got True)",
                "auto_hpo.synergy.quality_score: weight must be a finite number (got '1')",
                "auto_hpo.synergy.model_loss: weight must be a finite number (got nan)",
            ],
        ),
    ],
)
def test_mapping_problems(mapping, expected):
    problems = get_objective("synergy", {"synergy": mapping}).validate()
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start)


def test_part_problems_are_reported_once():
    parts = {"quality_score": 1, "model_loss": -1, "retention": 1}
    assert get_objective("synergy", {"synergy": parts}).validate() == [
        "auto_hpo.reference: required by objective quality_score",
        "auto_hpo.reference: required by objective model_loss",
    ]
    # The same problem seen by two parts (they share the options) is one line.
    absent = get_objective("synergy", {"synergy": parts, "reference": "absent.jsonl"}).validate()
    assert absent == ["auto_hpo.reference: file not found (got 'absent.jsonl')"]
    assert get_objective("synergy", {"synergy": {"retention": 2}}).validate() == []
