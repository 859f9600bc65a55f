"""Progress of the long phases of a run (a statistics pass, an objective's setup, the trials, processing the chosen
recipe): no phase stays silent for more than a few seconds.

A :class:`Progress` is a phase with an optional known size. On a terminal it draws one bar (tqdm, which Data-Juicer
already depends on); otherwise -- a log file, CI, a pipe -- it writes a plain log line whenever the log has been
silent for ``every_s`` seconds while the phase runs, from a background thread, even when the work reports no step
(a classifier fit): ``auto_hpo: fitting the quality classifier: 3/8 (38 %), 00:12 elapsed, ETA 00:20``.

"Silent" means no log line from anyone: a phase whose work logs its own lines (the trial loop, Data-Juicer's per-op
lines) adds no line of its own while those flow. Of nested phases (the classifier fit inside an objective's setup)
only the innermost one speaks, so nested phases never double the output. The log is heard through a loguru sink that
lives as long as the phase.
"""

import contextlib
import re
import sys
import threading
import time
from typing import List, Optional, Pattern

from loguru import logger
from tqdm import tqdm

__all__ = ["Progress", "clock", "DJ_OP_STEPS"]

EVERY_S = 4.0  # seconds of silence before a plain line: under the 5 s a phase may stay silent
# Data-Juicer's line after each op of a recipe (``data_juicer/core/data/dj_dataset.py``, ``process``):
# ``[2/6] OP [average_line_length_filter] Done in 0.798s. Left 3526 samples.``
DJ_OP_STEPS = re.compile(r"^\[(?P<done>\d+)/(?P<total>\d+)\] OP \[")


_ACTIVE: List["Progress"] = []  # open phases, oldest first: only the last (innermost) one speaks
_ACTIVE_LOCK = threading.Lock()


def clock(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` from an hour)."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _on_terminal() -> bool:
    stream = sys.__stderr__
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class Progress:
    """One phase: ``with Progress("computing statistics", total=n, unit="docs") as p: ... p.update(k)``.

    :param what: the phase, as the log says it.
    :param total: its size (None: unknown, only the elapsed time is shown).
    :param unit: what ``total`` counts (shown after the numbers).
    :param every_s: seconds of log silence before a plain line (the longest silence the phase allows).
    :param bar: draw a terminal bar (default: when stderr is a terminal).
    :param steps: a pattern of log lines that report the phase's steps themselves, with groups ``done`` (and
        ``total``): a heard line that matches sets them (:data:`DJ_OP_STEPS`: Data-Juicer's line after each op).
    """

    def __init__(
        self,
        what: str,
        total: Optional[int] = None,
        unit: str = "",
        every_s: float = EVERY_S,
        bar: Optional[bool] = None,
        steps: Optional[Pattern] = None,
    ):
        self.what, self.total, self.unit, self.every_s = what, total, unit, every_s
        self.steps = steps
        self.done, self.note = 0, ""
        self.start = time.monotonic()
        self._last_line = self.start  # this phase's own last plain line
        self._heard = self.start  # the last log line anyone wrote while the phase runs
        self._lines = 0
        self._reported = None  # (done, total) from a heard log line, applied under the lock
        self._logged_done = 0
        self._first = None  # (when, done) at the first step: the pace is measured from there
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = self._sink = None
        if bar if bar is not None else _on_terminal():
            self._bar = tqdm(total=total, desc=f"auto_hpo: {what}", unit=f" {unit}" if unit else "it", leave=False)
        if self._bar is None or steps is not None:
            self._sink = logger.add(self._hear, level="INFO", format="{message}", catch=True)
        with _ACTIVE_LOCK:
            _ACTIVE.append(self)
        self._ticker = threading.Thread(target=self._tick, name=f"progress: {what}", daemon=True)
        self._ticker.start()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _hear(self, message) -> None:
        # called by loguru under its handler lock, possibly while another thread holds ours: take no lock here
        self._heard = time.monotonic()
        found = self.steps.match(message.record["message"]) if self.steps is not None else None
        if found:
            total = found.groupdict().get("total")
            self._reported = (int(found.group("done")), int(total) if total else None)

    def _take_reported(self) -> None:
        """Under the lock: apply the steps a heard log line reported."""
        reported, self._reported = self._reported, None
        if reported is None:
            return
        done, total = reported
        self.total = total or self.total
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.update(done - self.done)
        self.done = done
        self._stepped()

    def update(self, steps: int = 1, note: str = "") -> None:
        """``steps`` more of the phase are done (``note``: shown after the numbers, e.g. ``best 0.61 (#12)``)."""
        with self._lock:
            self._take_reported()
            self.done += steps
            self._stepped()
            self.note = note or self.note
            if self._bar is not None:
                self._bar.update(steps)
                if note:
                    self._bar.set_postfix_str(note, refresh=False)
            elif self._silent_for() >= self.every_s:
                self._line()

    def timing(self) -> str:
        """``mm:ss elapsed, ETA mm:ss`` (no ETA before the first step, without a total, or once all is done).

        The ETA is the pace since the first step times the steps left: the first step often carries a warm-up (the
        first trial builds what every later one reuses), which would otherwise inflate every estimate."""
        now = time.monotonic()
        text = f"{clock(now - self.start)} elapsed"
        if self.total and 0 < self.done < self.total:
            if self._first is not None and self.done > self._first[1]:
                at, done = self._first
                pace = (now - at) / (self.done - done)
            else:
                pace = (now - self.start) / self.done
            text += f", ETA {clock(pace * (self.total - self.done))}"
        return text

    def _stepped(self) -> None:
        if self._first is None and self.done > 0:
            self._first = (time.monotonic(), self.done)

    def line(self) -> str:
        """Where the phase stands: ``what: done/total (pct), mm:ss elapsed, ETA mm:ss, note``."""
        parts = [self.what + ":"]
        unit = " " + self.unit if self.unit else ""
        if self.total:
            parts.append(f"{self.done}/{self.total}{unit} ({self.done / self.total:.0%}),")
        elif self.done:
            parts.append(f"{self.done}{unit},")
        parts.append(self.timing())
        if self.note:
            parts[-1] += f", {self.note}"
        return " ".join(parts)

    def _silent_for(self) -> float:
        with _ACTIVE_LOCK:
            if _ACTIVE and _ACTIVE[-1] is not self:
                return 0.0  # a phase nested in this one speaks for both
        return time.monotonic() - max(self._last_line, self._heard)

    def _line(self) -> None:
        self._last_line = time.monotonic()
        self._lines += 1
        self._logged_done = self.done
        logger.info(f"auto_hpo: {self.line()}")

    def _tick(self) -> None:
        while not self._stop.wait(min(0.5, self.every_s / 4)):
            with self._lock:
                self._take_reported()
                if self._bar is not None:
                    self._bar.refresh()
                elif self._silent_for() >= self.every_s:
                    self._line()

    def close(self) -> None:
        """End the phase (idempotent); a phase that logged lines ends with a last one."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._ticker.join()
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
        with self._lock:
            self._take_reported()
            if self._bar is not None:
                self._bar.close()
            elif self._lines and (self.done != self._logged_done or time.monotonic() - self._last_line > 1.0):
                self._line()  # the phase's end, unless its last line said it a moment ago
            if self._sink is not None:
                with contextlib.suppress(ValueError):  # Data-Juicer may have reset loguru's sinks meanwhile
                    logger.remove(self._sink)
                self._sink = None
