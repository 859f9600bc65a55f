"""``auto_hpo.mode: wandb``: a W&B sweep over the recipe whose train function is the executor.

Everything is validated before any trial runs (:mod:`.checks`: sweep config, parameter targets, objective, storage)
and every problem is reported at once. Then the chosen backend (:mod:`.backends`) runs the trials -- ``wandb`` (real
``wandb.sweep`` and ``wandb.agent``) or ``local`` (the same sweep config on Optuna, every trial recorded as a W&B
offline run) -- and the outputs are written (:mod:`.results`): ``trials.csv``, ``best_recipe.yaml`` and plots in
``auto_hpo.output_dir`` (with several objectives also the Pareto outputs). The best recipe is the best *feasible*
trial's (``auto_hpo.constraints``), or the front's compromise (the Pareto trial best on ``auto_hpo.select`` when
given); when no trial is feasible, nothing is written beyond the trials and the run ends with one error line.
``summary.json`` says what the choice is worth (:mod:`.estimate`). Finally the best recipe processes the full data
once and exports it (``auto_hpo.process_best``).
"""

import copy
import functools
import os
import re
import time
from typing import List

from data_juicer.core.executor import default_executor
from data_juicer.ops import Filter
from loguru import logger

from data_juicer_hpo.data import data_access
from data_juicer_hpo.data.mixture_sources import load_sources
from data_juicer_hpo.data.sampling import text_key_of
from data_juicer_hpo.engine.fingerprint import fingerprint
from data_juicer_hpo.errors import AutoHpoError, raise_if_any
from data_juicer_hpo.imports import lazy_import
from data_juicer_hpo.hooks.executors import inner_run
from data_juicer_hpo.memory import map_large_allocations
from data_juicer_hpo.modes.base import Mode
from data_juicer_hpo.modes.wandb.backends import run_trials
from data_juicer_hpo.modes.wandb.checks import (
    check_sweep,
    choose_backend,
    default_storage,
    load_sweep,
    mixture_targets,
    output_dir,
    validate,
)
from data_juicer_hpo.modes.wandb.estimate import write_summary
from data_juicer_hpo.modes.wandb.outputs.report import SweepFacts, write_sweep_report
from data_juicer_hpo.modes.wandb.results import best_recipe_doc, flush_trials, write_results
from data_juicer_hpo.modes.wandb.trials.bundles import Bundles
from data_juicer_hpo.modes.wandb.trials.evaluator import TrialEvaluator
from data_juicer_hpo.modes.wandb.trials.mixtures import SourceMixture
from data_juicer_hpo.ops.statistics import reuse_statistics, use_prepared_ops
from data_juicer_hpo.progress import DJ_OP_STEPS, Progress
from data_juicer_hpo.report.closing import kept_text, log_summary
from data_juicer_hpo.section import SECTION, section_of

__all__ = ["WandbSweep"]

# imports Ray: only a run on executor_type ray reads it
on_blocks = lazy_import("data_juicer_hpo.modes.wandb.trials.block_evaluator")


def _study_name(sweep, cfg) -> str:
    name = sweep.name or f"{cfg.get('project_name') or 'data-juicer'}-sweep"
    return re.sub(r"[^\w.-]+", "-", name)


class WandbSweep(Mode):
    """``auto_hpo.mode: wandb`` (see the module doc)."""

    name = "wandb"
    executors = ("default", "ray")
    refused = {
        "ray_partitioned": (
            " (it processes partitions independently, with checkpoints; a sweep evaluates many recipes on one"
            " population: use executor_type ray)"
        )
    }

    def check(self, cfg) -> List[str]:
        """The sweep file, parameter targets, objectives, constraints and storage: every problem, before any work."""
        return check_sweep(cfg)

    def run(self, executor, original_run, *args, **kwargs):
        """Dispatches on the executor's ``run`` signature (the Ray executor's has no ``dataset``)."""
        if getattr(executor, "executor_type", "default") == "ray":
            return _run_sweep(executor, original_run, None, *args, **kwargs)
        return _run_sweep(executor, original_run, *args, **kwargs)


