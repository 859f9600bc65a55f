"""``python -m data_juicer_hpo.label``: which documents of a recipe's data to label for the labels objective."""

from data_juicer_hpo.label.command import OUTPUT, main
from data_juicer_hpo.label.draw import Mark, Pick, Statistic, draw

__all__ = ["OUTPUT", "main", "Mark", "Pick", "Statistic", "draw"]
