"""``trials.csv`` and ``best_recipe.yaml``, each written atomically."""

import csv
import io
from typing import List, Sequence

from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.ops.recipe import dump_recipe

__all__ = ["AMOUNTS", "write_trials_csv", "trials_csv_text", "score_columns", "write_best_recipe"]


AMOUNTS = ("kept", "retention")  # in every trials.csv, whatever the objective
COUNTS = ("kept", "kept_tokens")  # written as integers


def score_columns(records, metrics: Sequence[str], extra: Sequence[str] = ()) -> List[str]:
    """The score columns after the metrics: the other constrained objectives, ``kept``, ``retention``, then every
    other score a trial recorded (a budgeted objective's ``<name>_se``), sorted."""
    columns: List[str] = []
    for name in [*[e for e in extra if e not in AMOUNTS], *AMOUNTS]:  # always kept, then retention
        if name not in metrics and name not in columns:
            columns.append(name)
    others = {name for r in records for name in r.scores if name not in metrics and name not in columns}
    return columns + sorted(others)


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if name in COUNTS and value.is_integer() else repr(value)


def trials_csv_text(
    records, param_names: List[str], metric, extra: Sequence[str] = (), feasible: bool = False, more=()
) -> str:
    """The CSV text of ``write_trials_csv`` (``pareto.csv`` has the same columns, and ``more``: name -> the value
    of each record)."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    extra = score_columns(records, metrics, extra)
    more = dict(more)
    buf = io.StringIO()
    writer = csv.writer(buf)
    flag = ["feasible"] if feasible else []
    writer.writerow(["number", "state", *param_names, *metrics, *extra, *flag, *more, "duration_s", "error"])
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
                *[_cell(name, v) for name, v in zip([*metrics, *extra], values + scores)],
                *([] if not feasible else ["" if r.feasible is None else str(r.feasible).lower()]),
                *[value(r) for value in more.values()],
                "" if r.duration_s is None else f"{r.duration_s:.3f}",
                r.error or "",
            ]
        )
    return buf.getvalue()


def write_trials_csv(path: str, records, param_names: List[str], metric, extra: Sequence[str] = (), feasible=False):
    """One row per trial: number, state, each parameter under its sweep name, the metric (or, with several
    objectives, one column per objective), each other constrained objective, ``kept`` and ``retention``, the
    other scores (``model_loss_se``), ``feasible`` (true/false, empty for a trial that did not complete) when there
    are constraints, duration, error."""
    write_atomic(path, trials_csv_text(records, param_names, metric, extra, feasible))


def write_best_recipe(path: str, recipe: dict) -> None:
    dump_recipe(recipe, path)
