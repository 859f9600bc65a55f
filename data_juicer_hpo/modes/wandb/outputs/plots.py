"""What a sweep's trials say about its parameters: importance, correlation, and the plots that show them.

Three PNGs, each for one or several objectives (a multi-objective sweep draws one panel per objective):

* ``metric_history.png``: every COMPLETE trial's value and the best *feasible* value so far (infeasible trials grey,
  never the best); a PRUNED trial only at the value it last reported (on its rung's fraction of the data, which
  Optuna stores as its value), or not at all;
* ``param_importance.png``: per parameter, Optuna's own PED-ANOVA importance (``optuna.importance``, no
  scikit-learn: how much the parameter's distribution in the best trials differs from the whole space) next to
  its correlation with the objective, as W&B's parameter-importance panel shows both: Spearman's rank correlation
  (signed) for numbers, the correlation ratio eta (0 to 1, unsigned) for categories;
* ``parallel_coordinates.png``: every completed trial as a line through its parameter values, coloured by the
  objective, the best feasible one in red and infeasible ones grey.

Everything is computed from the trials' user-facing values (what each recipe got), never from the study's
internal encoding, in an in-memory Optuna study per objective.
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import optuna
from loguru import logger
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from data_juicer_hpo.files import write_figure
from data_juicer_hpo.imports import pyplot

__all__ = [
    "Metric",
    "completed",
    "spearman",
    "correlation_ratio",
    "importances",
    "history_points",
    "draw_history",
    "plot_history",
    "plot_histories",
    "plot_importance",
]


def _value(record) -> Optional[float]:
    return record.value


@dataclass(frozen=True)
class Metric:
    """One objective as the plots see it: its name, goal and how to read its value off a trial record."""

    name: str
    goal: str = "maximize"
    value: Callable[[object], Optional[float]] = _value

    def of(self, record) -> Optional[float]:
        value = self.value(record)
        return None if value is None or not math.isfinite(float(value)) else float(value)


def completed(records, metric: Metric) -> list:
    """COMPLETE trials with a finite value of ``metric``, by trial number."""
    done = [r for r in records if r.state == "COMPLETE" and metric.of(r) is not None]
    return sorted(done, key=lambda r: r.number)


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    _, group = np.unique(x, return_inverse=True)
    sums = np.bincount(group, weights=ranks)
    return (sums / np.bincount(group))[group]


def spearman(x, y) -> float:
    """Spearman's rank correlation (ties averaged); NaN when either side is constant or there are < 3 pairs."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3:
        return math.nan
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def correlation_ratio(categories: list, y) -> float:
    """eta: the square root of the share of ``y``'s variance explained by the category means (0 to 1)."""
    y = np.asarray(y, dtype=np.float64)
    _, group = np.unique([repr(c) for c in categories], return_inverse=True)
    if len(y) < 3 or group.max(initial=0) == 0 or y.std() == 0:
        return math.nan
    means = np.bincount(group, weights=y) / np.bincount(group)
    return float(math.sqrt(np.sum((means[group] - y.mean()) ** 2) / np.sum((y - y.mean()) ** 2)))


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _distribution(values: list):
    """The Optuna distribution spanning a parameter's observed values (log scale over wide positive ranges)."""

    if _numeric(values):
        low, high = min(values), max(values)
        log = low > 0 and high / low >= 100
        if all(isinstance(v, int) for v in values):
            return IntDistribution(int(low), int(high), log=log), values
        return FloatDistribution(float(low), float(high), log=log), [float(v) for v in values]
    labels = [v if isinstance(v, (str, int, float, bool)) or v is None else repr(v) for v in values]
    return CategoricalDistribution(sorted(set(labels), key=repr)), labels


