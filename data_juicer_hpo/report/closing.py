"""The closing summary: the last lines of a run say what was chosen, how many documents it keeps and where the
outputs are, so nobody scrolls 40 lines up for them."""

import time
from typing import List, Optional, Sequence, Tuple

from loguru import logger

__all__ = ["kept_text", "summary_lines", "log_summary"]


def kept_text(kept: Optional[int], total: Optional[int]) -> str:
    """``4,763 of 5,000 documents (95.3 %)`` (what is known of it)."""
    if kept is None:
        return "unknown"
    if not total:
        return f"{kept:,} documents"
    return f"{kept:,} of {total:,} documents ({kept / total:.1%})"


def summary_lines(mode: str, items: Sequence[Tuple[str, str]], outputs: Sequence[Tuple[str, str]],
                  seconds: Optional[float] = None) -> List[str]:  # fmt: skip
    """The summary's lines: a heading, one line per item, then every output with its path."""
    took = "" if seconds is None else f" in {time.strftime('%H:%M:%S', time.gmtime(seconds))}"
    lines = [f"auto_hpo[{mode}]: done{took}. Summary:"]
    lines += [f"auto_hpo[{mode}]:   {label}: {value}" for label, value in items]
    lines += [f"auto_hpo[{mode}]:   {what}: [{path}]" for what, path in outputs if path]
    return lines


def log_summary(mode: str, items, outputs, seconds: Optional[float] = None) -> None:
    for line in summary_lines(mode, items, outputs, seconds):
        logger.info(line)