def _run_sweep(executor, original_run, dataset=None, load_data_np=None, skip_export=False, skip_return=False):
    """The wandb mode (see the module doc)."""

    start = time.monotonic()
    map_large_allocations()
    cfg = executor.cfg
    section = section_of(cfg)
    sweep = load_sweep(section["hpo_config"], cfg)
    sweep, targets, scoring, problems = validate(section, cfg, sweep, log_notes=True)
    raise_if_any(problems)
    backend = choose_backend(section["backend"], several=scoring.goals.multi)
    out_dir = output_dir(section, cfg)
    storage = section["storage"] or default_storage(out_dir)

    access = data_access(executor)
    mixture, _ = mixture_targets(cfg, sweep)
    full = sizes = None  # auto_hpo.sample: all the data, and (the sample's size, theirs)
    if mixture:

        if dataset is not None:
            raise AutoHpoError(
                f"hpo_config.parameters.{next(iter(mixture))}: the executor was given a dataset "
                f"object, so Data-Juicer does not load dataset.configs"
            )
        dataset, sizes = load_sources(cfg, load_data_np)
    else:
        dataset = access.load(dataset, load_data_np)
        if section.get("sample") is not None:
            full, n = dataset, access.count(dataset)
            dataset, size = access.draw_sample(
                dataset, section["sample"], section["seed"], text_key_of(cfg), n, "sweep"
            )
            if size < 1:
                raise AutoHpoError(f"{SECTION}.sample: {section['sample']!r} leaves no sample of {n}")
            sizes = (size, n)
    for checked in scoring.objectives.values():  # e.g. labels, before any work
        raise_if_any(checked.check_data(functools.partial(access.column, dataset)))
    section["scored_on"] = _scored_on(cfg, section, sweep, targets, access.count(dataset))
    with inner_run(executor):
        objective = scoring.objectives[scoring.main]
        evaluator = _on_blocks(access, cfg, dataset, section, sweep, scoring, targets, mixture)
        if evaluator is None:
            base_top = {t.arg: cfg.get(t.arg) for t in targets.values() if t.position is None}
            bundles = Bundles(access, cfg, dataset, copy.deepcopy(cfg.process), base_top, targets, access.load_ops)
            evaluator = TrialEvaluator(
                bundles, targets, objective, seed=section["seed"], extras=scoring.extras, original_run=original_run
            )
        if mixture:
            evaluator.use_mixture(SourceMixture(cfg.dataset, mixture, sizes))
        evaluator.prepare(sweep.parameters)  # shaping arguments' listed values: their statistics in one pass
        study = _study_name(sweep, cfg)
        os.makedirs(out_dir, exist_ok=True)
        goals = scoring.goals
        try:
            records = run_trials(backend, sweep, evaluator, section, storage, study, out_dir, cfg, goals=goals)
        except BaseException:  # a signal (see signals.py), fail_fast, a lost storage: what it holds goes to trials.csv
            if backend == "local":
                flush_trials(storage, study, os.path.join(out_dir, "trials.csv"), list(sweep.parameters), goals)
            raise
        best = write_results(
            out_dir,
            records,
            sweep,
            scoring,
            lambda params: best_recipe_doc(cfg, targets, params, evaluator.mixture),
        )
        write_summary(out_dir, records, scoring, evaluator, best, section["seed"])
        report = section["report"] or os.path.join(out_dir, "report.html")
        facts = _report(report, out_dir, cfg, {**section, "backend": backend}, sweep, scoring, targets, records, best,
                        evaluator)  # fmt: skip
        if hasattr(evaluator, "whole_facts"):  # on blocks the report counted the driver's sample; the summary: all
            facts = evaluator.whole_facts(facts, best)
        if not section["process_best"]:
            _summary(section, out_dir, best, scoring, facts, report, None, start)
            return None
        # before Data-Juicer forks its workers, which start as copies of this process: the objectives' per-document
        # state (model_loss: 4 bytes per token) goes with the last references to them, the rest in release
        objective = None  # noqa: F841
        scoring.objectives.clear()
        evaluator.release(best.params)
        process, top = evaluator.best_recipe(best.params)
        with Progress("processing the full data with the best recipe", steps=DJ_OP_STEPS):
            out = _process_best(
                executor, original_run, evaluator, best.params, process, top, skip_export, skip_return, full
            )
        exported = None if skip_export or not hasattr(out, "__len__") else len(out)
        if full is not None:
            _log_sample_retention(best, sizes[0], exported, sizes[1])
        _summary(section, out_dir, best, scoring, facts, report, exported, start, cfg.get("export_path"))
        return out


def _on_blocks(access, cfg, dataset, section, sweep, scoring, targets, mixture):
    """On ``executor_type: ray``, the evaluator that runs the trials as per-block partial aggregates on the cluster
    (:mod:`.trials.block_evaluator`), after the statistics pass; None, with one log line saying why, when the sweep
    runs its trials on the driver instead (and on the default executor)."""
    if access.kind != "ray":
        return None
    process = copy.deepcopy(cfg.process)
    ops = access.load_ops(process)
    why = on_blocks.why_not_on_blocks(sweep, scoring, targets, ops, mixture)
    if why is None:
        with Progress("computing the statistics on the cluster"):
            stats = access.statistics_pass(copy.copy(dataset), ops)  # a copy: the dataset itself stays unprocessed
        why = on_blocks.why_not_after_statistics(stats, ops)
    if why is not None:
        logger.info(f"auto_hpo[sweep]: on Ray the trials run on the driver, with every document's statistics: {why}")
        return None
    objective = scoring.objectives[scoring.main]
    return on_blocks.BlockEvaluator(
        access, cfg, stats, process, targets, objective, section["seed"], scoring.extras, text_key_of(cfg)
    )


