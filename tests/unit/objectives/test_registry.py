"""The objective registry (objectives/registry.py): built-in names, unknown names, custom specs, and the checks made
when a class registers."""

import pytest

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.objectives import CustomObjective, Objective, get_objective, objective_names
from data_juicer_hpo.objectives.registry import register_objective


def test_builtin_names_are_registered():
    assert objective_names() == [
        "downstream_task",
        "kept",
        "kept_tokens",
        "labels",
        "labels_precision",
        "labels_recall",
        "model_loss",
        "quality_score",
        "retention",
        "synergy",
    ]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(AutoHpoError) as info:
        get_objective("foo", {})
    assert info.value.problems == [
        "auto_hpo.objective: unknown objective 'foo' "
        "(valid: downstream_task, kept, kept_tokens, labels, labels_precision, labels_recall, model_loss, "
        "quality_score, retention, synergy, or 'package.module:function')"
    ]


def test_a_spec_with_a_colon_is_a_custom_objective():
    objective = get_objective("some.module:function", {})
    assert isinstance(objective, CustomObjective)
    assert objective.goal is None


def test_registration_checks_the_class():
    class NoGoal(Objective):
        name = "no_goal"

        def score(self, population, kept):
            return 0.0

        def worst(self):
            return 0.0

    with pytest.raises(ValueError, match="goal must be one of maximize, minimize"):
        register_objective(NoGoal)

    class Clash(NoGoal):
        name = "retention"
        goal = "maximize"

    with pytest.raises(ValueError, match="'retention' is taken"):
        register_objective(Clash)
    with pytest.raises(TypeError):
        register_objective(object)
    assert "no_goal" not in objective_names()
