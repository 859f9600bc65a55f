"""Progress of the long phases of a run (a statistics pass, an objective's setup, the trials, processing the chosen
recipe): no phase stays silent for more than a few seconds.

A :class:`Progress` is a phase with an optional known size. On a terminal it draws one bar (tqdm, which Data-Juicer
already depends on); otherwise -- a log file, CI, a pipe -- it writes a plain log line at most every ``every_s``
seconds, and at least that often while the phase runs, from a background thread, even when the work reports no step
(a classifier fit): ``auto_hpo: fitting the quality classifier: 3/8 (38 %), 00:12 elapsed, ETA 00:20``.
"""

import sys
import threading
import time
from typing import Optional

from loguru import logger
from tqdm import tqdm

__all__ = ["Progress", "clock"]

EVERY_S = 4.0  # seconds between plain lines: under the 5 s a phase may stay silent


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
    :param every_s: seconds between plain lines (and the longest silence).
    :param bar: draw a terminal bar (default: when stderr is a terminal).
    """

    def __init__(
        self,
        what: str,
        total: Optional[int] = None,
        unit: str = "",
        every_s: float = EVERY_S,
        bar: Optional[bool] = None,
    ):
        self.what, self.total, self.unit, self.every_s = what, total, unit, every_s
        self.done, self.note = 0, ""
        self.start = time.monotonic()
        self._last_line = self.start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = None
        if bar if bar is not None else _on_terminal():
            self._bar = tqdm(total=total, desc=f"auto_hpo: {what}", unit=f" {unit}" if unit else "it", leave=False)
        self._ticker = threading.Thread(target=self._tick, name=f"progress: {what}", daemon=True)
        self._ticker.start()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, steps: int = 1, note: str = "") -> None:
        """``steps`` more of the phase are done (``note``: shown after the numbers, e.g. ``best 0.61 (#12)``)."""
        with self._lock:
            self.done += steps
            self.note = note or self.note
            if self._bar is not None:
                self._bar.update(steps)
                if note:
                    self._bar.set_postfix_str(note, refresh=False)
            elif time.monotonic() - self._last_line >= self.every_s:
                self._line()

    def line(self) -> str:
        """Where the phase stands: ``what: done/total (pct), mm:ss elapsed, ETA mm:ss, note``."""
        elapsed = time.monotonic() - self.start
        parts = [self.what + ":"]
        if self.total:
            parts.append(
                f"{self.done}/{self.total}{' ' + self.unit if self.unit else ''} ({self.done / self.total:.0%}),"
            )
        elif self.done:
            parts.append(f"{self.done}{' ' + self.unit if self.unit else ''},")
        parts.append(f"{clock(elapsed)} elapsed")
        if self.total and self.done:
            parts[-1] += f", ETA {clock(elapsed / self.done * (self.total - self.done))}"
        if self.note:
            parts[-1] += f", {self.note}"
        return " ".join(parts)

    def _line(self) -> None:
        self._last_line = time.monotonic()
        logger.info(f"auto_hpo: {self.line()}")

    def _tick(self) -> None:
        while not self._stop.wait(self.every_s / 4):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()
                elif time.monotonic() - self._last_line >= self.every_s:
                    self._line()

    def close(self) -> None:
        """End the phase (idempotent); a phase that logged lines ends with a last one."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._ticker.join()
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            elif self._last_line > self.start:
                self._line()
