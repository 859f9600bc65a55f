"""Data: loading a recipe's dataset (and a mixture's sources) and reaching it on each Data-Juicer executor through
one interface, :class:`~data_juicer_hpo.data.access.DataAccess`."""

from data_juicer_hpo.data.access import DataAccess
from data_juicer_hpo.data.local import LocalData
from data_juicer_hpo.data.ray_data import RayData, ray_stats_rows

__all__ = ["DataAccess", "LocalData", "RayData", "ray_stats_rows", "data_access"]


def data_access(executor) -> DataAccess:
    """The data access of ``executor`` (by its ``executor_type``)."""
    return RayData(executor) if getattr(executor, "executor_type", "default") == "ray" else LocalData(executor)
