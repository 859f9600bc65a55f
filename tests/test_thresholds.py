import pytest

from data_juicer_hpo.ops.thresholds import Threshold, ThresholdPair, match_statistic, threshold_pairs


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
