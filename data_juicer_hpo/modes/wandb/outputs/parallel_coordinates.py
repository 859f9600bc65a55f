"""``parallel_coordinates.png``: every completed trial as a line through its parameter values and objectives.

One vertical axis per parameter (numbers on a linear or, over a wide positive range, log scale; categories evenly
spaced) and one per objective, each labelled with its own values; lines are coloured by the first objective and
the best *feasible* trial is drawn on top in red; infeasible trials (breaking a constraint) are drawn grey, beneath,
and are never the best. Drawn with matplotlib from the trials' user-facing values (Optuna's own
``plot_parallel_coordinate`` reads the study's internal encoding).
"""

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
from loguru import logger

from data_juicer_hpo.files import write_figure
from data_juicer_hpo.imports import pyplot
from data_juicer_hpo.modes.wandb.outputs.plots import Metric, completed

__all__ = ["plot_parallel_coordinates", "draw_parallel_coordinates", "best_feasible_index"]


def _axis(values: list) -> Tuple[np.ndarray, List[float], List[str]]:
    """Positions in [0, 1] of each value on one axis, plus tick positions and labels."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numeric:
        labels = sorted({repr(v) if not isinstance(v, str) else v for v in values})
        where = {label: i for i, label in enumerate(labels)}
        scale = max(len(labels) - 1, 1)
        keys = [repr(v) if not isinstance(v, str) else v for v in values]
        return np.array([where[k] / scale for k in keys]), [i / scale for i in range(len(labels))], labels
    x = np.asarray(values, dtype=np.float64)
    low, high = float(x.min()), float(x.max())
    log = low > 0 and high / low >= 100
    f = np.log10 if log else (lambda v: v)
    span = f(high) - f(low)
    positions = (f(x) - f(low)) / span if span > 0 else np.full(len(x), 0.5)
    ticks = np.logspace(math.log10(low), math.log10(high), 5) if log else np.linspace(low, high, 5)
    if span == 0:
        ticks = np.array([low])
    tick_positions = [float((f(t) - f(low)) / span) if span > 0 else 0.5 for t in ticks]
    integers = all(isinstance(v, int) for v in values)
    return positions, tick_positions, [f"{round(t):,}" if integers else f"{t:.4g}" for t in ticks]


def best_feasible_index(done, metric: Metric) -> Optional[int]:
    """The position in ``done`` of the best feasible trial on ``metric`` (the earliest on ties), or None."""
    sign = 1.0 if metric.goal == "maximize" else -1.0
    candidates = [(sign * metric.of(r), -r.number, i) for i, r in enumerate(done) if r.feasible is not False]
    return max(candidates)[2] if candidates else None


def plot_parallel_coordinates(
    path: str, records, param_names: Sequence[str], metrics: Sequence[Metric]
) -> Optional[str]:
    """The plot over the trials that completed every objective; None with fewer than 2 such trials."""
    fig = draw_parallel_coordinates(records, param_names, metrics)
    if fig is None:
        return None
    write_figure(fig, path)
    pyplot().close(fig)
    return path


def draw_parallel_coordinates(records, param_names: Sequence[str], metrics: Sequence[Metric]):
    """The matplotlib figure of :func:`plot_parallel_coordinates` (None with fewer than 2 completed trials)."""
    if not metrics:
        return None
    done = [r for r in completed(records, metrics[0]) if all(m.of(r) is not None for m in metrics)]
    names = [n for n in param_names if all(n in r.params for r in done)]
    if len(done) < 2:
        logger.info(f"auto_hpo[sweep]: no parallel coordinates: {len(done)} completed trial(s), at least 2 needed")
        return None
    plt = pyplot()

    columns = [[r.params[n] for r in done] for n in names] + [[m.of(r) for r in done] for m in metrics]
    titles = list(names) + [f"{m.name}\n({m.goal})" for m in metrics]
    axes_data = [_axis(values) for values in columns]
    first = np.array([metrics[0].of(r) for r in done])
    best = best_feasible_index(done, metrics[0])
    ok = np.array([r.feasible is not False for r in done])
    # the better a trial, the brighter its line (viridis ends yellow): reversed when smaller is better
    cmap = plt.get_cmap("viridis" if metrics[0].goal == "maximize" else "viridis_r")
    shade = first[ok] if ok.any() else first
    low, high = float(shade.min()), float(shade.max())
    norm = plt.Normalize(low, high) if high > low else plt.Normalize(low - 1, high + 1)
    goodness = np.where(ok, norm(first) if metrics[0].goal == "maximize" else 1 - norm(first), -1.0)
    fig, ax = plt.subplots(figsize=(max(8, 1.9 * len(titles) + 1), 5.2), dpi=110)
    xs = np.arange(len(titles))
    ys = np.stack([positions for positions, _, _ in axes_data])
    for i in np.argsort(goodness, kind="stable"):  # infeasible first (beneath), the best lines last, on top
        if i == best:
            color, width, z, alpha = "#d62728", 2.6, 3, 0.9
        elif not ok[i]:
            color, width, z, alpha = "#b8b8b8", 0.9, 1.5, 0.6
        else:
            color, width, z, alpha = cmap(norm(first[i])), 1.0, 2, 0.55
        ax.plot(xs, ys[:, i], color=color, lw=width, alpha=alpha, zorder=z)
    for x, (_, ticks, labels) in zip(xs, axes_data):
        ax.axvline(x, color="#444444", lw=0.9, zorder=1)
        for t, label in zip(ticks, labels):
            ax.text(x + 0.03, t, label, fontsize=7, va="center", ha="left", color="#222222", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5})  # fmt: skip
    ax.set_xticks(xs, titles, fontsize=8, rotation=15, ha="right")
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(titles) - 0.5)
    ax.set_ylim(-0.05, 1.05)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    cbar = fig.colorbar(plt.cm.ScalarMappable(cmap=cmap, norm=norm), ax=ax, pad=0.01, fraction=0.03)
    cbar.set_label(metrics[0].name)
    title = f"{len(done)} completed trials; red: the best by {metrics[0].name}"
    if not ok.all():
        title = (
            f"{len(done)} completed trials; red: the best feasible by {metrics[0].name} " f"(#{done[best].number})"
            if best is not None
            else f"{len(done)} completed trials; none feasible"
        )
        title += f"; grey: {int((~ok).sum())} infeasible"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
