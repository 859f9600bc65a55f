"""The Pareto front of a multi-objective sweep and what is written for it: ``pareto.csv``, one runnable recipe per
Pareto trial (``pareto/trial-<number>.yaml``) and ``pareto.png``.

The front is every COMPLETE trial (feasible, when there are constraints) that no other such trial dominates --
at least as good on every objective and better on one -- found by comparing every pair (the same set as Optuna's
``study.best_trials``). Trials with equal values do not dominate each other, so both are on the front.

The recipe processed at the end is the front's *compromise* (:func:`compromise`): each objective min-max normalised
over the front (its best value there 1, its worst 0; an objective equal on the whole front counts 1 for every
trial), the trial nearest the ideal point (1, ..., 1) in Euclidean distance, the earliest on ties. The extremes of a
front are rarely what anyone ships (maximizing quality alone keeps a handful of documents). With
``auto_hpo.select: <objective>`` it is the front's best on that objective instead (the earliest on ties).
"""

import glob
import math
import os
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from loguru import logger

from data_juicer_hpo.engine.goals import Goals, dominates
from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.imports import pyplot
from data_juicer_hpo.modes.wandb.outputs.trials_csv import trials_csv_text
from data_juicer_hpo.ops.recipe import dump_recipe

__all__ = ["pareto_front", "select_trial", "compromise", "distances_to_ideal", "write_pareto", "plot_pareto"]

_RECIPE = re.compile(r"^trial-\d+\.yaml$")


def _candidates(records, goals: Goals) -> list:
    return [
        r
        for r in sorted(records, key=lambda r: r.number)
        if r.state == "COMPLETE" and r.values is not None and r.feasible is not False
    ]


def pareto_front(records, goals: Goals) -> list:
    """The non-dominated COMPLETE (and feasible) trials, in number order."""
    done = _candidates(records, goals)
    return [r for r in done if not any(dominates(o.values, r.values, goals.directions) for o in done if o is not r)]


def select_trial(front: Sequence, goals: Goals, select: str):
    """The trial of ``front`` best on objective ``select`` (the earliest one on ties), or None."""
    if not front:
        return None
    i = goals.names.index(select)
    sign = 1.0 if goals.directions[i] == "maximize" else -1.0
    return max(front, key=lambda r: (sign * r.values[i], -r.number))


def distances_to_ideal(front: Sequence, goals: Goals) -> Dict[int, float]:
    """Trial number -> Euclidean distance of its min-max normalised values from the ideal point (see the module
    doc)."""
    signs = [1.0 if d == "maximize" else -1.0 for d in goals.directions]
    normalised = {r.number: [] for r in front}
    for i, sign in enumerate(signs):
        values = [sign * r.values[i] for r in front]
        low, high = min(values), max(values)
        for r, value in zip(front, values):
            normalised[r.number].append(1.0 if high == low else (value - low) / (high - low))
    return {number: math.sqrt(sum((1.0 - x) ** 2 for x in xs)) for number, xs in normalised.items()}


def compromise(front: Sequence, goals: Goals) -> Tuple[Optional[object], Dict[int, float]]:
    """The front's trial nearest the ideal point (the earliest on ties) and every front trial's distance."""
    if not front:
        return None, {}
    distances = distances_to_ideal(front, goals)
    return min(front, key=lambda r: (distances[r.number], r.number)), distances


def write_pareto(
    out_dir: str,
    records,
    front: Sequence,
    goals: Goals,
    param_names: List[str],
    recipe_of: Callable[[Dict], dict],
    selected=None,
) -> List[str]:
    """``pareto.csv`` (the columns of ``trials.csv``, then ``distance_to_ideal`` and ``selected``: true for the
    processed trial), ``pareto/trial-<n>.yaml`` for each front trial (earlier ones no longer on the front are
    removed) and ``pareto.png``; returns the paths written."""
    feasible = bool(goals.constraints)
    csv_path = os.path.join(out_dir, "pareto.csv")
    distances = distances_to_ideal(front, goals) if front else {}
    more = {
        "distance_to_ideal": lambda r: repr(distances[r.number]),
        "selected": lambda r: "true" if selected is not None and r.number == selected.number else "",
    }
    text = trials_csv_text(front, param_names, goals.names, goals.constrained_names, feasible, more)
    write_atomic(csv_path, text)
    recipes = os.path.join(out_dir, "pareto")
    os.makedirs(recipes, exist_ok=True)
    keep = {f"trial-{r.number}.yaml" for r in front}
    for stale in glob.glob(os.path.join(recipes, "trial-*.yaml")):
        if _RECIPE.match(os.path.basename(stale)) and os.path.basename(stale) not in keep:
            os.remove(stale)
    for r in front:
        dump_recipe(recipe_of(r.params), os.path.join(recipes, f"trial-{r.number}.yaml"))
    written = [csv_path, recipes]
    png = plot_pareto(os.path.join(out_dir, "pareto.png"), records, front, goals, selected)
    if png:
        written.append(png)
    return written


def plot_pareto(path: str, records, front: Sequence, goals: Goals, selected=None) -> Optional[str]:
    """Every COMPLETE trial per pair of objectives (infeasible ones hollow), the front joined in a line and the
    selected trial circled: one panel for 2 objectives, the 3 pairs for 3."""
    done = [r for r in records if r.state == "COMPLETE" and r.values is not None]
    if not done:
        return None
    plt = pyplot()

    n = len(goals.names)
    pairs = [(0, 1)] if n == 2 else [(0, 1), (0, 2), (1, 2)]
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.4 * len(pairs), 5), dpi=110, squeeze=False)
    on_front = {r.number for r in front}
    for ax, (i, j) in zip(axes[0], pairs):
        rest = [r for r in done if r.number not in on_front]
        ok = [r for r in rest if r.feasible is not False]
        bad = [r for r in rest if r.feasible is False]
        ax.scatter([r.values[i] for r in ok], [r.values[j] for r in ok], s=20, color="#7a9cc6", label="trial")
        if bad:
            xs, ys = [r.values[i] for r in bad], [r.values[j] for r in bad]
            ax.scatter(xs, ys, s=20, facecolors="none", edgecolors="#999999", label="infeasible")
        line = sorted(front, key=lambda r: (r.values[i], r.values[j]))
        ax.plot(
            [r.values[i] for r in line],
            [r.values[j] for r in line],
            "-o" if n == 2 else "o",
            color="#c0392b",
            ms=5,
            lw=1.2,
            label="Pareto front" if n == 2 else "Pareto trials",
        )
        if selected is not None:
            ax.scatter(
                [selected.values[i]],
                [selected.values[j]],
                s=160,
                facecolors="none",
                edgecolors="black",
                lw=1.5,
                label=f"selected #{selected.number}",
            )
        ax.set_xlabel(f"{goals.names[i]} ({goals.directions[i]})")
        ax.set_ylabel(f"{goals.names[j]} ({goals.directions[j]})")
        ax.legend(fontsize=8)
    fig.suptitle(f"{len(front)} Pareto trials of {len(done)} completed")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    logger.info(f"auto_hpo[sweep]: plot written to [{path}]")
    return path


def _save(fig, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    fig.savefig(tmp, format="png")
    os.replace(tmp, path)
