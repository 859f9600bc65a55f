"""A running trial's heartbeat, for trials run through ``ask``/``tell`` rather than ``Study.optimize``.

Optuna beats only inside ``optimize``; the engine drives trials itself, so it beats here through the storage's
public ``record_heartbeat``. The first beat is recorded before the train function starts, so a process killed
at any point of its trial leaves a heartbeat that ages and marks the trial stale.
"""

import threading

from loguru import logger

__all__ = ["Heartbeat"]


class Heartbeat:
    """``with Heartbeat(storage, trial_id, interval):`` beats every ``interval`` seconds until the block ends."""

    def __init__(self, storage, trial_id: int, interval: float):
        self._storage = storage
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-trial-{trial_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as e:  # noqa: BLE001  (storage lost for good: the trial's own tell() reports it)
                logger.warning(f"auto_hpo[sweep]: heartbeat of trial id {self._trial_id} stopped: {e}")
                return

    def __enter__(self) -> "Heartbeat":
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
