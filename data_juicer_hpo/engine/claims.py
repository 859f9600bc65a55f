"""Claims: a grid point, or a slot of the run cap, taken by one trial -- atomically, in the study's own database.

The study lock (:mod:`.locking`) keeps workers from racing in the common case, but a PostgreSQL advisory lock lives in
a server session: when the connection drops (a server restart), the server releases it, possibly between "pick a
point" and "tag the trial", and another worker picks the same point. So the lock only makes collisions rare; what
makes them impossible is a row of the table ``data_juicer_hpo_claims`` whose primary key is ``(study_id,
claim_key)``: of two workers inserting the same key, the database lets exactly one win, whatever happened to their
connections in between.

A worker claims before it creates the trial (with a fresh ``token``, its identity and the time), then binds the claim
to the trial. A claim is *live* -- its key taken -- while

- its trial exists and has not failed (RUNNING, COMPLETE, PRUNED, WAITING: a failed trial's point or slot is free
  again, which is how an interrupted trial gets replaced), or
- it is not bound yet and its worker may still be asking: the process lives (this machine), or the claim is younger
  than the grace period (another machine).

A dead claim is taken over by compare-and-swap on its token, so two workers never both take it over. Every statement
is its own transaction, retried through a lost connection by the storage's :class:`~.retry.Outage`; a retried
insert whose commit reached the server before the connection dropped is recognised by its token.
"""

import json
import threading
import time
import uuid
from typing import Dict, Iterable, Optional, Set

from optuna.trial import TrialState
from sqlalchemy import Column, Float, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text, and_
from sqlalchemy import exc as sa
from sqlalchemy import text

from data_juicer_hpo.engine import workers
from data_juicer_hpo.engine.retry import creating_tables
from data_juicer_hpo.engine.sweep_file.grid import point_key
from data_juicer_hpo.engine.trial import CLAIM_ATTR, ERROR_ATTR, GRID_ATTR

__all__ = ["Claims", "TABLE", "new_token", "grid_claim", "slot_claim", "claim_place"]

TABLE = "data_juicer_hpo_claims"
_METADATA = MetaData()
_CLAIMS = Table(
    TABLE,
    _METADATA,
    Column("study_id", Integer, nullable=False),
    Column("claim_key", String(255), nullable=False),
    Column("token", String(64), nullable=False),
    Column("trial_id", Integer, nullable=True),
    Column("owner", Text, nullable=False),
    Column("claimed_at", Float, nullable=False),
    PrimaryKeyConstraint("study_id", "claim_key"),
)
# Optuna's own table of trials (optuna/storages/_rdb/models.py, TrialModel: "trials", trial_id, state as the enum's
# name): read in the same statement as the claims, so a claim and its trial's state are seen at one moment.
_HOLDERS = text(
    f"SELECT c.claim_key, c.token, c.trial_id, c.owner, c.claimed_at, t.state FROM {TABLE} c "
    "LEFT JOIN trials t ON t.trial_id = c.trial_id WHERE c.study_id = :study"
)

# tokens this process is claiming right now (an unbound claim of this very process is live only while listed)
_CLAIMING: Set[str] = set()
_LOCK = threading.Lock()


def new_token() -> str:
    return uuid.uuid4().hex


def grid_claim(point_key: str) -> str:
    """The claim key of a grid point (its canonical key, shortened by a hash when it is long)."""
    if len(point_key) <= 200:
        return f"grid:{point_key}"
    return f"grid#{uuid.uuid5(uuid.NAMESPACE_URL, point_key).hex}"


def slot_claim(slot: int) -> str:
    return f"slot:{slot}"


