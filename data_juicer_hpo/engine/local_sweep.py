"""The local sweep engine: a W&B sweep configuration run by Optuna on a SQLAlchemy storage, resumable.

The Optuna side of the parameters is :mod:`~data_juicer_hpo.engine.space` (native Optuna distributions where they
exist); the user-facing values of every trial are also stored as its ``params`` user attribute, which
:meth:`LocalSweep.records` reads back under the sweep's names.

Goals (:mod:`~data_juicer_hpo.engine.goals`): one objective (the sweep's metric) or 2-3 (a multi-objective study),
and constraints. A train function returns the metric, or a mapping of objective name to score holding every
objective and every constrained one; the scores, the constraint values and feasibility are stored as user
attributes of the trial, the constraint values as Optuna's own constraints (``trial.set_constraint``, which TPE
reads), so every worker and a resume see them.

Budget: ``run_cap`` (or ``n_trials``) is the number of finished (COMPLETE or PRUNED) trials the study should
hold, so a rerun after a finished sweep runs nothing. One call makes at most ``cap - finished`` attempts (plus one
per interrupted trial it fails on the way), so a train function that always fails cannot loop forever; a trial
whose train function failed is retried by the next call, a grid point that failed during this call (in any
worker) likewise.

Workers: any number of processes, on any machines, may run the same study at once. Each trial first claims its
place -- its grid point, and with a cap a slot of it -- in the database (:mod:`~data_juicer_hpo.engine.claims`: a
unique row, so of two workers exactly one wins whatever happens to their connections), then is created already
tagged with its worker (:func:`~data_juicer_hpo.engine.workers.new_trial`). So finished + running trials never
exceed the cap and no grid point is taken twice, through server restarts too; the study's lock
(:mod:`~data_juicer_hpo.engine.locking`) only keeps the workers from colliding in the common case. Interrupted
trials: a RUNNING trial whose worker process on this machine is gone is failed at once (``interrupted: ...``, see
:mod:`~data_juicer_hpo.engine.workers`), one of another machine when its heartbeat is older than the grace period;
the place is then free again and the same run (or the rerun) fills it. No worker fails a trial whose worker lives.
"""

import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

import optuna
from loguru import logger
from optuna.trial import TrialState

from data_juicer_hpo.engine import workers
from data_juicer_hpo.engine.claims import Claims, claim_place, new_token
from data_juicer_hpo.engine.goals import Goals, better
from data_juicer_hpo.engine.heartbeat import Heartbeat
from data_juicer_hpo.engine.locking import study_lock
from data_juicer_hpo.engine.retry import DEFAULT_RETRY_S, Outage
from data_juicer_hpo.engine.samplers import make_sampler
from data_juicer_hpo.engine.space import SearchSpace
from data_juicer_hpo.engine.storage import mask_url, open_storage, validate_storage_url
from data_juicer_hpo.engine.study_checks import (
    SCORED_ON_ATTR,
    SWEEP_ATTR,
    check_comparable,
    check_same_sweep,
    hyperband_rungs,
    sweep_fingerprint,
)
from data_juicer_hpo.engine.sweep_file.config import SweepConfig
from data_juicer_hpo.engine.sweep_file.grid import iter_grid_points, point_key
from data_juicer_hpo.engine.sweep_file.parameters import grid_size
from data_juicer_hpo.engine.trial import (
    CLAIM_ATTR,
    GRID_ATTR,
    PARAMS_ATTR,
    WORKER_ATTR,
    TrialContext,
    TrialRecord,
    jsonable,
    judge,
    record_of,
)
from data_juicer_hpo.engine.trial_log import TrialLog
from data_juicer_hpo.errors import AutoHpoError, raise_if_any
from data_juicer_hpo.redaction import redact
from data_juicer_hpo.signals import raise_if_interrupted

