"""``auto_hpo.mode: 3sigma``: tune every filter's bounds to mean +/- k*std of its statistic, then process.

Runs inside the executor's ``run``, after the dataset is loaded, on any executor that
:mod:`~data_juicer_hpo.data` serves: one statistics pass, the bounds (:mod:`.plan`, :mod:`.bounds`), the edits
to the live ops and ``cfg.process`` (:mod:`.tune`), the refined recipe, then Data-Juicer's own ``run`` on the data
that already carries the statistics.
"""

from typing import List

from data_juicer.core.preflight import pre_instantiation_check
from loguru import logger

from data_juicer_hpo.data import data_access
from data_juicer_hpo.data.paths import inputs_of, output_file_problem
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.hooks.executors import inner_run
from data_juicer_hpo.modes.base import Mode
from data_juicer_hpo.modes.three_sigma.tune import tune
from data_juicer_hpo.ops.coverage import missing_package_problems
from data_juicer_hpo.section import SECTION, section_of

__all__ = ["ThreeSigma", "check_size", "preflight"]


def check_size(cfg, n: int) -> None:
    if n < 2:
        key = "dataset_path" if cfg.get("dataset_path") else "dataset"
        raise AutoHpoError(
            f"{key}: has {n} sample(s) after loading; {SECTION}.mode 3sigma needs at least 2 to estimate a std"
        )


def preflight(cfg) -> None:
    """Data-Juicer's own check of the op arguments (as its ``run`` does), before any work."""
    if getattr(cfg, "strict_preflight", True):
        pre_instantiation_check(cfg.process)


class ThreeSigma(Mode):
    """``auto_hpo.mode: 3sigma`` (see the module doc)."""

    name = "3sigma"
    executors = ("default", "ray")
    refused = {
        "ray_partitioned": (
            " (it processes partitions independently, with checkpoints; 3sigma needs one statistics pass over the "
            "whole data before any sample is filtered: use executor_type ray)"
        )
    }

    def check(self, cfg) -> List[str]:
        """Packages the recipe's filters need, and a refined recipe that would overwrite an input (the section, the
        dataset path and the export are checked by the registry)."""
        section = section_of(cfg)
        path = section["path_3sigma_recipe"]
        key = f"{SECTION}.path_3sigma_recipe"
        overwrite = output_file_problem(key, str(path), inputs_of(cfg, section)) if path else None
        return missing_package_problems(cfg.process) + ([overwrite] if overwrite else [])

    def run(self, executor, original_run, dataset=None, load_data_np=None, skip_export=False, skip_return=False):
        access = data_access(executor)
        cfg = executor.cfg
        section = section_of(cfg)
        preflight(cfg)
        dataset = access.load(dataset, load_data_np)
        n = access.count(dataset)
        check_size(cfg, n)
        ops = access.load_ops(cfg.process)
        logger.info(
            f"auto_hpo[3sigma]: computing the statistics of [{len(ops)}] ops on [{n}] samples once "
            f"({access.kind} executor)"
        )
        stats = access.statistics_pass(dataset, ops)
        for note in stats.notes:
            logger.info(f"auto_hpo[3sigma]: {note}")
        if stats.stat_keys:
            tune(cfg, section, ops, stats.stat_keys, stats.values, stats.count, stats.aligned)
        else:
            logger.info("auto_hpo[3sigma]: no filter with statistics; nothing to tune")
        with inner_run(executor):
            return access.process_tuned(
                original_run,
                dataset,
                stats,
                ops,
                load_data_np=load_data_np,
                skip_export=skip_export,
                skip_return=skip_return,
            )
