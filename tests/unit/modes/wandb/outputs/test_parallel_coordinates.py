"""parallel_coordinates.png (modes/wandb/outputs/parallel_coordinates.py): the red line is the best *feasible*
trial, infeasible trials are grey and beneath (issue 18: an infeasible trial keeping 2.9 % was drawn as the best)."""

import numpy as np
from matplotlib.colors import to_hex

from data_juicer_hpo.engine.trial import TrialRecord
from data_juicer_hpo.imports import pyplot
from data_juicer_hpo.modes.wandb.outputs.parallel_coordinates import best_feasible_index, draw_parallel_coordinates
from data_juicer_hpo.modes.wandb.outputs.plots import Metric

VALUES = [0.10, 0.12, 0.30, 0.11, 0.15, 0.14]
FEASIBLE = [True, True, False, True, True, False]


def _records():
    return [
        TrialRecord(i, "COMPLETE", {"f.min_len": 10 * (i + 1), "f.ratio": 0.1 * i}, v, None, 1.0, feasible=ok)
        for i, (v, ok) in enumerate(zip(VALUES, FEASIBLE))
    ]


def test_best_feasible_index():
    records = _records()
    assert best_feasible_index(records, Metric("q", "maximize")) == 4
    assert best_feasible_index(records, Metric("q", "minimize")) == 0
    assert best_feasible_index([r for r in records if not r.feasible], Metric("q", "maximize")) is None


def test_the_red_line_is_the_best_feasible_trial_and_infeasible_ones_are_grey():
    fig = draw_parallel_coordinates(_records(), ["f.min_len", "f.ratio"], [Metric("q", "maximize")])
    try:
        ax = fig.axes[0]
        lines = [line for line in ax.lines if len(line.get_xdata()) == 3]  # one line per trial over 3 axes
        red = [line for line in lines if to_hex(line.get_color()) == "#d62728"]
        grey = [line for line in lines if to_hex(line.get_color()) == "#b8b8b8"]
        assert len(red) == 1 and len(grey) == 2
        # trial 4 sits at min_len 50 of 10..60 (0.8) and at the feasible top of the value axis
        assert np.allclose(red[0].get_ydata()[:2], [0.8, 0.8])
        assert red[0].get_zorder() > max(line.get_zorder() for line in lines if line is not red[0])
        assert all(g.get_zorder() < 2 for g in grey)
        assert "best feasible by q (#4)" in ax.get_title() and "grey: 2 infeasible" in ax.get_title()
    finally:
        pyplot().close(fig)
