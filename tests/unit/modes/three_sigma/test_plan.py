"""3sigma's plan (modes/three_sigma/plan.py) with ``tighten_only``, on real Data-Juicer ops, against numpy: each
bound is the tighter of the written one and mean -/+ k*std (clamped and cast as always), sizes compared in bytes;
and the samples the written and the tuned bounds keep."""

import math

import numpy as np
import pytest
from data_juicer.ops.filter.alphanumeric_filter import AlphanumericFilter
from data_juicer.ops.filter.image_size_filter import ImageSizeFilter
from data_juicer.ops.filter.text_length_filter import TextLengthFilter

from data_juicer_hpo.modes.three_sigma.plan import keep_masks, plan_bounds, tighter_written

RNG = np.random.default_rng(11)
LENGTHS = RNG.integers(1, 4000, 3000)
RATIOS = RNG.beta(8, 2, 3000)


def _plan(tighten_only, text=None, alnum=None):
    ops = [
        TextLengthFilter(**(text or {"min_len": 50, "max_len": 100000})),
        AlphanumericFilter(**(alnum or {"min_ratio": 0.1, "max_ratio": 0.95})),
    ]
    values = {0: {"text_len": LENGTHS}, 1: {"alnum_ratio": RATIOS}}
    changes, _ = plan_bounds(ops, {0: ["text_len"], 1: ["alnum_ratio"]}, values, 3.0, tighten_only=tighten_only)
    return ops, values, {(c.index, c.arg): c for c in changes}


def _sigma(values):
    return values.mean() - 3 * values.std(ddof=1), values.mean() + 3 * values.std(ddof=1)


def test_tighten_only_keeps_the_tighter_of_written_and_three_sigma():
    lo, hi = _sigma(LENGTHS.astype(float))
    tuned_min, tuned_max = math.ceil(max(0.0, lo)), math.floor(hi)
    assert tuned_min < 50 < 100000 > tuned_max  # the data: 3sigma loosens min_len and tightens max_len
    _, _, plain = _plan(False)
    assert (plain[(0, "min_len")].new, plain[(0, "max_len")].new) == (tuned_min, tuned_max)
    _, _, tight = _plan(True)
    c_min, c_max = tight[(0, "min_len")], tight[(0, "max_len")]
    assert (c_min.new, c_min.written_kept, c_min.sigma) == (50, True, tuned_min)
    assert (c_max.new, c_max.written_kept) == (tuned_max, False)
    r_lo, r_hi = _sigma(RATIOS)
    a_min, a_max = tight[(1, "min_ratio")], tight[(1, "max_ratio")]
    assert a_min.new == pytest.approx(max(0.1, max(0.0, r_lo)), rel=1e-12)
    assert a_max.new == pytest.approx(min(0.95, min(1.0, r_hi)), rel=1e-12)
    assert a_max.written_kept == (0.95 < min(1.0, r_hi))


def test_a_written_bound_looser_on_both_sides_is_tuned_and_one_tighter_is_kept():
    _, _, tight = _plan(True, text={"min_len": 0, "max_len": 10})
    assert tight[(0, "min_len")].written_kept is False  # 0 is looser than 3sigma's min: tuned
    assert (tight[(0, "max_len")].new, tight[(0, "max_len")].written_kept) == (10, True)


def test_keep_masks_as_written_and_as_tuned():
    ops, values, tight = _plan(True)
    written, tuned = keep_masks(ops, list(tight.values()), values, written=True), keep_masks(
        ops, list(tight.values()), values
    )
    assert np.array_equal(written[0], (LENGTHS >= 50) & (LENGTHS <= 100000))
    c = tight[(0, "max_len")]
    assert np.array_equal(tuned[0], (LENGTHS >= 50) & (LENGTHS <= c.new))
    a_min, a_max = tight[(1, "min_ratio")].new, tight[(1, "max_ratio")].new
    assert np.array_equal(tuned[1], (RATIOS >= a_min) & (RATIOS <= a_max))


def test_sizes_are_compared_in_bytes():
    sizes = [[float(s)] for s in RNG.integers(50_000, 150_000, 400)]
    op = ImageSizeFilter(min_size="120KB", max_size="1TB")
    changes, _ = plan_bounds([op], {0: ["image_sizes"]}, {0: {"image_sizes": sizes}}, 3.0, tighten_only=True)
    by_arg = {c.arg: c for c in changes}
    assert by_arg["min_size"].written_kept and by_arg["min_size"].op_value == 120 * 1024  # the op's bytes
    assert not by_arg["max_size"].written_kept and by_arg["max_size"].op_value < 1 << 40


def test_tighter_written():
    assert tighter_written(50, 0, "min") and not tighter_written(50, 60, "min") and not tighter_written(50, 50, "min")
    assert tighter_written(10, 20, "max") and not tighter_written(None, 20, "max")
    assert not tighter_written(True, 0, "min")  # a bool is no bound
