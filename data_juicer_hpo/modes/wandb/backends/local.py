"""The local backend: the sweep's study on the engine (:mod:`data_juicer_hpo.engine`), in this process and in
``auto_hpo.n_workers - 1`` forked workers, every trial recorded as a W&B offline run."""

import os
import sys

from loguru import logger

from data_juicer_hpo.engine import LocalSweep
from data_juicer_hpo.engine.pool import WorkerError, run_workers, worker_label
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.modes.wandb.backends.tracking import OfflineRecorder
from data_juicer_hpo.progress import Progress
from data_juicer_hpo.signals import raise_if_interrupted

__all__ = ["run_local"]


def run_local(sweep, evaluator, section, storage, study, out_dir, cfg, goals=None) -> list:
    """The local backend: ``auto_hpo.n_workers`` processes (this one and forked children) share the study; each
    records its own trials as W&B offline runs. Returns every trial of the study."""

    n_workers = section["n_workers"]
    if n_workers > 1 and getattr(getattr(evaluator, "data", None), "kind", "default") == "ray":
        logger.warning(
            f"auto_hpo[sweep]: n_workers [{n_workers}] -> 1 on the Ray executor: a Ray driver cannot be forked (the "
            f"cluster already runs the statistics in parallel); more workers can join as separate processes on the "
            f"same auto_hpo.storage"
        )
        n_workers = 1
    if n_workers > 1:  # tables, study and sweep check once, before the fork; nothing of it is kept open
        engine = _LocalWorkers(sweep, evaluator, section, storage, study, out_dir, cfg, goals).open_engine(0)
        left = engine.remaining()
        engine.close()
        if (
            left is not None and left < n_workers
        ):  # a worker with no trial to run would only cost a fork and a connection
            logger.info(f"auto_hpo[sweep]: n_workers [{n_workers}] -> [{max(1, left)}]: [{left}] trials left to run")
            n_workers = max(1, left)
    if n_workers > 1:
        _share_common_work(evaluator)
        raise_if_interrupted()  # a signal a library swallowed while the shared work was done: no fork
        logger.info(f"auto_hpo[sweep]: [{n_workers}] local workers (w1 here, w2..w{n_workers} forked), study [{study}]")
        if storage.startswith("sqlite"):
            logger.info(
                "auto_hpo[sweep]: the SQLite storage is shared by the workers of this machine only (file lock); "
                "workers on several machines need a shared server, e.g. auto_hpo.storage: postgresql+psycopg2://..."
            )
    local = _LocalWorkers(sweep, evaluator, {**section, "n_workers": n_workers}, storage, study, out_dir, cfg, goals)
    _, exits = run_workers(n_workers, local.work)
    child_runs = [run for child in exits for run in (child.result or [])]
    for child in exits:
        if child.died:
            logger.error(f"auto_hpo[sweep]: {child.describe()}; its unfinished trial is failed and replaced")
    stopped = [child for child in exits if child.error is not None]
    if stopped:
        first = stopped[0]
        if first.problems:
            raise AutoHpoError(first.problems)
        raise WorkerError(f"worker {first.label} stopped the sweep: {first.error} (its traceback is in the log above)")
    if any(child.died for child in exits):  # a slot its trial held is free again once that trial is failed
        try:
            local.engine.run(local.train, catch=not section["fail_fast"], callbacks=[local.record])
            local.recorder.close()
        finally:
            local.close_recorder_quietly()
    local.recorder.runs.extend(child_runs)
    local.recorder.log_where()
    return local.engine.records()


def _share_common_work(evaluator) -> None:
    """Before forking: the base recipe's statistics and the objective's per-document work, shared by every
    worker copy-on-write instead of being computed once per worker."""
    bundle = evaluator.bundle({})  # builds the population and sets the objective up on it
    if bundle.fast and bundle.population is not None and evaluator.extras:
        for extra in evaluator.extras.values():  # the constrained objectives' per-document work, shared too
            with Progress(f"setting up {getattr(extra, 'name', '') or type(extra).__name__} before the fork"):
                extra.setup(bundle.population)


class _LocalWorkers:
    """What each local worker runs; ``work(index, stop)`` is called in the worker's own process (index 0: this
    one), so the storage connection, the study lock and W&B are opened there, never inherited through fork."""

    def __init__(self, sweep, evaluator, section, storage, study, out_dir, cfg, goals=None):
        self.sweep, self.evaluator, self.section, self.goals = sweep, evaluator, section, goals
        self.storage, self.study, self.out_dir = storage, study, out_dir
        self.project = cfg.get("project_name") or "data-juicer-hpo"
        self.engine = self.recorder = None

    def train(self, ctx):
        value = self.evaluator.evaluate(ctx.params, ctx.number, ctx.rungs, ctx.report, ctx.should_prune)
        scores = self.evaluator.scores.pop(ctx.number, None)
        if scores is None:
            return value
        if ctx.pruned:  # pruned at a rung: what it keeps is known, its scores are not
            ctx.record_scores(scores)
            return value
        return {self.goals.names[0]: value, **scores}

    def record(self, trial_record) -> None:
        self.recorder.record(trial_record, self.evaluator.history.pop(trial_record.number, []))

    def close_recorder_quietly(self) -> None:
        """The runs of the trials handed over so far written, when the sweep already ends on another error."""
        if self.recorder is None:
            return
        try:
            self.recorder.close()
        except Exception as e:
            logger.warning(f"auto_hpo[sweep]: W&B offline runs: {type(e).__name__}: {e}")

    def open_engine(self, index: int):
        seed = self.section["seed"]
        label = worker_label(index) if self.section["n_workers"] > 1 else None
        seed = None if seed is None else seed + index  # distinct per worker: TPE must not replay another's draws
        return LocalSweep(
            self.sweep,
            self.storage,
            self.study,
            seed=seed,
            worker=label,
            storage_retry_s=self.section["storage_retry_s"],
            scored_on=self.section.get("scored_on"),
            resume=self.section["resume"],
            goals=self.goals,
        )

    def work(self, index: int, stop) -> list:
        metric = self.goals.names[0] if self.goals is not None else self.sweep.metric_name or "objective"
        if self.section["n_workers"] > 1:
            self.evaluator.cpu_share = max(1, (os.cpu_count() or 1) // self.section["n_workers"])
        self.recorder = OfflineRecorder(self.out_dir, self.project, self.study, metric)
        self.engine = self.open_engine(index)
        if index == 0:
            logger.info(f"auto_hpo[sweep]: local backend, study [{self.study}] in [{self.engine._url}]")
        try:
            self.engine.run(self.train, catch=not self.section["fail_fast"], callbacks=[self.record], stop=stop.is_set)
            self.recorder.close()  # every trial's run written; a full disk there ends the sweep as one line
        except BaseException:
            stop.set()  # fail_fast (or a broken storage): the other workers end after their current trial
            self.close_recorder_quietly()
            raise
        finally:
            if index:
                _finish_child()
        return list(self.recorder.runs)


def _finish_child() -> None:
    """A forked worker exits without Python's exit handlers: close W&B's service for it now."""

    if "wandb" in sys.modules:
        try:
            sys.modules["wandb"].teardown()
        except Exception as e:  # the trials are recorded; a service that lingers stops with its parent
            logger.warning(f"auto_hpo[sweep]: closing W&B in this worker failed: {type(e).__name__}: {e}")
