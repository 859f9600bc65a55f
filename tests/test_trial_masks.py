"""Trial keep masks: the numpy interval mask must equal the filter's own decision, or not be used."""

import numpy as np
import pytest

from data_juicer_hpo.trials import TrialEvaluator, _Bundle


def _runner_with(rows, stats_key, stat_names):
    from data_juicer_hpo.ops.columns import StatisticRows, as_column

    runner = object.__new__(TrialEvaluator)
    runner._masks, runner._columns, runner._stats = {}, {}, {stats_key: {name: [] for name in stat_names}}
    statistics = StatisticRows(len(rows))
    statistics.add({name: as_column([row[name] for row in rows]) for name in stat_names})
    bundle = _Bundle(("k",), [], [], None, None, statistics, {0: stats_key}, True)
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
    fast = runner._interval_mask(bundle, 0, op)
    assert fast is not None
    np.testing.assert_array_equal(fast, runner._asked_mask(rows, op))


def test_reversed_range_is_asked_of_the_filter():
    from data_juicer.ops import OPERATORS

    op = OPERATORS.modules["text_length_filter"](min_len=5, max_len=50, reversed_range=True)
    rows = [{"text_len": v} for v in (1, 10, 100)]
    runner, bundle = _runner_with(rows, ("s", 0), ["text_len"])
    assert runner._interval_mask(bundle, 0, op) is None
    assert runner._asked_mask(rows, op).tolist() == [True, False, True]


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
    assert runner._interval_mask(bundle, 0, op) is None
    assert runner._asked_mask(rows, op).tolist() == [i % 2 == 0 for i in range(40)]
