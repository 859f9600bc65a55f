"""The ``wandb`` backend: a real W&B sweep (``wandb.sweep``) whose agent (``wandb.agent``) calls the trial evaluator
as its train function."""

import os
import time
from typing import List

from loguru import logger

from data_juicer_hpo.engine import TrialRecord
from data_juicer_hpo.engine.goals import Goals
from data_juicer_hpo.engine.trial_log import TrialLog
from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.imports import lazy_import
from data_juicer_hpo.redaction import redact

wandb = lazy_import("wandb")  # 1.4 s to import: only when a trial is recorded or an agent runs

__all__ = ["run_wandb", "wandb_train_function"]


def _integers(sweep, params: dict) -> dict:
    """W&B's server samples the sweep file as written; a parameter fitted to an int argument (see
    :mod:`~data_juicer_hpo.modes.wandb.int_arguments`) gets its draw rounded as the local engine would."""
    out = dict(params)
    for name, value in params.items():
        spec = sweep.parameters.get(name)
        integral = spec is not None and (spec.int_valued or spec.distribution == "int_uniform")
        if integral and isinstance(value, float) and value == value:
            out[name] = int(round(value))
    return out


def wandb_train_function(sweep, evaluator, records: List, metric: str, goals=None):
    """The train function handed to ``wandb.agent``: reads the run's config, evaluates, logs the metric (and, with
    constraints, every constrained objective and ``feasible``)."""

    trial_log = TrialLog(goals or Goals(((metric, sweep.goal),)))  # the same trial line as the local backend

    def train():
        run = wandb.run or wandb.init()
        given = {name: run.config[name] for name in sweep.parameters if name in run.config}
        params = _integers(sweep, given)
        if params != given:
            changed = {k: v for k, v in params.items() if type(given[k]) is not type(v) or given[k] != v}
            run.config.update(changed, allow_val_change=True)
        number = len(records)
        start = time.time()

        def report(value, step):
            run.log({metric: value, "rung": step})

        scores, feasible = {}, None
        try:
            value = evaluator.evaluate(params, number, sweep.hyperband.rungs() if sweep.hyperband else [], report)
            state, error = "COMPLETE", None
            scores = {metric: value, **evaluator.scores.pop(number, {})}
            logged = dict(scores)
            if goals is not None and goals.constraints:
                feasible = goals.feasible(scores)
                logged["feasible"] = feasible
            run.log(logged)
            run.summary.update(logged)
        except Exception as e:  # recorded, and the agent goes on with the next run (masked: it may quote a secret)
            value, state, error = None, "FAIL", redact(f"{type(e).__name__}: {e}")
        values = None if value is None else (value,)
        record = TrialRecord(number, state, params, value, error, time.time() - start, None, values, scores, feasible)
        records.append(record)
        trial_log.log(record, f"{number + 1}/{sweep.run_cap or '?'}", records, _best(records, trial_log.goals))
        return value

    return train


def _best(records: List[TrialRecord], goals: Goals):
    """The best feasible completed trial so far (the earliest on ties), or None."""
    done = [r for r in records if r.state == "COMPLETE" and r.value is not None and r.feasible is not False]
    sign = 1.0 if goals.directions[0] == "maximize" else -1.0
    return max(done, key=lambda r: (sign * r.value, -r.number)) if done else None


def run_wandb(sweep, evaluator, section, storage, study, out_dir, cfg, goals=None) -> list:
    os.environ.setdefault("WANDB_HTTP_TIMEOUT", "20")  # fail rather than hang on an unreachable server
    project = cfg.get("project_name") or "data-juicer-hpo"
    try:
        sweep_id = wandb.sweep(sweep=sweep.raw, project=project)
    except Exception as e:
        raise AutoHpoError(f"{'auto_hpo'}.backend: wandb.sweep failed: {' '.join(str(e).split())[:300]}")
    logger.info(f"auto_hpo[sweep]: W&B sweep [{sweep_id}] in project [{project}]")
    records: List = []
    metric = goals.names[0] if goals is not None else sweep.metric_name or "objective"
    train = wandb_train_function(sweep, evaluator, records, metric, goals)
    wandb.agent(sweep_id, function=train, count=sweep.run_cap)
    return records
