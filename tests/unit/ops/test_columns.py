"""Statistics as compact columns (ops/columns.py): checked against the filters' own computations."""

import numpy as np
import pytest

from data_juicer_hpo.ops.columns import StatisticRows, as_column, compute_columns

from tests.helpers.data import varied_texts


def test_as_column_is_exact_and_compact():
    ints = as_column([0, 5, 2**31 - 1])
    assert ints.dtype == np.int32 and ints.tolist() == [0, 5, 2**31 - 1]
    big = as_column([0, 2**31])
    assert big.dtype == np.int64 and big.tolist() == [0, 2**31]
    floats = as_column([0.1, 1 / 3])
    assert floats.dtype == np.float64 and floats.tolist() == [0.1, 1 / 3]
    assert as_column([1.0, None]) == [1.0, None]  # a missing value keeps its None (the filter decides)
    assert as_column([[1, 2], [3]]) == [[1, 2], [3]]


def test_statistic_rows_first_producer_wins_and_round_trips():
    rows = StatisticRows(3)
    rows.add({"a": as_column([1, 2, 3]), "b": as_column([0.5, 0.25, 0.125])})
    rows.add({"a": as_column([9, 9, 9]), "c": as_column([None, 1.0, 2.0])})
    expected = [{"a": 1, "b": 0.5, "c": None}, {"a": 2, "b": 0.25, "c": 1.0}, {"a": 3, "b": 0.125, "c": 2.0}]
    assert list(rows) == expected
    assert rows.take([2, 0]) == [expected[2], expected[0]]
    assert rows[1] == expected[1] and type(rows[1]["a"]) is int
    assert [row for chunk in rows.chunks(2) for row in chunk] == expected
    assert rows.as_arrow().to_pylist() == expected
    with pytest.raises(ValueError):
        rows.add({"d": as_column([1, 2])})


def test_compute_columns_computes_each_instance_apart_in_one_pass():
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops import load_ops
    from data_juicer.utils.constant import Fields

    texts = varied_texts(120)
    process = [
        {"character_repetition_filter": {"rep_len": 3}},
        {"character_repetition_filter": {"rep_len": 10}},
        {"text_length_filter": {}},
    ]
    ops = load_ops(process)
    dataset = NestedDataset.from_dict({"text": texts})
    keys = [["char_rep_ratio"], ["char_rep_ratio"], ["text_len"]]
    columns = compute_columns(dataset, ops, keys)
    for op, op_keys, got in zip(ops, keys, columns):
        for key in op_keys:
            want = [op.compute_stats_batched({"text": [t], Fields.stats: [{}]})[Fields.stats][0][key] for t in texts]
            assert np.asarray(got[key]).tolist() == want
    assert not np.array_equal(columns[0]["char_rep_ratio"], columns[1]["char_rep_ratio"])
    assert columns[2]["text_len"].tolist() == [len(t) for t in texts]
