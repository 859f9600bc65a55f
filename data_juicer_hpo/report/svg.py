"""Inline SVG pictures for the report (no image files, no script): a statistic's histogram with its bounds.

The x axis is logarithmic when every value is > 0 and they span more than three decades (lengths, sizes), as the
3sigma histograms draw them; the documents a pair of bounds keeps are shaded. A bound outside the drawn range (the
default ``max_len`` of ``sys.maxsize``, ``0`` on a log axis) is named at the edge it lies beyond.
"""

import html
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

__all__ = ["Mark", "histogram_svg", "log_axis"]

WIDTH, HEIGHT = 720, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 44, 34, 40
COLORS = {"written": "#6b6b6b", "chosen": "#c0392b"}


@dataclass(frozen=True)
class Mark:
    value: Optional[float]
    label: str  # e.g. "min_len = 50"
    version: str  # "written" or "chosen"


def log_axis(values: np.ndarray) -> bool:
    """Whether a histogram of ``values`` uses a log x axis."""
    return bool(values.size and values.min() > 0 and values.max() / values.min() > 1e3)


def _fmt(value: float) -> str:
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
        return f"{value:.2g}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def histogram_svg(values: np.ndarray, marks: Sequence[Mark], title: str, kept: Optional[tuple] = None) -> str:
    """An SVG histogram of ``values`` with a vertical line per mark (written: dashed grey; chosen: red) and the
    range ``kept`` = (low, high) shaded (None on a side: open)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return f'<p class="muted">{_esc(title)}: no finite values to draw</p>'
    log = log_axis(values)
    f = np.log10 if log else (lambda v: v)
    low, high = float(values.min()), float(values.max())
    if high == low:
        low, high = (low / 2, low * 2) if log else (low - 0.5, high + 0.5)
    bins = np.logspace(math.log10(low), math.log10(high), 61) if log else np.linspace(low, high, 61)
    bins[0], bins[-1] = low, high  # 10 ** log10(x) may miss x by a rounding: the extremes must fall inside
    counts, edges = np.histogram(values, bins=bins)
    x0, x1 = float(f(edges[0])), float(f(edges[-1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + (float(f(value)) - x0) / (x1 - x0) * plot_w

    top = max(int(counts.max()), 1)
    parts: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="hist" role="img" '
        f'aria-label="{_esc(title)}"><title>{_esc(title)}</title>',
    ]
    if kept is not None:
        lo = LEFT if kept[0] is None or kept[0] <= edges[0] else min(max(x(kept[0]), LEFT), LEFT + plot_w)
        hi = LEFT + plot_w if kept[1] is None or kept[1] >= edges[-1] else min(max(x(kept[1]), LEFT), LEFT + plot_w)
        if hi > lo:
            parts.append(f'<rect x="{lo:.1f}" y="{TOP}" width="{hi - lo:.1f}" height="{plot_h}" class="keptzone"/>')
    for count, a, b in zip(counts, edges[:-1], edges[1:]):
        if count:
            h = count / top * plot_h
            parts.append(
                f'<rect x="{x(a):.1f}" y="{TOP + plot_h - h:.1f}" width="{max(x(b) - x(a) - 0.6, 0.6):.1f}" '
                f'height="{h:.1f}" class="bar"><title>{_fmt(a)} to {_fmt(b)}: {int(count):,}</title></rect>'
            )
    base = TOP + plot_h
    parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + plot_w}" y2="{base}" class="axis"/>')
    ticks = np.logspace(math.log10(edges[0]), math.log10(edges[-1]), 5) if log else np.linspace(edges[0], edges[-1], 5)
    for t in ticks:
        parts.append(f'<text x="{x(t):.1f}" y="{base + 15}" class="tick" text-anchor="middle">{_fmt(t)}</text>')
    parts.append(f'<text x="{LEFT - 6}" y="{TOP + 4}" class="tick" text-anchor="end">{top:,}</text>')
    parts.append(f'<text x="{LEFT - 6}" y="{base}" class="tick" text-anchor="end">0</text>')
    axis = f"{title.split(': ')[-1]} ({'log' if log else 'linear'} axis)"
    parts.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" class="label" text-anchor="middle">'
                 f'{_esc(axis)}</text>')  # fmt: skip
    row = {"written": 0, "chosen": 0}
    for mark in marks:
        if mark.value is None:
            continue
        color = COLORS.get(mark.version, "#333")
        dash = ' stroke-dasharray="5 3"' if mark.version == "written" else ""
        label = f"{'written' if mark.version == 'written' else 'chosen'} {mark.label}"
        y = 12 + 11 * row[mark.version] if mark.version == "written" else 12 + 11 * (row[mark.version] + 1)
        row[mark.version] += 1
        value = float(mark.value)
        if (log and value <= 0) or value < edges[0]:
            parts.append(f'<text x="{LEFT}" y="{y}" class="mark" fill="{color}">&#9664; {_esc(label)} '
                         f'(off scale)</text>')  # fmt: skip
            continue
        if value > edges[-1]:
            parts.append(f'<text x="{LEFT + plot_w}" y="{y}" class="mark" fill="{color}" text-anchor="end">'
                         f'{_esc(label)} (off scale) &#9654;</text>')  # fmt: skip
            continue
        px = x(value)
        anchor = "end" if px > LEFT + plot_w * 0.6 else "start"
        shift = -4 if anchor == "end" else 4
        parts.append(
            f'<line x1="{px:.1f}" y1="{TOP - 4}" x2="{px:.1f}" y2="{base}" stroke="{color}" stroke-width="2"{dash}>'
            f"<title>{_esc(label)}</title></line>"
            f'<text x="{px + shift:.1f}" y="{y}" class="mark" fill="{color}" text-anchor="{anchor}">{_esc(label)}'
            f"</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
