"""Which documents to label (label/draw.py): distinct, seeded, spread over every statistic, denser near the marks --
checked by counting, and statistically against the share a uniform draw would give."""

import numpy as np

from data_juicer_hpo.label.draw import BANDWIDTH, Mark, Statistic, draw


def _rows(picks):
    return [p.row for p in picks]


def test_distinct_reproducible_and_seeded():
    rng = np.random.default_rng(0)
    stats = [Statistic("a.x", rng.normal(size=500), (Mark(0.5, "a.max = 0.5"),)), Statistic("b.y", rng.random(500))]
    first, again, other = draw(stats, 60, seed=1), draw(stats, 60, seed=1), draw(stats, 60, seed=2)
    assert len(set(_rows(first))) == 60 and all(0 <= r < 500 for r in _rows(first))
    assert _rows(first) == _rows(again)
    assert _rows(first) != _rows(other)


def test_every_document_when_asked_for_more():
    stats = [Statistic("a.x", np.arange(7.0))]
    assert sorted(_rows(draw(stats, 50))) == list(range(7))


def test_without_marks_the_draws_cover_every_bin_of_every_statistic():
    n = 1000
    rng = np.random.default_rng(5)
    first, second = rng.permutation(n).astype(float), rng.permutation(n).astype(float)  # unrelated orders
    picks = draw([Statistic("a.x", first), Statistic("b.y", second)], 20, seed=3)
    assert all(p.how == "spread" for p in picks)
    for name, values in (("a.x", first), ("b.y", second)):
        mine = [p.row for p in picks if p.statistic == name]
        assert sorted(int(values[r]) // 100 for r in mine) == list(range(10))  # one per tenth of its ranks


def test_near_draws_crowd_the_marks():
    n, mark = 10000, 7000.0
    values = np.arange(n, dtype=float)
    picks = draw([Statistic("a.x", values, (Mark(mark, "a.max_len = 7000 (the recipe)"),))], 200, seed=4)
    near = [p for p in picks if p.how == "near"]
    assert len(near) == 100
    close = sum(abs(values[p.row] - mark) / n <= 3 * BANDWIDTH for p in near)
    # the weights exp(-d / BANDWIDTH) put 1 - e^-3 = 95 % of the mass within 3 bandwidths; a uniform draw 6 %
    assert close >= 85
    assert all(p.near == ["a.max_len = 7000 (the recipe)"] for p in near if abs(values[p.row] - mark) / n <= 0.03)
    spread = [p for p in picks if p.how == "spread"]
    assert sum(abs(values[p.row] - mark) / n <= 3 * BANDWIDTH for p in spread) <= 15


def test_tied_values_share_one_rank():
    values = np.array([0.0] * 900 + list(np.linspace(0.1, 1.0, 100)))
    picks = draw([Statistic("a.r", values, (Mark(0.05, "a.max_ratio = 0.05"),))], 100, seed=0)
    near_rows = [p.row for p in picks if p.how == "near"]
    # the 900 zeros share the mid-rank 0.45, far below the mark's 0.9: ranked by row, the last zeros would sit on it
    assert len(near_rows) >= 50 and all(values[r] > 0 for r in near_rows)


def test_missing_values_are_not_drawn_along_that_statistic():
    values = np.array([np.nan] * 50 + list(range(50)), dtype=float)
    picks = draw([Statistic("a.x", values, (Mark(25.0, "m"),))], 40, seed=2)
    assert all(p.row >= 50 for p in picks if p.how in ("spread", "near"))