def _report(path, out_dir, cfg, section, sweep, scoring, targets, records, best, evaluator) -> SweepFacts:
    """The sweep's report.html; a failure to write it is logged (with its traceback) and the run goes on."""
    try:
        return write_sweep_report(path, out_dir, cfg, section, sweep, scoring, targets, records, best, evaluator)
    except Exception as e:  # noqa: BLE001  (the sweep is done and its best recipe written: process it anyway)
        logger.opt(exception=e).warning(f"auto_hpo[sweep]: could not write the report [{path}]: {type(e).__name__}")
        return SweepFacts(None, None, None, written=False)


def _summary(section, out_dir, best, scoring, facts, report, exported, start, export_path=None) -> None:
    """The closing summary: the chosen trial, the documents kept, where the outputs are."""
    scores = {scoring.main: best.value} if best.value is not None else {}
    shown = ", ".join(f"{k}={v:.4g}" for k, v in {**scores, **best.scores}.items())
    items = [
        ("chosen", f"trial #{best.number}: {shown}"),
        ("kept by the recipe as written", kept_text(facts.kept_written, facts.n)),
        ("kept by the chosen recipe", kept_text(facts.kept_chosen, facts.n)),
    ]
    if exported is not None:
        items.append(("exported", kept_text(exported, None)))
    outputs = [
        ("processed data", export_path if exported is not None else None),
        ("best recipe", os.path.join(out_dir, "best_recipe.yaml")),
        ("trials", os.path.join(out_dir, "trials.csv")),
        ("report", os.path.abspath(report) if facts.written else None),
    ]
    log_summary("sweep", items, outputs, time.monotonic() - start)


def _scored_on(cfg, section, sweep, targets, n_samples: int) -> dict:
    """The fingerprint of what the trials are scored on, stored with the study (see fingerprint.py)."""

    swept = [(t.position, t.arg) for t in targets.values() if t.position is not None]
    return fingerprint(cfg, section, sweep.goal, swept, n_samples)


def _log_sample_retention(best, size: int, exported, n: int) -> None:
    """``auto_hpo.sample``: the chosen recipe's retention on the sample (what the trials saw) and on all the data."""
    estimate = best.scores.get("retention")
    on_sample = f"[{estimate:.4f}] on the sample of [{size}]" if estimate is not None else f"(sample of [{size}])"
    on_all = f"[{exported / n:.4f}] on all [{n}] samples" if exported is not None and n else "not counted on all"
    logger.info(f"auto_hpo[sweep]: retention of the chosen recipe: {on_sample}, {on_all}")


def _process_best(executor, original_run, evaluator, params, process, top, skip_export, skip_return, full=None):
    """Process the full data once with the best recipe, reusing the statistics of its population (``full``: all the
    data when the trials scored ``auto_hpo.sample``: Data-Juicer computes the statistics on it)."""
    cfg = executor.cfg
    cfg.process = process
    for key, value in top.items():
        cfg[key] = value
    if evaluator.mixture is not None:
        cfg.dataset = evaluator.mixture.dataset_block(params)
    logger.info("auto_hpo[sweep]: processing the full data once with the best recipe")
    if evaluator.data.kind == "ray":  # Data-Juicer's Ray run loads and processes the data itself, once
        return original_run(executor, skip_export=skip_export, skip_return=skip_return)
    if full is not None:
        return original_run(executor, dataset=full, skip_export=skip_export, skip_return=skip_return)
    bundle = evaluator.bundle(params)
    if bundle.fast:
        ops = default_executor.load_ops(process)
        pipeline = [op for op in ops if isinstance(op, Filter)]  # the mappers were applied to the bundle's data
        for op in pipeline:
            reuse_statistics(op)
        with use_prepared_ops(default_executor, pipeline):
            return original_run(
                executor,
                dataset=evaluator.best_dataset(bundle, params),
                skip_export=skip_export,
                skip_return=skip_return,
            )
    dataset = evaluator.trial_dataset(params)
    return original_run(executor, dataset=dataset, skip_export=skip_export, skip_return=skip_return)
