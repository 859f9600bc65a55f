"""A threshold (ops/thresholds.py): which arguments are thresholds, how recipes write them, which samples they
keep (Data-Juicer's keep rule, in numpy)."""

import pytest

from data_juicer_hpo.ops.thresholds import Threshold, ThresholdPair, kept_mask, match_statistic, threshold_pairs


@pytest.fixture(scope="module")
def ops():
    from data_juicer.ops import OPERATORS

    return OPERATORS.modules


def _by_suffix(pairs):
    return {p.suffix: p for p in pairs}


def test_length_pairs_are_int(ops):
    pairs = _by_suffix(threshold_pairs(ops["text_length_filter"]))
    assert list(pairs) == ["len"]
    assert pairs["len"].low == Threshold("min_len", "min", int)
    assert pairs["len"].high == Threshold("max_len", "max", int)


def test_ratio_pairs_are_float_and_other_args_are_ignored(ops):
    pairs = _by_suffix(threshold_pairs(ops["character_repetition_filter"]))
    assert list(pairs) == ["ratio"]  # rep_len is not a threshold
    assert pairs["ratio"].low.type is float and pairs["ratio"].high.type is float


def test_closed_interval_flags_are_never_thresholds(ops):
    for name in ("text_length_filter", "alphanumeric_filter", "special_characters_filter"):
        args = [t.arg for p in threshold_pairs(ops[name]) for t in p.args]
        assert "min_closed_interval" not in args and "max_closed_interval" not in args


def test_one_sided_threshold(ops):
    pairs = _by_suffix(threshold_pairs(ops["language_id_score_filter"]))
    assert pairs["score"].low.arg == "min_score" and pairs["score"].high is None


def test_several_statistics_are_matched_by_name(ops):
    pairs = _by_suffix(threshold_pairs(ops["image_shape_filter"]))
    assert set(pairs) == {"width", "height"}
    keys = ["image_height", "image_width"]
    assert match_statistic(pairs["width"], keys) == "image_width"
    assert match_statistic(pairs["height"], keys) == "image_height"


def test_single_statistic_and_ambiguity():
    pair = ThresholdPair("len", Threshold("min_len", "min", int), None)
    assert match_statistic(pair, ["text_len"]) == "text_len"
    assert match_statistic(pair, ["a_x", "b_y"]) is None


def test_size_thresholds_are_found_from_size_to_bytes_and_read_back_exactly():
    from data_juicer.ops import OPERATORS
    from data_juicer.utils.mm_utils import size_to_bytes

    from data_juicer_hpo.ops.thresholds import recipe_value, size_bytes

    for name in ("image_size_filter", "audio_size_filter"):
        (pair,) = threshold_pairs(OPERATORS.modules[name])
        assert pair.low.size and pair.high.size and pair.low.type is int
    video = {t.arg: t for p in threshold_pairs(OPERATORS.modules["video_motion_score_filter"]) for t in p.args}
    assert not video["max_size"].size  # a frame size in pixels, not parsed by size_to_bytes
    for text in ("0", "123456", "10KB", "3 MiB", "1tb", "7kib"):
        assert size_bytes(text) == size_to_bytes(text), text
    for text in ("1.5MB", "12K", "abc", "-3", "123456B"):
        assert size_bytes(text) is None, text
    with pytest.raises(ValueError):  # why a byte bound is written as plain digits, not "123456B"
        size_to_bytes("123456B")
    (pair,) = threshold_pairs(OPERATORS.modules["image_size_filter"])
    assert recipe_value(pair.high, 123456) == "123456" and size_to_bytes("123456") == 123456
    assert recipe_value(pair.high, "2MB") == "2MB"


def test_fraction_thresholds_are_read_back_by_the_op():
    from fractions import Fraction

    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.thresholds import fraction_of, live_value, recipe_value

    cls = OPERATORS.modules["video_aspect_ratio_filter"]
    (pair,) = threshold_pairs(cls)
    assert pair.low.parse == "fraction" and pair.low.type is float
    value = 1.7777777777777777
    text = recipe_value(pair.high, value)
    assert isinstance(text, str) and float(cls(max_ratio=text).max_ratio) == value
    assert live_value(pair.low, "16:9") == Fraction(16, 9) == cls(min_ratio="16:9").min_ratio
    assert fraction_of("abc") is None and fraction_of("1/0") is None


def test_open_intervals_follow_data_juicer():
    values = [1, 2, 3]
    assert kept_mask(values, 1, 3, low_closed=False, high_closed=False).tolist() == [False, True, False]


@pytest.mark.parametrize("any_", [True, False])
def test_kept_mask_items_any_all_and_empty(any_):
    from data_juicer_hpo.ops.thresholds import kept_mask_items

    widths = [[10, 50], [], [50], [5, 6], None]
    heights = [[10, 10], [], [99], [10, 10], None]
    keep = kept_mask_items([widths, heights], [8, 8], [60, 60], any_=any_)
    # item ok: (10,10) yes, (50,10) yes; (50,99) no; (5,10) no, (6,10) no
    assert keep.tolist() == [True, True, False, False, True]
    keep = kept_mask_items([[[10, 70]]], [8], [60], any_=any_)
    assert keep.tolist() == [any_]
