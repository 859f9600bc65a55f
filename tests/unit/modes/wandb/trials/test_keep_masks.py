"""Trial keep masks (modes/wandb/trials/keep_masks.py): the numpy interval mask must equal the filter's own
decision, or not be used."""

import numpy as np
import pytest

from data_juicer_hpo.modes.wandb.trials.bundles import Bundle
from data_juicer_hpo.modes.wandb.trials.keep_masks import KeepMasks, asked_mask


def _statistic_rows(rows, stat_names):
    """``rows`` (one dict of statistics per sample) as the trial evaluator holds them: columns."""
    from data_juicer_hpo.ops.columns import StatisticRows, as_column

    statistics = StatisticRows(len(rows))
    statistics.add({name: as_column([row[name] for row in rows]) for name in stat_names})
    return statistics


def _runner_with(rows, stats_key, stat_names):
    runner = KeepMasks({stats_key: {name: [] for name in stat_names}})
    statistics = _statistic_rows(rows, stat_names)
    bundle = Bundle(("k",), [], [], None, None, statistics, {0: stats_key}, True)
    return runner, bundle


@pytest.mark.parametrize(
    "op_name, args, stat, values",
    [
        ("text_length_filter", {"min_len": 5, "max_len": 50}, "text_len", [0, 4, 5, 6, 49, 50, 51, 1000] * 20),
        (
            "text_length_filter",
            {"min_len": 5, "max_len": 50, "min_closed_interval": False, "max_closed_interval": False},
            "text_len",
            [0, 4, 5, 6, 49, 50, 51, 1000] * 20,
        ),
        (
            "character_repetition_filter",
            {"min_ratio": 0.1, "max_ratio": 0.3},
            "char_rep_ratio",
            list(np.linspace(0, 1, 101)),
        ),
        ("average_line_length_filter", {"min_len": 3, "max_len": 7}, "avg_line_length", [2.5, 3.0, 3.5, 7.0, 7.01] * 9),
    ],
)
def test_interval_mask_equals_the_filters_decision(op_name, args, stat, values):
    from data_juicer.ops import OPERATORS

    op = OPERATORS.modules[op_name](**args)
    rows = [{stat: v} for v in values]
    runner, bundle = _runner_with(rows, ("s", 0), [stat])
    fast = runner.interval_mask(bundle, 0, op)
    assert fast is not None
    np.testing.assert_array_equal(fast, asked_mask(rows, op))


def test_reversed_range_is_asked_of_the_filter():
    from data_juicer.ops import OPERATORS

    op = OPERATORS.modules["text_length_filter"](min_len=5, max_len=50, reversed_range=True)
    rows = [{"text_len": v} for v in (1, 10, 100)]
    runner, bundle = _runner_with(rows, ("s", 0), ["text_len"])
    assert runner.interval_mask(bundle, 0, op) is None
    assert asked_mask(rows, op).tolist() == [True, False, True]


