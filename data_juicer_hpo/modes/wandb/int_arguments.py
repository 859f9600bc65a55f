"""Sweep values of the type the recipe's argument declares: an integer argument gets integers, end to end.

A W&B kind that draws floats (``uniform``, ``log_uniform_values``, ``normal``...) on an argument declared ``int``
(``text_length_filter.max_len``) would hand the op ``18145.51``, and Data-Juicer's type check rejects it when the
best recipe is run. Instead, such a parameter is sampled as its quantised twin with ``q = 1`` (W&B's own law:
the draw rounded to the nearest integer, ``uniform`` -> ``q_uniform``), so every trial, ``trials.csv``, the study
and the recipes hold the same integer. A ``q_*`` kind with an integral ``q`` gives integers; categorical values
that are integral floats (``100.0``) become ints. What cannot be made an integer without changing the sweep --
a fractional ``q``, a fractional categorical value, ``inv_log_uniform`` (W&B has no quantised twin) -- is
rejected up front, one line naming the parameter. Pure: takes the sweep, the targets and the op classes.
"""

import dataclasses
from typing import Dict, List, Tuple

from data_juicer_hpo.ops.thresholds import argument_type

__all__ = ["fit_to_arguments"]

_TWINS = ("uniform", "log_uniform", "log_uniform_values", "normal", "log_normal", "beta")


def _integral(v) -> bool:
    return isinstance(v, float) and v.is_integer()


def _fit(spec, where: str, what: str) -> Tuple[object, List[str], List[str]]:
    """The spec made integer-valued, its problems and the note to log."""
    kind = spec.distribution
    if kind in _TWINS:
        note = f"{where}: {what} takes an int, so {kind} is sampled as q_{kind} with q=1 (rounded to integers)"
        return dataclasses.replace(spec, distribution=f"q_{kind}", q=1, int_valued=True), [], [note]
    if kind.startswith("inv_log_uniform"):
        return spec, [f"{where}: {what} takes an int, but {kind} draws fractions and has no quantised form"], []
    if kind.startswith("q_") and not spec.int_valued:
        if float(spec.q).is_integer():
            return dataclasses.replace(spec, q=int(spec.q), int_valued=True), [], []
        return spec, [f"{where}.q: {what} takes an int, but q={spec.q} gives fractions; use an integer q"], []
    if kind in ("categorical", "categorical_w_probabilities", "constant"):
        values = spec.values if kind != "constant" else (spec.value,)
        fractional = [v for v in values if isinstance(v, float) and not v.is_integer()]
        if fractional:
            return spec, [f"{where}: {what} takes an int, but the sweep gives {fractional[0]!r}"], []
        ints = tuple(int(v) if _integral(v) else v for v in values)
        if kind == "constant":
            return dataclasses.replace(spec, value=ints[0]), [], []
        return dataclasses.replace(spec, values=ints), [], []
    return spec, [], []


def fit_to_arguments(sweep, targets: Dict[str, object], process: List[dict], op_classes: Dict[str, type]):
    """The sweep with every parameter on an ``int`` argument made integer-valued; problems and notes (one line
    each). Parameters on other arguments, and top-level keys, are left as they are."""
    parameters, problems, notes = dict(sweep.parameters), [], []
    for name, target in targets.items():
        if target.position is None or name not in parameters:
            continue
        op = next(iter(process[target.position]))
        if op not in op_classes or argument_type(op_classes[op], target.arg) is not int:
            continue
        where = f"{sweep.source}.parameters.{name}"
        parameters[name], found, note = _fit(parameters[name], where, f"{op}.{target.arg}")
        problems += found
        notes += note
    return dataclasses.replace(sweep, parameters=parameters), problems, notes
