"""Fixed training budgets (objectives/budget.py): the keys' problems, the draws (sizes, seeds, whole documents up to
a token budget) and the mean and standard error a budgeted objective reports, recomputed with numpy."""

import math

import numpy as np
import pytest

from data_juicer_hpo.objectives import Objective, Population
from data_juicer_hpo.objectives.budget import Budget, Budgeted, draws, parse_budget
from data_juicer_hpo.objectives.kept import COUNTS


@pytest.mark.parametrize(
    "section, expected",
    [
        ({"budget": {"samples": 0}}, "auto_hpo.budget.samples: must be an integer >= 1 (got 0)"),
        ({"budget": {"docs": 10}}, "auto_hpo.budget: must be one of {samples: 2000} or {tokens: 500000}"),
        ({"budget": {"samples": 5, "tokens": 9}}, "auto_hpo.budget: must be one of"),
        ({"budget": {"tokens": 100}, "repeats": 0}, "auto_hpo.repeats: must be an integer >= 1 (got 0)"),
        ({"repeats": 3}, "auto_hpo.repeats: needs auto_hpo.budget"),
    ],
)
def test_problems(section, expected):
    budget, problems = parse_budget(section)
    assert budget is None and len(problems) == 1 and problems[0].startswith(expected), problems


def test_a_budget_and_its_constraint():
    assert parse_budget({}) == (None, [])
    budget, problems = parse_budget({"budget": {"tokens": 500}, "repeats": 3, "seed": 4})
    assert problems == [] and budget == Budget("tokens", 500, 3, 4)
    assert budget.constraint == "kept_tokens >= 500"
    assert Budget("samples", 20).constraint == "kept >= 20"


def test_sample_draws():
    kept = np.arange(0, 300, 3)
    budget = Budget("samples", 40, repeats=4, seed=1)
    found = draws(kept, budget)
    assert len(found) == 4
    for d in found:
        assert len(d) == 40 and len(set(d.tolist())) == 40 and set(d.tolist()) <= set(kept.tolist())
        assert np.all(np.diff(d) > 0)
    assert len({tuple(d) for d in found}) == 4  # a fresh draw per repeat
    again = draws(kept, budget)
    assert all(np.array_equal(a, b) for a, b in zip(found, again))  # the same for every trial keeping the same
    assert draws(kept[:39], budget) == []  # less than the budget: no draw at all


def test_token_draws_take_whole_documents_until_the_budget():
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 50, size=200)
    kept = np.arange(200)
    budget = Budget("tokens", 1000, repeats=5, seed=2)
    for d in draws(kept, budget, counts):
        total = counts[d].sum()
        assert total >= 1000
        assert total - counts[d].max() < 1000  # the last document added crossed the budget: no more than needed
    assert draws(kept[:10], Budget("tokens", int(counts[:10].sum()) + 1), counts) == []


class _MeanLength(Objective):
    name = "model_loss"  # stands for a trained objective
    goal = "minimize"

    def score(self, population, kept):
        return float(np.mean([len(population.texts[i]) for i in kept]))

    def worst(self):
        return 99.0


def test_mean_and_standard_error_over_the_draws():
    texts = ["x" * (1 + i % 17) for i in range(120)]
    population = Population(texts)
    budget = Budget("samples", 25, repeats=6, seed=3)
    objective = Budgeted(_MeanLength({}), budget)
    kept = np.arange(0, 120, 2)
    got = objective.score_details(population, kept)
    per_draw = [np.mean([len(texts[i]) for i in d]) for d in draws(kept, budget)]
    assert got["model_loss"] == pytest.approx(np.mean(per_draw))
    assert got["model_loss_se"] == pytest.approx(np.std(per_draw, ddof=1) / math.sqrt(6))
    assert objective.score(population, kept) == got["model_loss"]
    assert objective.score_details(population, kept[:24]) == {"model_loss": 99.0}  # too little: worst, no se
    assert objective.name == "model_loss" and objective.goal == "minimize"


def test_a_token_budget_counts_tokens_once_per_population():
    population = Population(["a b c", "d e", "f g h i", "j"] * 10)
    objective = Budgeted(_MeanLength({}), Budget("tokens", 12, repeats=2))
    objective.setup(population)
    assert population.cache[COUNTS].tolist() == [3, 2, 4, 1] * 10
    for d in objective.draws(population, np.arange(40)):
        assert population.cache[COUNTS][d].sum() >= 12
