"""What a train function sees of its trial (:class:`TrialContext`) and what the engine reports (:class:`TrialRecord`).

Pruning: the train function reports its metric at each rung and asks :meth:`TrialContext.should_prune`, which
never raises. It then either raises :class:`TrialPruned` or simply returns early; both end the trial PRUNED
(Optuna records the last reported value as a pruned trial's value).
"""

import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import optuna

__all__ = [
    "TrialContext",
    "TrialRecord",
    "TrialPruned",
    "record_of",
    "PARAMS_ATTR",
    "ERROR_ATTR",
    "GRID_ATTR",
    "WORKER_ATTR",
    "CLAIM_ATTR",
    "SCORES_ATTR",
    "FEASIBLE_ATTR",
]

# User attributes of each Optuna trial: the user-facing values under sweep names, the error of a failed trial,
# in a grid sweep the key of its point, the worker process that ran it (see engine/workers.py) and the token of its
# claims (engine/claims.py).
PARAMS_ATTR = "params"
ERROR_ATTR = "error"
GRID_ATTR = "grid_key"
WORKER_ATTR = "worker"
CLAIM_ATTR = "claim"
# With constraints or several objectives: every objective's score by name, and whether every constraint holds
# (the constraint values themselves are Optuna's own, ``trial.set_constraint``).
SCORES_ATTR = "scores"
FEASIBLE_ATTR = "feasible"


class TrialPruned(optuna.TrialPruned):
    """Raise from a train function to end a trial that :meth:`TrialContext.should_prune` gave up on."""


class TrialContext:
    """Handed to the train function of one trial.

    :ivar number: the Optuna trial number, unique in the study.
    :ivar params: sweep name -> user-facing value (already transformed from the search space).
    :ivar rungs: hyperband resource levels to report at, increasing; ``[]`` without ``early_terminate``.
    """

    def __init__(self, trial: "optuna.trial.Trial", params: Dict[str, Any], rungs: List[int]):
        self._trial = trial
        self.number: int = trial.number
        self.params: Dict[str, Any] = params
        self.rungs: List[int] = list(rungs)
        self.pruned = False

    def report(self, value: float, step: int) -> None:
        """Record the metric after ``step`` units of resource (a rung), for the pruner."""
        self._trial.report(float(value), int(step))

    def record_scores(self, scores: Mapping[str, float]) -> None:
        """Keep ``scores`` with the trial although it is pruned (what it keeps: ``kept``, ``retention``)."""
        self._trial.set_user_attr(SCORES_ATTR, {name: float(value) for name, value in scores.items()})

    def should_prune(self) -> bool:
        """Whether the pruner gives up on this trial at its last reported step; it does not raise."""
        if self._trial.should_prune():
            self.pruned = True
        return self.pruned


@dataclass(frozen=True)
class TrialRecord:
    """One trial as plain data. ``state`` is COMPLETE, PRUNED, FAIL, RUNNING or WAITING; ``worker`` is the label of
    the local worker that ran it (``w1``, ``w2``... with ``auto_hpo.n_workers`` > 1, else None)."""

    number: int
    state: str
    params: Dict[str, Any]
    value: Optional[float]
    error: Optional[str]
    duration_s: Optional[float]
    worker: Optional[str] = None
    values: Optional[Tuple[float, ...]] = None  # every objective's value (one entry in a single-objective study)
    scores: Dict[str, float] = field(default_factory=dict)  # objective name -> score (objectives and constraints)
    feasible: Optional[bool] = None  # None without constraints, or when the trial did not complete


def jsonable(params: Dict[str, Any]) -> Dict[str, Any]:
    """``params`` as Optuna can store them in a user attribute (JSON); odd YAML values become strings."""
    return json.loads(json.dumps(params, default=str))


def record_of(trial: "optuna.trial.FrozenTrial") -> TrialRecord:
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    value = trial.value if trial.values is not None and len(trial.values) == 1 else None
    worker = trial.user_attrs.get(WORKER_ATTR)
    values = None
    if trial.values is not None and not any(v is None or math.isnan(v) for v in trial.values):
        values = tuple(float(v) for v in trial.values)
    feasible = trial.user_attrs.get(FEASIBLE_ATTR)
    return TrialRecord(
        number=trial.number,
        state=trial.state.name,
        params=dict(trial.user_attrs.get(PARAMS_ATTR, {})),
        value=None if value is None or math.isnan(value) else float(value),
        error=trial.user_attrs.get(ERROR_ATTR),
        duration_s=duration,
        worker=worker.get("label") if isinstance(worker, dict) else None,
        values=values,
        scores=dict(trial.user_attrs.get(SCORES_ATTR) or {}),
        feasible=feasible if trial.state.name == "COMPLETE" and isinstance(feasible, bool) else None,
    )


def judge(goals, trial, returned):
    """The objective values of what ``train`` returned (None and an error when it is not numbers); the scores
    (when it returned a mapping, or with constraints or several objectives), constraint values and feasibility are
    stored with the trial."""
    names = goals.names
    scores = dict(returned) if isinstance(returned, Mapping) else {names[0]: returned}
    missing = [name for name in [*names, *goals.constrained_names] if name not in scores]
    if missing:
        return None, f"train returned no score for {', '.join(missing)} (got {sorted(scores)})"
    bad = {name: scores[name] for name in scores if not _is_metric(scores[name])}
    if bad:
        shown = returned if not isinstance(returned, Mapping) else bad
        return None, f"train returned {shown!r}, not a number"
    scores = {name: float(v) for name, v in scores.items()}
    if goals.multi or goals.constraints or isinstance(returned, Mapping):
        trial.set_user_attr(SCORES_ATTR, scores)
    if goals.constraints:
        for key, value in zip(goals.constraint_keys, goals.violations(scores)):
            trial.set_constraint(key, value)  # system attributes TPE reads (Optuna >= 5)
        trial.set_user_attr(FEASIBLE_ATTR, goals.feasible(scores))
    return [scores[name] for name in names], None


def _is_metric(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and not math.isnan(float(value))
    except (TypeError, ValueError):
        return False
