"""What a sweep leaves behind: ``trials.csv``, ``best_recipe.yaml`` and two plots, each written atomically."""

import csv
import io
import math
import os
from typing import List, Optional, Sequence

from .ops.recipe import dump_recipe, write_atomic

__all__ = ["write_trials_csv", "trials_csv_text", "write_best_recipe", "plot_history", "plot_importance"]


def trials_csv_text(records, param_names: List[str], metric, extra: Sequence[str] = (), feasible: bool = False) -> str:
    """The CSV text of ``write_trials_csv`` (``pareto.csv`` has the same columns)."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    buf = io.StringIO()
    writer = csv.writer(buf)
    flag = ["feasible"] if feasible else []
    writer.writerow(["number", "state", *param_names, *metrics, *extra, *flag, "duration_s", "error"])
    for r in sorted(records, key=lambda r: r.number):
        if len(metrics) == 1:
            values = [r.value]
        else:
            values = list(r.values) if r.values is not None else [r.scores.get(m) for m in metrics]
        scores = [r.scores.get(name) for name in extra]
        writer.writerow(
            [
                r.number,
                r.state,
                *[r.params.get(name, "") for name in param_names],
                *["" if v is None else repr(float(v)) for v in values + scores],
                *([] if not feasible else ["" if r.feasible is None else str(r.feasible).lower()]),
                "" if r.duration_s is None else f"{r.duration_s:.3f}",
                r.error or "",
            ]
        )
    return buf.getvalue()


def write_trials_csv(path: str, records, param_names: List[str], metric, extra: Sequence[str] = (), feasible=False):
    """One row per trial: number, state, each parameter under its sweep name, the metric (or, with several
    objectives, one column per objective), each other constrained objective, ``feasible`` (true/false, empty
    for a trial that did not complete) when there are constraints, duration, error."""
    write_atomic(path, trials_csv_text(records, param_names, metric, extra, feasible))


def write_best_recipe(path: str, recipe: dict) -> None:
    dump_recipe(recipe, path)


def _finished(records):
    return [r for r in sorted(records, key=lambda r: r.number) if r.state == "COMPLETE" and r.value is not None]


def plot_history(path: str, records, metric: str, goal: str) -> Optional[str]:
    """The metric of every completed trial and the best so far."""
    done = _finished(records)
    if not done:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    better = max if goal == "maximize" else min
    xs = [r.number for r in done]
    ys = [float(r.value) for r in done]
    best, best_so_far = None, []
    for y in ys:
        best = y if best is None else better(best, y)
        best_so_far.append(best)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.scatter(xs, ys, s=22, color="#7a9cc6", label=f"{metric} per trial")
    ax.step(xs, best_so_far, where="post", color="#c0392b", lw=1.8, label=f"best so far ({goal})")
    pruned = [r.number for r in records if r.state == "PRUNED"]
    if pruned:
        ax.scatter(pruned, [min(ys)] * len(pruned), marker="x", color="#999999", s=18, label="pruned")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: {len(done)} completed trials, best {best:.4g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def importance(records, param_names: List[str]) -> dict:
    """|Spearman rank correlation| between each parameter and the metric over completed trials (categorical
    values are ranked by the mean metric of their trials); NaN where a parameter never varied."""
    import numpy as np

    done = _finished(records)
    ys = np.array([float(r.value) for r in done])
    out = {}
    for name in param_names:
        raw = [r.params.get(name) for r in done]
        if len(done) < 3 or len(set(map(repr, raw))) < 2:
            out[name] = math.nan
            continue
        try:
            xs = np.array([float(v) for v in raw])
        except (TypeError, ValueError):
            means = {}
            for v, y in zip(map(repr, raw), ys):
                means.setdefault(v, []).append(y)
            xs = np.array([np.mean(means[repr(v)]) for v in raw])
        rx, ry = np.argsort(np.argsort(xs)), np.argsort(np.argsort(ys))
        if rx.std() == 0 or ry.std() == 0:
            out[name] = math.nan
        else:
            out[name] = float(abs(np.corrcoef(rx, ry)[0, 1]))
    return out


def plot_importance(path: str, records, param_names: List[str], metric: str) -> Optional[str]:
    scores = importance(records, param_names)
    shown = {k: v for k, v in scores.items() if not math.isnan(v)}
    if not shown:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(shown, key=shown.get)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.6), dpi=110)
    ax.barh(names, [shown[n] for n in names], color="#7a9cc6")
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"|Spearman correlation| with {metric}")
    ax.set_title("parameter importance")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _save(fig, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