def importances(records, param_names: Sequence[str], metric: Metric) -> Dict[str, dict]:
    """``{parameter: {"importance": PED-ANOVA (normalised to sum 1), "correlation": float, "kind": "spearman" |
    "eta"}}`` over the completed trials (at least 2); parameters that never varied are left out."""

    done = completed(records, metric)
    if len(done) < 2:
        return {}
    ys = [metric.of(r) for r in done]
    varied = [n for n in param_names if all(n in r.params for r in done) and len({repr(r.params[n]) for r in done}) > 1]
    if not varied:
        return {}
    columns = {name: _distribution([r.params[name] for r in done]) for name in varied}
    study = optuna.create_study(direction="maximize" if metric.goal == "maximize" else "minimize")
    for i, y in enumerate(ys):
        params = {name: values[i] for name, (_, values) in columns.items()}
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions={n: d for n, (d, _) in columns.items()}, value=y)
        )
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    scores = optuna.importance.get_param_importances(study, evaluator=evaluator)
    out = {}
    for name, (_, values) in columns.items():
        numeric = _numeric(values)
        correlation = spearman(values, ys) if numeric else correlation_ratio(values, ys)
        out[name] = {"importance": float(scores.get(name, 0.0)), "correlation": correlation}
        out[name]["kind"] = "spearman" if numeric else "eta"
    return out


def history_points(records, metric: Metric) -> dict:
    """What ``metric_history.png`` draws: the completed trials' numbers and values (``feasible``: whether each
    satisfies the constraints), the best *feasible* value so far (None before the first feasible trial: an
    infeasible trial is never the best, as in the log, ``best_recipe.yaml`` and Optuna's own history plot), and the
    pruned trials that reported a value (number, value); a pruned trial without one is not drawn."""
    done = completed(records, metric)
    ys = [metric.of(r) for r in done]
    feasible = [r.feasible is not False for r in done]
    better = max if metric.goal == "maximize" else min
    best, best_so_far = None, []
    for y, ok in zip(ys, feasible):
        if ok:
            best = y if best is None else better(best, y)
        best_so_far.append(None if best is None else float(best))
    pruned = [(r.number, metric.of(r)) for r in records if r.state == "PRUNED" and metric.of(r) is not None]
    return {
        "numbers": [r.number for r in done],
        "values": ys,
        "feasible": feasible,
        "best_so_far": best_so_far,
        "pruned": sorted(pruned),
    }


