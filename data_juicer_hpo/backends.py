"""Sweep backends, one train function: ``local`` (Optuna, W&B offline runs) and ``wandb`` (sweep + agent)."""

import importlib
import os
from typing import List

from loguru import logger

from .errors import AutoHpoError

__all__ = ["run_backend", "run_local", "run_wandb", "wandb_train_function"]

BACKENDS = {"local": "data_juicer_hpo.backends:run_local", "wandb": "data_juicer_hpo.backends:run_wandb"}


def run_backend(name: str, sweep, runner, section, storage, study, out_dir, cfg) -> list:
    module, _, attr = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)(sweep, runner, section, storage, study, out_dir, cfg)


def run_local(sweep, runner, section, storage, study, out_dir, cfg) -> list:
    from .sweep import LocalSweep
    from .tracking import OfflineRecorder

    recorder = OfflineRecorder(out_dir, cfg.get("project_name") or "data-juicer-hpo", study, sweep.metric_name or "objective")
    engine = LocalSweep(sweep, storage, study, seed=section["seed"])
    logger.info(f"auto_hpo[sweep]: local backend, study [{study}] in [{engine._url}]")

    def train(ctx):
        return runner.evaluate(ctx.params, ctx.number, ctx.rungs, ctx.report, ctx.should_prune)

    def record(trial_record):
        recorder.record(trial_record, runner.history.pop(trial_record.number, []))

    engine.run(train, catch=not section["fail_fast"], callbacks=[record])
    recorder.log_where()
    return engine.records()


def wandb_train_function(sweep, runner, records: List, metric: str):
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
            value = runner.evaluate(params, number, sweep.hyperband.rungs() if sweep.hyperband else [], report)
            state, error = "COMPLETE", None
            run.log({metric: value})
            run.summary[metric] = value
        except Exception as e:  # recorded, and the agent goes on with the next run
            value, state, error = None, "FAIL", f"{type(e).__name__}: {e}"
            logger.error(f"trial {number + 1} failed: {error} params={params}")
        records.append(TrialRecord(number, state, params, value, error, time.time() - start))
        return value

    return train


def run_wandb(sweep, runner, section, storage, study, out_dir, cfg) -> list:
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
    wandb.agent(sweep_id, function=wandb_train_function(sweep, runner, records, metric), count=sweep.run_cap)
    return records
