"""What a sweep leaves behind: ``trials.csv``, ``best_recipe.yaml`` and three plots (see :mod:`.analysis`), each
written atomically."""

import csv
import io
import os
from typing import List, Sequence

from .analysis import Metric, plot_histories, plot_history, plot_importance
from .ops.recipe import dump_recipe, write_atomic

__all__ = ["write_trials_csv", "write_best_recipe", "write_plots", "Metric", "plot_history", "plot_importance"]


def write_trials_csv(path: str, records, param_names: List[str], metric: str) -> None:
    """One row per trial: number, state, each parameter under its sweep name, the metric, duration, error."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["number", "state", *param_names, metric, "duration_s", "error"])
    for r in sorted(records, key=lambda r: r.number):
        writer.writerow(
            [
                r.number,
                r.state,
                *[r.params.get(name, "") for name in param_names],
                "" if r.value is None else repr(float(r.value)),
                "" if r.duration_s is None else f"{r.duration_s:.3f}",
                r.error or "",
            ]
        )
    write_atomic(path, buf.getvalue())


def write_best_recipe(path: str, recipe: dict) -> None:
    dump_recipe(recipe, path)


def write_plots(out_dir: str, records, param_names: List[str], metrics: Sequence[Metric]) -> List[str]:
    """``metric_history.png``, ``param_importance.png`` and ``parallel_coordinates.png`` in ``out_dir``, one panel
    (or axis) per objective in ``metrics``; a plot that cannot be drawn is skipped with a log line saying why."""
    from .parallel_coordinates import plot_parallel_coordinates

    paths = [
        plot_histories(os.path.join(out_dir, "metric_history.png"), records, metrics),
        plot_importance(os.path.join(out_dir, "param_importance.png"), records, param_names, metrics),
        plot_parallel_coordinates(os.path.join(out_dir, "parallel_coordinates.png"), records, param_names, metrics),
    ]
    return [p for p in paths if p]
