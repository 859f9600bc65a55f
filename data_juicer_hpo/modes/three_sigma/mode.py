"""``auto_hpo.mode: 3sigma``: tune every filter's bounds to mean +/- k*std of its statistic, then process.

Runs inside the executor's ``run``, after the dataset is loaded, on any executor that
:mod:`~data_juicer_hpo.data` serves: one statistics pass, the bounds (:mod:`.plan`, :mod:`.bounds`), the edits
to the live ops and ``cfg.process`` (:mod:`.tune`), the refined recipe, then Data-Juicer's own ``run`` on the data
that already carries the statistics.
"""

import os
import time
from functools import partial
from typing import List, Optional

from data_juicer.core.preflight import pre_instantiation_check
from loguru import logger

from data_juicer_hpo.data import data_access
from data_juicer_hpo.data.paths import inputs_of, output_file_problem
from data_juicer_hpo.data.sampling import text_key_of
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.hooks.executors import inner_run
from data_juicer_hpo.memory import map_large_allocations
from data_juicer_hpo.modes.base import Mode
from data_juicer_hpo.modes.three_sigma.blocks import KeptCounts
from data_juicer_hpo.modes.three_sigma.report import summary_items, write_three_sigma_report
from data_juicer_hpo.modes.three_sigma.tune import Tuned, tune
from data_juicer_hpo.ops.coverage import missing_package_problems
from data_juicer_hpo.ops.statistics import StatsPass
from data_juicer_hpo.progress import DJ_OP_STEPS, Progress
from data_juicer_hpo.report.closing import log_summary
from data_juicer_hpo.section import SECTION, section_of

__all__ = ["ThreeSigma", "check_size", "preflight"]


def check_size(cfg, n: int) -> None:
    if n < 2:
        key = "dataset_path" if cfg.get("dataset_path") else "dataset"
        raise AutoHpoError(
            f"{key}: has {n} sample(s) after loading; {SECTION}.mode 3sigma needs at least 2 to estimate a std"
        )


def draw_sample(access, cfg, section, dataset, n: int):
    """``auto_hpo.sample`` of ``dataset`` (and its size); one line when it leaves fewer than 2 samples."""
    sample, size = access.draw_sample(dataset, section["sample"], section["seed"], text_key_of(cfg), n, "3sigma")
    if size < 2:
        raise AutoHpoError(f"{SECTION}.sample: {section['sample']!r} leaves {size} of {n} samples; 3sigma needs 2")
    return sample, size


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
        start = time.monotonic()
        map_large_allocations()
        access = data_access(executor)
        cfg = executor.cfg
        section = section_of(cfg)
        preflight(cfg)
        dataset = access.load(dataset, load_data_np)
        n = access.count(dataset)
        check_size(cfg, n)
        full = dataset
        if section.get("sample") is not None:
            dataset, n = draw_sample(access, cfg, section, dataset, n)
        ops = access.load_ops(cfg.process)
        logger.info(
            f"auto_hpo[3sigma]: computing the statistics of [{len(ops)}] ops on [{n}] samples once "
            f"({access.kind} executor)"
        )
        with Progress(f"computing the statistics of {len(ops)} ops on {n:,} samples"):
            stats = access.statistics_pass(dataset, ops)
        if full is not dataset:
            stats.notes.append(
                f"tuned on a seeded uniform sample of {n:,} documents (auto_hpo.sample); counts are on it"
            )
        for note in stats.notes:
            logger.info(f"auto_hpo[3sigma]: {note}")
        if stats.sampled:
            logger.info(
                f"auto_hpo[3sigma]: bounds and counts from all [{stats.count}] samples, computed per block on the "
                f"cluster; histograms and the report's examples from a uniform sample of [{stats.sample_size}]"
            )
        tuned: Optional[Tuned] = None
        if stats.stat_keys:
            reduce = partial(access.reduce_blocks, stats)
            tuned = tune(cfg, section, ops, stats.stat_keys, stats.values, stats.count, stats.aligned, reduce)
        else:
            logger.info("auto_hpo[3sigma]: no filter with statistics; nothing to tune")
        report = _write_report(access, cfg, section, ops, stats, tuned)
        counted, sampled = stats.count, full is not dataset
        if sampled:  # the statistics are the sample's: Data-Juicer computes them on all the data
            stats, dataset = StatsPass(full, {}, {}, 0, True), full
            logger.info("auto_hpo[3sigma]: processing all the data with the recipe tuned on the sample")
        with inner_run(executor), Progress("processing the data with the tuned recipe", steps=DJ_OP_STEPS):
            out = access.process_tuned(
                original_run,
                dataset,
                stats,
                ops,
                load_data_np=load_data_np,
                skip_export=skip_export,
                skip_return=skip_return,
            )
        exported = None if skip_export or not hasattr(out, "__len__") else len(out)
        outputs = [("processed data", None if skip_export else cfg.get("export_path")), ("report", report)]
        if tuned is not None and tuned.recipe:
            outputs.insert(1, ("refined recipe", os.path.abspath(tuned.recipe)))
        items = summary_items(section, tuned, counted, exported, sampled)
        log_summary("3sigma", items, outputs, time.monotonic() - start)
        return out


def _write_report(access, cfg, section, ops, stats, tuned) -> Optional[str]:
    """``auto_hpo.report`` when set (the example documents' texts read from the statistics pass's data)."""
    path = section.get("report")
    if not path:
        return None
    if tuned is None:
        tuned = Tuned([], KeptCounts(), section.get("path_3sigma_recipe"), [])
    text_key = next((getattr(ops[i], "text_key", None) for i in stats.stat_keys), None) or "text"
    with Progress("writing the report"):
        texts = access.values_texts(stats, text_key) if stats.count else None
        write_three_sigma_report(cfg, section, ops, stats, tuned, texts, path, partial(access.reduce_blocks, stats))
    logger.info(f"auto_hpo[3sigma]: report written to [{os.path.abspath(path)}]")
    return os.path.abspath(path)