__all__ = ["LocalSweep"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
_TAKEN = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


class LocalSweep:
    """A sweep run in this process on Optuna, its trials kept in ``storage`` under ``study_name``.

    :param sweep: the validated sweep configuration.
    :param storage: SQLAlchemy URL, e.g. ``sqlite:///outputs/sweep.db`` or ``postgresql://user@host/db``.
    :param study_name: the Optuna study; rerunning with the same storage and name resumes it.
    :param seed: seed of the samplers (None: fresh entropy).
    :param max_resource: full resource of a hyperband given by ``min_iter`` without ``max_iter``.
    :param heartbeat_interval: seconds between heartbeats of a running trial.
    :param grace_period: seconds without heartbeat after which a RUNNING trial of another machine counts as dead
        and is failed (default: 6 intervals, generous because a long C call holding the GIL also stops the
        heartbeat thread). One of this machine is failed as soon as its process is gone.
    :param worker: this worker's label in logs and in each trial's ``worker`` attribute (``w1``, ``w2``...).
    :param scored_on: what the trials are scored on (:func:`~data_juicer_hpo.engine.fingerprint.fingerprint`):
        stored with the study; a resume where it differs refuses in one line, unless ``resume`` is ``"force"``.
    :param storage_retry_s: how long storage calls (the study lock's included) retry a lost connection before the
        run ends with one line (see :mod:`~data_juicer_hpo.engine.retry`).
    :param goals: the objectives and constraints (default: the sweep's metric and goal, no constraints).
    """

    def __init__(
        self,
        sweep: SweepConfig,
        storage: str,
        study_name: str,
        seed: Optional[int] = None,
        *,
        max_resource: Optional[int] = None,
        heartbeat_interval: int = 10,
        grace_period: Optional[int] = None,
        worker: Optional[str] = None,
        storage_retry_s: float = DEFAULT_RETRY_S,
        scored_on: Optional[Dict[str, str]] = None,
        resume: str = "auto",
        goals: Optional[Goals] = None,
    ):
        self.sweep = sweep
        self.goals = goals or Goals(((sweep.metric_name or "objective", sweep.goal),))
        self.study_name = study_name
        self.worker = worker
        self._rungs = hyperband_rungs(sweep, max_resource)
        self._space = SearchSpace(sweep)
        raise_if_any(validate_storage_url(storage))
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one loguru line per trial is ours to write
        self._url = mask_url(storage)
        grace_period = grace_period if grace_period is not None else 6 * heartbeat_interval
        self._heartbeat_interval, self._grace = heartbeat_interval, grace_period
        self._outage = Outage(self._url, storage_retry_s)  # one budget for the storage and its lock
        self._lock = study_lock(storage, study_name, self._outage)
        pruner = optuna.pruners.NopPruner()
        if self._rungs:
            pruner = optuna.pruners.HyperbandPruner(self._rungs[0], self._rungs[-1], int(sweep.hyperband.eta))
        with self._lock:  # workers starting together would race creating the tables and the study
            self._storage = open_storage(storage, heartbeat_interval, grace_period, self._outage)
            n_stored = check_same_sweep(self._storage, study_name, self._url, sweep, self.goals)
            check_comparable(self._storage, study_name, self._url, scored_on, resume)
            self._study = optuna.create_study(
                storage=self._storage,
                study_name=study_name,
                directions=self.goals.directions,
                sampler=make_sampler(sweep.method, seed, n_stored, draw=self._space.draw),
                pruner=pruner,
                load_if_exists=True,
            )
            self._study.set_user_attr(SWEEP_ATTR, sweep_fingerprint(sweep, self.goals))
            if scored_on:
                self._study.set_user_attr(SCORED_ON_ATTR, scored_on)
            self._study_id = self._storage.get_study_id_from_name(study_name)
            self._claims = Claims(self._storage, self._study_id, self._outage, grace_period)
            self._claims.ensure_table()
        self._trial_log = TrialLog(self.goals, worker)  # one line per finished trial, with the run's pace

    def close(self) -> None:
        """Close the lock's connection and the storage's connections (before a fork, or when done)."""
        self._lock.close()
        self._storage.remove_session()
        self._storage.engine.dispose()

    # ---- reading the storage ----------------------------------------------------------------------------

    def records(self) -> List[TrialRecord]:
        """Every trial in storage, in number order."""
        return [record_of(t) for t in sorted(self._study.get_trials(deepcopy=False), key=lambda t: t.number)]

    def best(self) -> Optional[TrialRecord]:
        """The feasible COMPLETE trial with the best value for the goal (the earliest one on ties), or None; always
        None in a multi-objective study (see :mod:`data_juicer_hpo.modes.wandb.outputs.pareto`)."""
        return None if self.goals.multi else self._best_of(self.records())

    def _best_of(self, records: List[TrialRecord]) -> Optional[TrialRecord]:
        if self.goals.multi:
            return None
        done = [r for r in records if r.state == "COMPLETE" and r.value is not None and r.feasible is not False]
        if not done:
            return None
        sign = 1 if self.goals.directions[0] == "maximize" else -1
        return max(done, key=lambda r: (sign * r.value, -r.number))

    def remaining(self, n_trials: Optional[int] = None) -> Optional[int]:
        """How many trials :meth:`run` would start now (None: unbounded): the cap less the taken trials, for a grid at
        most its free points (interrupted trials are failed first: their places are free)."""
        with self._lock:
            self._reap_interrupted()
            trials = self._study.get_trials(deepcopy=False, states=_TAKEN)
        cap = n_trials if n_trials is not None else self.sweep.run_cap
        left = None if cap is None else max(0, cap - len(trials))
        if self.sweep.method == "grid":
            taken = {t.user_attrs.get(GRID_ATTR) for t in trials}
            points = sum(1 for p in iter_grid_points(self.sweep) if point_key(p) not in taken)
            left = points if left is None else min(left, points)
        return left

    def _count(self, states) -> int:
        return len(self._study.get_trials(deepcopy=False, states=states))

    def _target_reached(self) -> bool:
        target = self.sweep.target
        best = None if target is None else self.best()
        if best is None:
            return False
        return not better(self.goals.directions[0], target, best.value)

    # ---- the trial loop -------------------------------------------------------------------------------

    def run(
        self,
        train: Callable[[TrialContext], float],
        *,
        n_trials: Optional[int] = None,
        catch: bool = True,
        callbacks: Sequence[Callable[[TrialRecord], None]] = (),
        stop: Optional[Callable[[], bool]] = None,
    ) -> List[TrialRecord]:
        """Run trials until the cap, the exhausted grid or the metric target; return this call's trials.

        :param train: called with a :class:`TrialContext`, returns the metric value, or a mapping of objective name
            to score holding every objective and every constrained objective.
        :param n_trials: the cap, overriding ``run_cap``; counts finished trials already in storage.
        :param catch: record a trial whose train function raises as FAIL and go on; False re-raises.
        :param callbacks: called with each finished trial's :class:`TrialRecord`.
        :param stop: asked before each new trial; True ends the call (another local worker stopped the sweep).
        """
        cap = n_trials if n_trials is not None else self.sweep.run_cap
        if cap is None and self.sweep.method != "grid":
            raise AutoHpoError(
                f"{self.sweep.source}.run_cap: a local {self.sweep.method} sweep never ends by itself; "
                f"set run_cap (or sweep_max_count)"
            )
        with self._lock:
            self._reap_interrupted()
            finished = self._count(_FINISHED)
            floor = max((t.number for t in self._study.get_trials(deepcopy=False)), default=-1)
        total = cap if cap is not None else grid_size(self.sweep.parameters)
        budget = None if cap is None else cap - finished
        with self._trial_log.phase(max(total - finished, 0), finished):
            return self._loop(train, cap, total, budget, floor, catch, callbacks, stop)

    def _loop(self, train, cap, total, budget, floor, catch, callbacks, stop) -> List[TrialRecord]:
        records: List[TrialRecord] = []
        while budget is None or len(records) < budget:
            raise_if_interrupted()  # a signal a library swallowed during the last trial
            if stop is not None and stop():
                break
            if self._target_reached():
                logger.info(f"metric target {self.sweep.target} of {self.sweep.metric_name} reached; sweep done")
                break
            with self._lock:
                reaped = self._reap_interrupted()  # a worker sharing the storage may have died meanwhile
                asked = self._ask(cap, floor)
            if budget is not None:
                budget += reaped  # their slots are free again: replace them in this call
            if asked is None:
                break
            trial, trial_id, params, slot = asked
            record = self._run_one(trial, trial_id, params, train, catch, f"{slot}/{total}")
            records.append(record)
            for callback in callbacks:
                callback(record)
        return records

    def _reap_interrupted(self) -> int:
        """Under the lock: fail the RUNNING trials of dead workers (see ``workers``); return how many."""
        reaped = workers.fail_interrupted(self._study, self._storage, self._study_id, self._url, self._grace)
        with warnings.catch_warnings():  # fail_stale_trials is "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self._study)
        return reaped

    def _ask(self, cap: Optional[int], floor: int):
        """Under the lock (an optimisation: the claims are what excludes): a new trial, its storage id, its
        user-facing params and its slot (1-based position among the taken trials), or None when the cap is taken or a
        grid has no point left."""
        trials = self._study.get_trials(deepcopy=False)
        taken = [t for t in trials if t.state in _TAKEN]
        if cap is not None and len(taken) >= cap:
            return None
        owner, token = workers.identity(self.worker), new_token()
        grid = iter_grid_points(self.sweep) if self.sweep.method == "grid" else None
        claimed, point = claim_place(self._claims, grid, trials, taken, cap, floor, token, owner)
        if not claimed:
            return None
        attrs = {WORKER_ATTR: owner, CLAIM_ATTR: token, **({GRID_ATTR: point_key(point)} if point else {})}
        try:  # tagged from its first moment: a worker killed from here on leaves a trial recognised as interrupted
            trial_id = workers.new_trial(self._study, self._storage, self._study_id, attrs, self._outage)
        except BaseException:
            self._claims.release(token)
            raise
        trial = optuna.Trial(self._study, trial_id)  # as Study.ask makes it (the sampler's before_trial included)
        workers.mark_running(self._url, self.study_name, trial.number)
        try:
            if not self._claims.bind(token, trial_id):  # taken over meanwhile (judged dead): leave it, ask again
                self._fail(trial, trial_id, f"{workers.INTERRUPTED}: its claim was taken over before it started")
                workers.unmark_running(self._url, self.study_name, trial.number)
                return self._ask(cap, floor)
            self._storage.record_heartbeat(trial_id)  # one that other machines see age
            if point is not None:
                self._space.set_point(self._storage, trial_id, point)
            params = point if point is not None else self._space.suggest(trial)
            trial.set_user_attr(PARAMS_ATTR, jsonable(params))
            for name, value in jsonable(self._space.encoded_values(params)).items():
                trial.set_user_attr(name, value)  # the real value of a parameter the study holds encoded
        except BaseException:
            workers.unmark_running(self._url, self.study_name, trial.number)
            self._fail(trial, trial_id, None)  # else it would stay RUNNING, counting forever
            raise
        return trial, trial_id, params, len(taken) + 1

    def _fail(self, trial, trial_id: int, error: Optional[str]) -> None:
        workers.finish_own(self._study, self._storage, trial, trial_id, TrialState.FAIL, error)

    def _run_one(self, trial, trial_id: int, params: Dict[str, Any], train, catch: bool, progress: str):
        try:
            return self._run_and_tell(trial, trial_id, params, train, catch, progress)
        finally:
            workers.unmark_running(self._url, self.study_name, trial.number)

    def _run_and_tell(self, trial, trial_id: int, params: Dict[str, Any], train, catch: bool, progress: str):
        ctx = TrialContext(trial, params, self._rungs)
        state, value, error, raised = TrialState.COMPLETE, None, None, None
        with Heartbeat(self._storage, trial_id, self._heartbeat_interval):
            try:
                value = train(ctx)
            except optuna.TrialPruned:
                state = TrialState.PRUNED
            except Exception as e:  # the sweep goes on; the error is kept with the trial, masked of secrets
                state, error, raised = TrialState.FAIL, redact(f"{type(e).__name__}: {e}"), e
            except BaseException as e:  # Ctrl-C, SystemExit: leave a finished record behind, then stop
                self._fail(trial, trial_id, f"interrupted by {type(e).__name__}")
                raise
        values = None
        if state == TrialState.COMPLETE and ctx.pruned:
            state = TrialState.PRUNED
        elif state == TrialState.COMPLETE:
            values, error = judge(self.goals, trial, value)
            if error is not None:
                state, raised = TrialState.FAIL, TypeError(error)
        told = workers.finish_own(self._study, self._storage, trial, trial_id, state, error, values)
        record = record_of(self._storage.get_trial(trial_id))
        if not told:
            return record
        records = self.records()
        self._trial_log.log(record, progress, records, self._best_of(records))
        if raised is not None and not catch:
            raise raised
        return record
