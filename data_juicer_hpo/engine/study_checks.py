"""What a study must match to be resumed: the same sweep (method, goals, parameters) and trials scored on the same
data, ops and objective (:mod:`.fingerprint`); and the hyperband rungs Optuna prunes at. Called by
:class:`~data_juicer_hpo.engine.local_sweep.LocalSweep` when it opens a study, under the study's lock."""

from typing import Dict, List, Optional

from loguru import logger

from data_juicer_hpo.engine.fingerprint import differences
from data_juicer_hpo.engine.goals import Goals
from data_juicer_hpo.engine.sweep_file.config import SweepConfig
from data_juicer_hpo.engine.sweep_file.grid import point_key
from data_juicer_hpo.errors import AutoHpoError, raise_if_any

__all__ = [
    "SWEEP_ATTR",
    "SCORED_ON_ATTR",
    "sweep_fingerprint",
    "hyperband_rungs",
    "check_same_sweep",
    "check_comparable",
]

SWEEP_ATTR = "data_juicer_hpo.sweep"  # study user attribute: the search space the study was made for
SCORED_ON_ATTR = "data_juicer_hpo.scored_on"  # study user attribute: what the trials are scored on (a dict)

_SPACE_VERSION = 2  # 2: native Optuna distributions; a study of the unit-encoded version 1 is not resumed


def sweep_fingerprint(sweep: SweepConfig, goals: Goals) -> str:
    return point_key(
        {
            "method": sweep.method,
            "goals": goals.key(),
            "parameters": repr(list(sweep.parameters.values())),
            "space": _SPACE_VERSION,
        }
    )


def hyperband_rungs(sweep: SweepConfig, max_resource: Optional[int]) -> List[int]:
    """The rungs of the sweep's hyperband (none without ``early_terminate``), or one line per problem."""
    hb, where = sweep.hyperband, f"{sweep.source}.early_terminate"
    if hb is None:
        return []
    problems = []
    if not float(hb.eta).is_integer():
        problems.append(f"{where}.eta: Optuna's Hyperband needs an integer reduction factor (got {hb.eta})")
    if hb.max_iter is None and max_resource is None:
        problems.append(f"{where}.max_iter: the local engine needs the full resource; give max_iter")
    raise_if_any(problems)
    return hb.rungs(max_resource)


def check_same_sweep(storage, study_name: str, url: str, sweep: SweepConfig, goals: Goals) -> int:
    """Refuse to resume a study made for another search space; return how many trials it holds."""
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    stored = storage.get_study_user_attrs(study_id).get(SWEEP_ATTR)
    if stored is not None and stored != sweep_fingerprint(sweep, goals):
        raise AutoHpoError(
            f"auto_hpo.storage: study {study_name!r} in {url} was made for another method, goal, "
            f"parameters of {sweep.source}, objectives or constraints (or by an earlier version of "
            f"data-juicer-hpo); give a new study name or storage to start afresh"
        )
    return len(storage.get_all_trials(study_id, deepcopy=False))


def check_comparable(storage, study_name: str, url: str, scored_on: Optional[Dict[str, str]], resume: str) -> None:
    """Refuse to resume a study whose trials were scored on other data, ops or objective (see fingerprint.py)."""

    if not scored_on:
        return
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return
    stored = storage.get_study_user_attrs(study_id).get(SCORED_ON_ATTR)
    changed = differences(stored, scored_on) if isinstance(stored, dict) else []
    if not changed:
        return
    if resume == "force":
        logger.warning(
            f"auto_hpo.resume: force: resuming study [{study_name}] although {'; '.join(changed)}; its "
            f"earlier trials were scored on what was there before"
        )
        return
    raise AutoHpoError(
        f"auto_hpo.resume: study {study_name!r} in {url} was scored on other data or settings "
        f"({'; '.join(changed)}); to start afresh give the sweep a new name (name: in the sweep config), "
        f"or set auto_hpo.resume: force to resume anyway"
    )
