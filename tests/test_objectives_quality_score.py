"""quality_score on small made-up data: reference-like documents score higher, and the score is reproducible."""

import json

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.quality_score import population_probabilities, train_quality_classifier

GOOD = "the council approved a detailed report on water supply and will publish its findings in spring".split()
BAD = "lol omg @user !!! #win free prize txt now u r gr8 http".split()


def _docs(words, n, seed, length=30):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=length)) for _ in range(n)]


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.json"
    path.write_text(json.dumps([{"body": t} for t in _docs(GOOD, 25, seed=1)]))
    return str(path)


@pytest.fixture
def population():
    return Population(_docs(GOOD, 30, seed=2) + _docs(BAD, 30, seed=3))


def test_reference_like_documents_score_higher(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    assert objective.validate() == []
    objective.setup(population)
    good, bad = objective.score(population, np.arange(30)), objective.score(population, np.arange(30, 60))
    assert good > 0.6 and bad < 0.4
    mixed = objective.score(population, np.arange(60))
    assert bad < mixed < good
    assert np.all((objective.probabilities >= 0) & (objective.probabilities <= 1))


def test_score_is_the_mean_of_cached_probabilities(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    kept = np.array([0, 7, 45])
    assert objective.score(population, kept) == pytest.approx(objective.probabilities[kept].mean())
    objective.probabilities[:] = 0.25  # the score must come from the cache, not be recomputed
    assert objective.score(population, kept) == 0.25


def test_deterministic_and_seeded(reference, population):
    options = {"reference": reference, "text_key": "body"}
    runs = []
    for _ in range(2):
        objective = get_objective("quality_score", options)
        objective.setup(Population(population.texts))
        runs.append(objective.probabilities)
    assert np.array_equal(runs[0], runs[1])
    other = get_objective("quality_score", dict(options, seed=7))
    other.setup(Population(population.texts))
    assert not np.array_equal(runs[0], other.probabilities)


def test_a_new_population_is_set_up_on_first_score(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    small = Population(population.texts[:5])
    assert objective.score(small, np.arange(5)) == pytest.approx(objective.probabilities.mean())
    assert len(objective.probabilities) == 5


def test_sampled_negatives_are_not_penalised(reference, population):
    objective = get_objective("quality_score", {"reference": reference, "text_key": "body"})
    objective.setup(population)
    classifier = train_quality_classifier([t for t in _docs(GOOD, 25, seed=1)], population)
    sampled_good = [i for i in classifier.negatives if i < 30]
    assert sampled_good  # the test means something only if some good documents were drawn as negatives
    # A model scoring its own negatives would push them towards 0 (each random document is unique here).
    assert objective.probabilities[:30].min() > 0.5


def test_balanced_when_the_population_is_smaller_than_the_reference():
    good, bad = _docs(GOOD, 40, seed=4), _docs(BAD, 3, seed=5)
    population = Population(bad + good[:1])
    classifier = train_quality_classifier(good, population)
    assert sorted(classifier.negatives.tolist()) == [0, 1, 2, 3]
    assert sorted(classifier.negative_folds.tolist()) == [0, 0, 1, 1]
    assert len(classifier.models) == 2
    single = train_quality_classifier(good, Population(bad[:1]))
    assert len(single.models) == 1
    probabilities = population_probabilities(single, Population(bad[:1]))
    assert probabilities.shape == (1,) and 0 <= probabilities[0] <= 1
    with pytest.raises(ValueError):
        train_quality_classifier([], Population(bad))