class Claims:
    """The claims of one study in the storage's database (``storage.engine``), through ``outage``."""

    def __init__(self, storage, study_id: int, outage, grace_period: float):
        self._engine = storage.engine
        self._study = study_id
        self._outage = outage
        self._grace = grace_period

    # ---- the table ----------------------------------------------------------------------------------------

    def ensure_table(self) -> None:
        """Create the table when the database has none (workers starting together race: see :func:`creating_tables`)."""

        def create() -> None:
            _METADATA.create_all(self._engine, checkfirst=True)

        self._outage.call(lambda: creating_tables(create), what="creating the claims table")

    # ---- reading --------------------------------------------------------------------------------------------

    def held(self, prefix: str = "") -> Set[str]:
        """The keys (starting with ``prefix``) held by a live claim."""

        def read():
            with self._engine.connect() as conn:
                return conn.execute(_HOLDERS, {"study": self._study}).fetchall()

        rows = self._outage.call(read, what="reading the claims")
        return {row[0] for row in rows if row[0].startswith(prefix) and self._live(row)}

    def _live(self, row) -> bool:
        _, token, trial_id, owner, claimed_at, state = row
        if trial_id is not None:
            return state is not None and state != "FAIL"
        try:
            worker = json.loads(owner)
        except ValueError:
            worker = None
        gone = workers.process_gone(worker)
        if gone is None:  # another machine: its ask takes milliseconds, so an old unbound claim is a dead one
            return time.time() - claimed_at < self._grace
        if not gone and worker.get("pid") == workers.identity()["pid"]:
            with _LOCK:
                return token in _CLAIMING
        return not gone

    # ---- claiming -------------------------------------------------------------------------------------------

    def take(self, keys: Iterable[str], token: str, owner: Dict) -> Optional[str]:
        """The first of ``keys`` this worker could claim with ``token`` (inserted, or taken over from a dead claim),
        or None when every one is held."""
        with _LOCK:
            _CLAIMING.add(token)
        for key in keys:
            if self._outage.call(
                lambda: self._take_one(key, token, owner),
                done=lambda: self._owns(key, token),
                what="claiming a trial's place",
            ):
                return key
        return None

    def _take_one(self, key: str, token: str, owner: Dict) -> bool:
        values = {"token": token, "owner": json.dumps(owner, sort_keys=True), "claimed_at": time.time()}
        while True:
            try:
                with self._engine.begin() as conn:
                    conn.execute(_CLAIMS.insert().values(study_id=self._study, claim_key=key, trial_id=None, **values))
                return True
            except sa.IntegrityError:
                pass
            with self._engine.begin() as conn:
                row = next((r for r in conn.execute(_HOLDERS, {"study": self._study}) if r[0] == key), None)
                if row is None:
                    continue  # released meanwhile: insert again
                if self._live(row):
                    return False
                taken = conn.execute(
                    _CLAIMS.update().where(self._key_is(key), _CLAIMS.c.token == row[1]).values(trial_id=None, **values)
                )
                if taken.rowcount == 1:
                    return True
            # another worker took it over first: look again

    def _owns(self, key: str, token: str) -> bool:
        with self._engine.connect() as conn:
            found = conn.execute(_CLAIMS.select().where(self._key_is(key), _CLAIMS.c.token == token)).first()
        return found is not None

    def bind(self, token: str, trial_id: int) -> bool:
        """Tie the claims made with ``token`` to their trial; False when none is left (taken over meanwhile)."""

        def update() -> int:
            with self._engine.begin() as conn:
                return conn.execute(
                    _CLAIMS.update()
                    .where(_CLAIMS.c.study_id == self._study, _CLAIMS.c.token == token)
                    .values(trial_id=trial_id)
                ).rowcount

        def bound() -> Optional[int]:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    _CLAIMS.select().where(_CLAIMS.c.study_id == self._study, _CLAIMS.c.token == token)
                ).fetchall()
            return len(rows) if rows and all(r.trial_id == trial_id for r in rows) else None

        try:
            return bool(self._outage.call(update, done=bound, what="binding a claim"))
        finally:
            self.done(token)

    def release(self, token: str) -> None:
        """Give back the unbound claims made with ``token`` (an ask that stopped before its trial existed)."""

        def delete() -> None:
            with self._engine.begin() as conn:
                conn.execute(
                    _CLAIMS.delete().where(
                        _CLAIMS.c.study_id == self._study, _CLAIMS.c.token == token, _CLAIMS.c.trial_id.is_(None)
                    )
                )

        try:
            self._outage.call(delete, what="releasing a claim")
        finally:
            self.done(token)

    @staticmethod
    def done(token: str) -> None:
        """This process no longer claims with ``token`` (bound, released, or given up)."""
        with _LOCK:
            _CLAIMING.discard(token)

    def _key_is(self, key: str):
        return and_(_CLAIMS.c.study_id == self._study, _CLAIMS.c.claim_key == key)


def claim_place(claims: Claims, grid, trials, taken, cap: Optional[int], floor: int, token: str, owner: Dict):
    """Claim a new trial's place: with ``grid`` (the sweep's points in order) the first free point -- skipping the
    points of ``taken`` trials and those that failed since this call began (numbers above ``floor``), except
    interrupted ones, whose point is free again -- and under a ``cap`` a slot of it. Trials made before claims existed
    hold the first slots. Returns ``(claimed, point)``; nothing stays claimed when ``claimed`` is False."""
    point = None
    try:
        if grid is not None:
            skip = {t.user_attrs.get(GRID_ATTR) for t in taken}
            skip |= {t.user_attrs.get(GRID_ATTR) for t in trials if t.number > floor and _failed_in_call(t)}
            held = claims.held("grid")
            free = {}
            for p in grid:
                key = point_key(p)
                if key not in skip and grid_claim(key) not in held:
                    free[grid_claim(key)] = p
            won = claims.take(free, token, owner)
            if won is None:
                claims.done(token)
                return False, None
            point = free[won]
        if cap is not None:
            unclaimed = sum(1 for t in taken if CLAIM_ATTR not in t.user_attrs)
            held = claims.held("slot:")
            slots = [slot_claim(i) for i in range(1 + unclaimed, cap + 1) if slot_claim(i) not in held]
            if claims.take(slots, token, owner) is None:
                claims.release(token)
                return False, None
    except BaseException:
        claims.release(token)
        raise
    return True, point


def _failed_in_call(trial) -> bool:
    """A FAIL whose train function failed (not an interrupted one, whose slot and point are free again)."""
    error = trial.user_attrs.get(ERROR_ATTR)
    return trial.state == TrialState.FAIL and error is not None and not error.startswith(workers.INTERRUPTED)
