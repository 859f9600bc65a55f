"""``trials.csv`` and ``best_recipe.yaml``, each written atomically."""

import csv
import io
from typing import List, Sequence

from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.ops.recipe import dump_recipe

__all__ = ["write_trials_csv", "trials_csv_text", "write_best_recipe"]


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
