"""Loading the dataset for an ``auto_hpo`` mode, with one-line errors instead of Data-Juicer's tracebacks."""

import os

from data_juicer.core.data.dataset_builder import deprecated_load_data_np_kwargs

from data_juicer_hpo.errors import AutoHpoError

__all__ = ["load_dataset", "dataset_path_problem", "load_error", "LOAD_ERRORS"]


def _local_path_problem(path: str):
    """A problem line for a local dataset path that cannot work; None for other sources (hub ids, URLs)."""
    first = path.split()[0] if path.split() else path  # "weight path" mixtures: check the first path
    if "://" in first or (
        not os.path.isabs(first) and not first.startswith(".") and os.sep not in first and not os.path.exists(first)
    ):
        return None  # a Hugging Face id or remote source: Data-Juicer resolves it
    if not os.path.exists(first):
        return f"dataset_path: no such file or directory {first!r}"
    if os.path.isfile(first) and os.path.getsize(first) == 0:
        return f"dataset_path: {first!r} is empty"
    return None


def dataset_path_problem(cfg):
    """A problem line when the config's ``dataset_path`` is a local path that cannot be loaded."""
    path = cfg.get("dataset_path")
    return _local_path_problem(str(path)) if path else None


# what Data-Juicer's dataset builder raises for data it cannot load (tracebacks otherwise)
LOAD_ERRORS = (ValueError, StopIteration, FileNotFoundError, KeyError)


def load_error(key: str, what: str, e: BaseException) -> AutoHpoError:
    """The one-line error for a dataset (or mixture source) Data-Juicer could not load."""
    message = " ".join(str(e).split()) or type(e).__name__
    if "There is no key" in message:
        return AutoHpoError(f"text_keys: {message}")
    return AutoHpoError(f"{key}: cannot load the {what} ({type(e).__name__}: {message[:300]})")


def load_dataset(executor, load_data_np=None):
    """The executor's dataset, loaded as ``run`` would, or an :class:`AutoHpoError` naming what is wrong."""

    cfg = executor.cfg
    path = cfg.get("dataset_path")
    problem = dataset_path_problem(cfg)
    if problem:
        raise AutoHpoError(problem)
    key = "dataset_path" if path else "dataset"
    try:
        dataset = executor.dataset_builder.load_dataset(
            **deprecated_load_data_np_kwargs(load_data_np, executor.dataset_builder.executor_type)
        )
    except LOAD_ERRORS as e:
        raise load_error(key, "dataset", e)
    if len(dataset) == 0:
        raise AutoHpoError(f"{key}: the dataset has no sample left after loading")
    return dataset
