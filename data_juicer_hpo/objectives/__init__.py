"""Objectives that score the documents a sweep trial keeps; see :mod:`data_juicer_hpo.objectives.base`."""

from data_juicer_hpo.objectives.base import Objective, Population
from data_juicer_hpo.objectives.custom import CustomObjective
from data_juicer_hpo.objectives.downstream import DownstreamTask
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
    "CustomObjective",
    "DownstreamTask",
    "ModelLoss",
    "QualityScore",
    "Retention",
    "Synergy",
]
