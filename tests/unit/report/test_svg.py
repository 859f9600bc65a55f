"""The report's histograms (report/svg.py): the axis scale, bars that add up to the data, bounds off the drawn range
named at its edge, labels escaped."""

import re

import numpy as np

from data_juicer_hpo.report.svg import Mark, histogram_svg, log_axis


def test_log_axis_only_for_positive_values_spanning_three_decades():
    assert log_axis(np.array([1.0, 5000.0])) and not log_axis(np.array([0.0, 5000.0]))
    assert not log_axis(np.array([1.0, 900.0]))


def test_bars_count_every_value_and_bounds_are_drawn_or_named():
    values = np.exp(np.random.default_rng(0).normal(5, 1.5, 2000))
    marks = [
        Mark(0, "min_len = 0", "chosen"),
        Mark(1e12, "max_len = huge", "written"),
        Mark(150.0, "x = <150>", "chosen"),
    ]
    svg = histogram_svg(values, marks, "f (#0): text_len", kept=(0, 150.0))
    counts = [int(c.replace(",", "")) for c in re.findall(r"<title>[^<]* to [^<]*: ([\d,]+)</title>", svg)]
    assert sum(counts) == len(values)
    assert "text_len (log axis)" in svg
    assert "chosen min_len = 0 (off scale)" in svg and "written max_len = huge (off scale)" in svg
    assert "x = &lt;150&gt;" in svg and "<150>" not in svg
    assert svg.count('class="keptzone"') == 1


def test_a_statistic_without_finite_values_is_said_not_drawn():
    assert "no finite values" in histogram_svg(np.array([np.nan]), [], "f: s")