def draw_history(ax, records, metric: Metric) -> None:
    """One objective's history panel on the matplotlib axes ``ax``."""
    points = history_points(records, metric)
    xs, ys, best, ok = points["numbers"], points["values"], points["best_so_far"], points["feasible"]
    fx = [x for x, f in zip(xs, ok) if f]
    ax.scatter(fx, [y for y, f in zip(ys, ok) if f], s=24, color="#4c72b0", zorder=3,
               label=f"{metric.name} (completed trial)")  # fmt: skip
    if not all(ok):
        ax.scatter([x for x, f in zip(xs, ok) if not f], [y for y, f in zip(ys, ok) if not f], s=24, marker="x",
                   color="#b0b0b0", zorder=3, label="infeasible (breaks a constraint)")  # fmt: skip
    steps = [(x, b) for x, b in zip(xs, best) if b is not None]
    if steps:
        label = f"best feasible so far ({metric.goal})" if not all(ok) else f"best so far ({metric.goal})"
        ax.step(*zip(*steps), where="post", color="#c0392b", lw=1.8, zorder=2, label=label)
    if points["pruned"]:
        px, py = zip(*points["pruned"])
        ax.scatter(px, py, s=26, facecolors="none", edgecolors="#888888", zorder=3,
                   label="pruned: last value it reported (on a data fraction)")  # fmt: skip
    ax.set_xlabel("trial number")
    ax.set_ylabel(metric.name)
    shown = "none feasible" if not steps else f"best {steps[-1][1]:.4g} (#{_best_number(xs, ys, ok, metric.goal)})"
    ax.set_title(f"{metric.name}: {len(xs)} completed trials, {shown}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)


def _best_number(numbers, values, feasible, goal: str) -> int:
    """The number of the best feasible trial (the earliest on ties)."""
    sign = 1.0 if goal == "maximize" else -1.0
    return -max((sign * v, -n) for n, v, f in zip(numbers, values, feasible) if f)[1]


def plot_history(path: str, records, metric: str, goal: str, value: Callable = _value) -> Optional[str]:
    """``metric_history.png`` of one objective (``value`` reads it off a record); None when no trial completed."""
    return plot_histories(path, records, [Metric(metric, goal, value)])


def plot_histories(path: str, records, metrics: Sequence[Metric]) -> Optional[str]:
    """One history panel per objective, stacked; objectives with no completed trial are left out."""
    metrics = [m for m in metrics if completed(records, m)]
    if not metrics:
        logger.info(f"auto_hpo[sweep]: no {path.rsplit('/', 1)[-1]}: no trial completed")
        return None
    plt = pyplot()
    fig, axes = plt.subplots(len(metrics), 1, figsize=(9, 3.9 * len(metrics) + 0.4), dpi=110, squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        draw_history(ax, records, metric)
    fig.tight_layout()
    write_figure(fig, path)
    plt.close(fig)
    return path


def plot_importance(path: str, records, param_names: Sequence[str], metrics: Sequence[Metric]) -> Optional[str]:
    """``param_importance.png``: per objective, PED-ANOVA importance and correlation side by side per parameter;
    None (and a log line saying why) with fewer than 2 completed trials or no parameter that varied."""
    tables = []
    for metric in metrics:
        n_done = len(completed(records, metric))
        if n_done < 2:
            logger.info(f"auto_hpo[sweep]: no parameter importance for {metric.name}: {n_done} completed trial(s), "
                        f"at least 2 needed")  # fmt: skip
            continue
        table = importances(records, param_names, metric)
        if not table:
            logger.info(f"auto_hpo[sweep]: no parameter importance for {metric.name}: no parameter varied")
            continue
        tables.append((metric, n_done, table))
    if not tables:
        return None
    plt = pyplot()
    rows = max(len(t) for _, _, t in tables)
    fig, axes = plt.subplots(
        len(tables), 2, figsize=(10, (0.45 * rows + 1.4) * len(tables) + 0.4), dpi=110, squeeze=False
    )
    for (metric, n_done, table), (left, right) in zip(tables, axes):
        names = sorted(table, key=lambda n: table[n]["importance"])
        positions = np.arange(len(names))
        imp = [table[n]["importance"] for n in names]
        left.barh(positions, imp, color="#4c72b0")
        for y, value in zip(positions, imp):
            left.text(value + 0.01, y, f"{value:.2f}", va="center", fontsize=8, color="#333333")
        left.set_yticks(positions, names, fontsize=8)
        left.set_xlim(0, 1.05)
        left.set_xlabel("importance (Optuna PED-ANOVA, sums to 1)")
        left.set_title(f"{metric.name} ({metric.goal}), {n_done} completed trials", fontsize=10, loc="left")
        corr = [table[n]["correlation"] for n in names]
        colors = ["#c0392b" if (c or 0) < 0 else "#2e8b57" for c in corr]
        right.barh(positions, [0 if math.isnan(c) else c for c in corr], color=colors)
        right.axvline(0, color="#333333", lw=0.8)
        right.set_yticks(positions, ["" for _ in names])
        right.set_xlim(-1.05, 1.05)
        right.set_xlabel(f"correlation with {metric.name}")
        for y, name, c in zip(positions, names, corr):
            label = "n/a" if math.isnan(c) else f"{'eta' if table[name]['kind'] == 'eta' else 'rho'} {c:+.2f}"
            right.text(-1.0 if (c or 0) >= 0 else 1.0, y, label, va="center", ha="left" if (c or 0) >= 0 else "right",
                       fontsize=8, color="#333333")  # fmt: skip
        for ax in (left, right):
            ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    write_figure(fig, path)
    plt.close(fig)
    return path
