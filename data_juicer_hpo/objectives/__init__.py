"""Objectives that score the documents a sweep trial keeps; see :mod:`data_juicer_hpo.objectives.base`."""

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.budget import Budget, Budgeted, parse_budget
from data_juicer_hpo.objectives.custom import CustomObjective
from data_juicer_hpo.objectives.downstream import DownstreamTask
from data_juicer_hpo.objectives.kept import Kept, KeptTokens
from data_juicer_hpo.objectives.labels import Labels, LabelsObjective, LabelsPrecision, LabelsRecall
from data_juicer_hpo.objectives.model_loss import ModelLoss
from data_juicer_hpo.objectives.quality_score import QualityScore
from data_juicer_hpo.objectives.registry import (
    get_objective,
    objective_names,
    register_objective,
)
from data_juicer_hpo.objectives.retention import Retention
from data_juicer_hpo.objectives.synergy import Synergy

__all__ = [
    "Objective",
    "Population",
    "get_objective",
    "objective_names",
    "register_objective",
    "Budget",
    "Budgeted",
    "parse_budget",
    "CustomObjective",
    "DownstreamTask",
    "Kept",
    "KeptTokens",
    "Labels",
    "LabelsObjective",
    "LabelsPrecision",
    "LabelsRecall",
    "ModelLoss",
    "QualityScore",
    "Retention",
    "Synergy",
]