def test_a_filter_that_is_not_an_interval_is_asked():
    from data_juicer.ops import Filter

    class ParityFilter(Filter):
        """Has min/max thresholds but keeps even values only: no interval rule describes it."""

        def __init__(self, min_n: int = 0, max_n: int = 100, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.min_n, self.max_n = min_n, max_n

        def compute_stats_single(self, sample, context=False):
            return sample

        def process_single(self, sample):
            return sample["__dj__stats__"]["n"] % 2 == 0

    op = ParityFilter()
    rows = [{"n": i} for i in range(40)]
    runner, bundle = _runner_with(rows, ("s", 0), ["n"])
    assert runner.interval_mask(bundle, 0, op) is None
    assert asked_mask(rows, op).tolist() == [i % 2 == 0 for i in range(40)]


def _media_rows(stat_names, seed, n=300, high=100):
    """Rows with 0..3 items each: one list per statistic, the same length within a row."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        count = int(rng.integers(0, 4))
        rows.append({name: [int(v) for v in rng.integers(1, high, size=count)] for name in stat_names})
    return rows


@pytest.mark.parametrize("any_or_all", ["any", "all"])
@pytest.mark.parametrize(
    "op_name, args, stats",
    [
        (
            "image_shape_filter",
            {"min_width": 20, "max_width": 70, "min_height": 10, "max_height": 90},
            ["image_width", "image_height"],
        ),
        (
            "image_shape_filter",
            {"min_width": 20, "max_width": 70, "min_closed_interval": False},
            ["image_width", "image_height"],
        ),
        ("image_size_filter", {"min_size": "25", "max_size": "80"}, ["image_sizes"]),
        ("image_aspect_ratio_filter", {"min_ratio": 30.0, "max_ratio": 60.5}, ["aspect_ratios"]),
        ("audio_size_filter", {"min_size": "10", "max_size": "50"}, ["audio_sizes"]),
        ("video_aspect_ratio_filter", {"min_ratio": "30/1", "max_ratio": "60.5"}, ["video_aspect_ratios"]),
        ("video_resolution_filter", {"min_width": 20, "max_height": 70}, ["video_width", "video_height"]),
    ],
)
def test_list_valued_mask_equals_the_filters_decision(op_name, args, stats, any_or_all):
    from data_juicer.ops import OPERATORS

    op = OPERATORS.modules[op_name](any_or_all=any_or_all, **args)
    rows = _media_rows(stats, seed=len(op_name))
    runner, bundle = _runner_with(rows, ("s", 0), stats)
    fast = runner.interval_mask(bundle, 0, op)
    assert fast is not None
    asked = asked_mask(rows, op)
    np.testing.assert_array_equal(fast, asked)
    assert 0 < asked.sum() < len(rows)  # the bounds cut something and keep something
    assert all(asked[i] for i, row in enumerate(rows) if not row[stats[0]])  # no media: kept


def test_size_thresholds_are_set_in_bytes_from_strings_or_counts():
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.addressing import Target, apply_params

    op = OPERATORS.modules["image_size_filter"](max_size="1TB")
    targets = {"image_size_filter.max_size": Target("image_size_filter.max_size", 0, "max_size", "size")}
    rows = [{"image_sizes": [v]} for v in range(0, 4000, 100)]
    runner = KeepMasks({("s", 0): {"image_sizes": [r["image_sizes"] for r in rows]}})
    statistics = _statistic_rows(rows, ["image_sizes"])
    process = [{"image_size_filter": {"max_size": "1TB"}}]
    bundle = Bundle(("k",), process, [op], None, None, statistics, {0: ("s", 0)}, True)
    for value, expected in ((2000, 21), ("2KB", 21), ("1000", 11)):
        kept = runner.kept(bundle, apply_params(process, targets, {"image_size_filter.max_size": value})[0])
        assert len(kept) == expected, value
        assert op.max_size == {2000: 2000, "2KB": 2048, "1000": 1000}[value]


def test_fraction_thresholds_are_set_from_strings_or_numbers():
    from fractions import Fraction

    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.addressing import Target, apply_params

    op = OPERATORS.modules["video_aspect_ratio_filter"](min_ratio="0", max_ratio="100")
    name = "video_aspect_ratio_filter.max_ratio"
    targets = {name: Target(name, 0, "max_ratio", "fraction")}
    rows = [{"video_aspect_ratios": [v / 10]} for v in range(40)]
    runner = KeepMasks({("s", 0): {"video_aspect_ratios": [r["video_aspect_ratios"] for r in rows]}})
    process = [{"video_aspect_ratio_filter": {"min_ratio": "0", "max_ratio": "100"}}]
    bundle = Bundle(
        ("k",), process, [op], None, None, _statistic_rows(rows, ["video_aspect_ratios"]), {0: ("s", 0)}, True
    )
    for value, expected, held in (
        ("16/9", 18, Fraction(16, 9)),
        ("3:2", 16, Fraction(3, 2)),
        (2.5, 26, Fraction(5, 2)),
    ):
        kept = runner.kept(bundle, apply_params(process, targets, {name: value})[0])
        assert len(kept) == expected and op.max_ratio == held, value
