"""Sweep backends, one train function: ``local`` (Optuna, W&B offline runs) and ``wandb`` (sweep + agent)."""

import importlib
import os
from typing import List

from loguru import logger

from .errors import AutoHpoError

__all__ = ["run_trials", "run_local", "run_wandb", "wandb_train_function"]

BACKENDS = {"local": "data_juicer_hpo.backends:run_local", "wandb": "data_juicer_hpo.backends:run_wandb"}


def run_trials(name: str, sweep, evaluator, section, storage, study, out_dir, cfg) -> list:
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)(sweep, evaluator, section, storage, study, out_dir, cfg)


def run_local(sweep, evaluator, section, storage, study, out_dir, cfg) -> list:
    """The local backend: ``auto_hpo.n_workers`` processes (this one and forked children) share the study; each
    records its own trials as W&B offline runs. Returns every trial of the study."""
    from .sweep.pool import WorkerError, run_workers

    n_workers = section["n_workers"]
    if n_workers > 1 and getattr(getattr(evaluator, "data", None), "kind", "default") == "ray":
        logger.warning(
            f"auto_hpo[sweep]: n_workers [{n_workers}] -> 1 on the Ray executor: a Ray driver cannot be forked (the "
            f"cluster already runs the statistics in parallel); more workers can join as separate processes on the "
            f"same auto_hpo.storage"
        )
        n_workers = 1
    if n_workers > 1:
        _share_common_work(evaluator)
        logger.info(f"auto_hpo[sweep]: [{n_workers}] local workers (w1 here, w2..w{n_workers} forked), study [{study}]")
        if storage.startswith("sqlite"):
            logger.info(
                "auto_hpo[sweep]: the SQLite storage is shared by the workers of this machine only (file lock); "
                "workers on several machines need a shared server, e.g. auto_hpo.storage: postgresql+psycopg2://..."
            )
    local = _LocalWorkers(sweep, evaluator, {**section, "n_workers": n_workers}, storage, study, out_dir, cfg)
    if n_workers > 1:  # tables, study and sweep check once, before the fork; nothing of it is kept open
        local.open_engine(0).close()
    _, exits = run_workers(n_workers, local.work)
    child_runs = [run for child in exits for run in (child.result or [])]
    for child in exits:
        if child.died:
            logger.error(f"auto_hpo[sweep]: {child.describe()}; its unfinished trial is failed and replaced")
    stopped = [child for child in exits if child.error is not None]
    if stopped:
        first = stopped[0]
        raise WorkerError(f"worker {first.label} stopped the sweep: {first.error} (its traceback is in the log above)")
    if any(child.died for child in exits):  # a slot its trial held is free again once that trial is failed
        local.engine.run(local.train, catch=not section["fail_fast"], callbacks=[local.record])
    local.recorder.runs.extend(child_runs)
    local.recorder.log_where()
    return local.engine.records()


def _share_common_work(evaluator) -> None:
    """Before forking: the base recipe's statistics and the objective's per-document work, shared by every
    worker copy-on-write instead of being computed once per worker."""
    evaluator.bundle({})  # builds the population and sets the objective up on it


class _LocalWorkers:
    """What each local worker runs; ``work(index, stop)`` is called in the worker's own process (index 0: this
    one), so the storage connection, the study lock and W&B are opened there, never inherited through fork."""

    def __init__(self, sweep, evaluator, section, storage, study, out_dir, cfg):
        self.sweep, self.evaluator, self.section = sweep, evaluator, section
        self.storage, self.study, self.out_dir = storage, study, out_dir
        self.project = cfg.get("project_name") or "data-juicer-hpo"
        self.engine = self.recorder = None

    def train(self, ctx):
        return self.evaluator.evaluate(ctx.params, ctx.number, ctx.rungs, ctx.report, ctx.should_prune)

    def record(self, trial_record) -> None:
        self.recorder.record(trial_record, self.evaluator.history.pop(trial_record.number, []))

    def open_engine(self, index: int):
        from .sweep import LocalSweep
        from .sweep.pool import worker_label

        seed = self.section["seed"]
        label = worker_label(index) if self.section["n_workers"] > 1 else None
        seed = None if seed is None else seed + index  # distinct per worker: TPE must not replay another's draws
        return LocalSweep(self.sweep, self.storage, self.study, seed=seed, worker=label)

    def work(self, index: int, stop) -> list:
        from .tracking import OfflineRecorder

        metric = self.sweep.metric_name or "objective"
        if self.section["n_workers"] > 1:
            self.evaluator.cpu_share = max(1, (os.cpu_count() or 1) // self.section["n_workers"])
        self.recorder = OfflineRecorder(self.out_dir, self.project, self.study, metric)
        self.engine = self.open_engine(index)
        if index == 0:
            logger.info(f"auto_hpo[sweep]: local backend, study [{self.study}] in [{self.engine._url}]")
        try:
            self.engine.run(self.train, catch=not self.section["fail_fast"], callbacks=[self.record], stop=stop.is_set)
        except BaseException:
            stop.set()  # fail_fast (or a broken storage): the other workers end after their current trial
            raise
        finally:
            if index:
                _finish_child()
        return list(self.recorder.runs)


def _finish_child() -> None:
    """A forked worker exits without Python's exit handlers: close W&B's service for it now."""
    import sys

    if "wandb" in sys.modules:
        try:
            sys.modules["wandb"].teardown()
        except Exception as e:  # the trials are recorded; a service that lingers stops with its parent
            logger.warning(f"auto_hpo[sweep]: closing W&B in this worker failed: {type(e).__name__}: {e}")


def wandb_train_function(sweep, evaluator, records: List, metric: str):
    """The train function handed to ``wandb.agent``: reads the run's config, evaluates, logs the metric."""
    import time

    import wandb

    from .sweep import TrialRecord

    def train():
        run = wandb.run or wandb.init()
        params = {name: run.config[name] for name in sweep.parameters if name in run.config}
        number = len(records)
        start = time.time()

        def report(value, step):
            run.log({metric: value, "rung": step})

        try:
            value = evaluator.evaluate(params, number, sweep.hyperband.rungs() if sweep.hyperband else [], report)
            state, error = "COMPLETE", None
            run.log({metric: value})
            run.summary[metric] = value
        except Exception as e:  # recorded, and the agent goes on with the next run
            value, state, error = None, "FAIL", f"{type(e).__name__}: {e}"
            logger.error(f"trial {number + 1} failed: {error} params={params}")
        records.append(TrialRecord(number, state, params, value, error, time.time() - start))
        return value

    return train


def run_wandb(sweep, evaluator, section, storage, study, out_dir, cfg) -> list:
    import wandb

    os.environ.setdefault("WANDB_HTTP_TIMEOUT", "20")  # fail rather than hang on an unreachable server
    project = cfg.get("project_name") or "data-juicer-hpo"
    try:
        sweep_id = wandb.sweep(sweep=sweep.raw, project=project)
    except Exception as e:
        raise AutoHpoError(f"{'auto_hpo'}.backend: wandb.sweep failed: {' '.join(str(e).split())[:300]}")
    logger.info(f"auto_hpo[sweep]: W&B sweep [{sweep_id}] in project [{project}]")
    records: List = []
    metric = sweep.metric_name or "objective"
    wandb.agent(sweep_id, function=wandb_train_function(sweep, evaluator, records, metric), count=sweep.run_cap)
    return records
