"""The line each finished trial logs, and the pace of a run call:

``trial #12 (13/30, 00:41 elapsed, ETA 01:02): quality_score=0.61 kept=4,216 feasible=true best=0.63 (#9) params=...``

One numbering everywhere: ``#12`` is Optuna's trial number, the one of ``trials.csv``, the plots, the W&B run and
``best (#9)``; ``13/30`` is the trial's place among the study's trials (its slot under the cap). The elapsed time and
the ETA are those of this run call, from the trials every worker sharing the study has finished since it began, so
they hold with several workers. A :class:`~data_juicer_hpo.progress.Progress` keeps the phase from going silent
while a long trial runs (a bar on a terminal).
"""

import contextlib
from typing import Iterator, List, Optional

from loguru import logger

from data_juicer_hpo.engine.goals import Goals
from data_juicer_hpo.engine.trial import TrialRecord
from data_juicer_hpo.progress import Progress

__all__ = ["TrialLog", "scores_text"]

_FINISHED = ("COMPLETE", "PRUNED")


def scores_text(record: TrialRecord, goals: Goals) -> str:
    """A trial's scores, its objective first (``kept``, a document count, without decimals)."""
    scores = {}
    if not goals.multi and record.value is not None:
        scores[goals.names[0]] = record.value
    scores.update(record.scores)
    return " ".join(f"{k}={int(v):,}" if k == "kept" else f"{k}={v:.4g}" for k, v in scores.items())


class TrialLog:
    """The trial lines of one engine (``worker``: its label in a multi-worker sweep)."""

    def __init__(self, goals: Goals, worker: Optional[str] = None):
        self.goals, self.worker = goals, worker
        self.progress: Optional[Progress] = None
        self.finished_at_start = 0

    @contextlib.contextmanager
    def phase(self, remaining: int, finished: int) -> Iterator["TrialLog"]:
        """A run call: ``remaining`` trials to go, ``finished`` already in the study."""
        self.progress, self.finished_at_start = Progress("trials", remaining or None, "trials"), finished
        try:
            yield self
        finally:
            self.progress.close()
            self.progress = None

    def timing(self, records: List[TrialRecord]) -> str:
        """``, mm:ss elapsed, ETA mm:ss`` of the run call (empty outside one)."""
        if self.progress is None:
            return ""
        finished = sum(1 for r in records if r.state in _FINISHED) - self.finished_at_start
        self.progress.update(max(finished - self.progress.done, 0))
        return ", " + self.progress.timing()

    def log(self, record: TrialRecord, slot: str, records: List[TrialRecord], best: Optional[TrialRecord]) -> None:
        """Log ``record``'s line (``records``: the study's trials now; ``best``: its best feasible trial)."""
        best_text = "none" if best is None else f"{best.value:.4g} (#{best.number})"
        head = f"trial #{record.number}{' ' + self.worker if self.worker else ''} ({slot}{self.timing(records)})"
        params = record.params
        if record.state == "FAIL":
            error = " | ".join((record.error or "").splitlines())
            logger.error(f"{head} failed: {error} params={params}")
        elif record.state == "PRUNED":
            shown = scores_text(record, self.goals) or "value=none"
            logger.info(f"{head}: pruned {shown} best={best_text} params={params}")
        else:
            feasible = "" if record.feasible is None else f" feasible={str(record.feasible).lower()}"
            tail = "" if self.goals.multi else f" best={best_text}"
            logger.info(f"{head}: {scores_text(record, self.goals)}{feasible}{tail} params={params}")
