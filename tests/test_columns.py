"""Statistics as compact columns (ops/columns.py), texts read from Arrow (arrow_texts.py), and the keep-mask engine
on given columns (TrialEvaluator.on_columns): checked against the filters' own computations and plain numpy."""

import numpy as np
import pytest

from data_juicer_hpo.arrow_texts import ArrowTexts
from data_juicer_hpo.ops.columns import StatisticRows, as_column, compute_columns

from conftest import varied_texts


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


def test_arrow_texts_reads_like_a_list_and_follows_a_filter():
    import datasets

    texts = varied_texts(50) + ["", "é ü 漢字"] + varied_texts(5000, seed=3)
    full = datasets.Dataset.from_dict({"text": texts, "n": list(range(len(texts)))})
    for dataset, want in (
        (full, texts),
        (full.filter(lambda s: s["n"] % 3 != 1), [t for i, t in enumerate(texts) if i % 3 != 1]),  # indices mapping
    ):
        seq = ArrowTexts.of(dataset, "text")
        assert len(seq) == len(want) and list(seq) == want
        assert seq[0] == want[0] and seq[-1] == want[-1] and seq[25] == want[25]
        assert seq[18:23] == want[18:23] and seq[::7] == want[::7]
        assert seq[np.array([51, 3, 20])] == [want[51], want[3], want[20]]
        with pytest.raises(IndexError):
            seq[len(want)]


class _Mean:
    def __init__(self, values):
        self.values = values

    def score(self, population, kept):
        return float(self.values[kept].mean()) if len(kept) else 0.0


class _Population(list):
    cache: dict = {}


def test_keep_mask_engine_on_columns_matches_numpy():
    from data_juicer_hpo.ops.addressing import Target
    from data_juicer_hpo.trials import TrialEvaluator

    rng = np.random.default_rng(3)
    n = 5000
    text_len = rng.integers(0, 3000, n).astype(np.int32)
    ratio = rng.uniform(0, 1, n)
    process = [{"text_length_filter": {"min_len": 10, "max_len": 2000}}, {"alphanumeric_filter": {"min_ratio": 0.2}}]
    targets = {
        "text_length_filter.min_len": Target("text_length_filter.min_len", 0, "min_len"),
        "alphanumeric_filter.min_ratio": Target("alphanumeric_filter.min_ratio", 1, "min_ratio"),
    }
    values = rng.uniform(0, 1, n)
    evaluator = TrialEvaluator.on_columns(
        process, {0: {"text_len": text_len}, 1: {"alnum_ratio": ratio}}, targets, _Mean(values), _Population(range(n))
    )
    for number, (min_len, min_ratio) in enumerate([(100, 0.3), (0, 0.0), (2500, 0.9), (1000, 0.5)]):
        params = {"text_length_filter.min_len": min_len, "alphanumeric_filter.min_ratio": min_ratio}
        keep = (text_len >= min_len) & (text_len <= 2000) & (ratio >= min_ratio) & (ratio <= 1.0)
        assert evaluator.evaluate(params, number) == pytest.approx(values[keep].mean() if keep.any() else 0.0)


def test_arrow_texts_release_pages_keeps_the_texts(tmp_path):
    """Paging a memory-mapped text column out of the process is a hint: the texts read the same afterwards."""
    import datasets

    texts = varied_texts(3000, seed=5)
    datasets.Dataset.from_dict({"text": texts}).save_to_disk(str(tmp_path / "ds"))
    mapped = datasets.load_from_disk(str(tmp_path / "ds"))  # memory-mapped from its Arrow file
    seq = ArrowTexts.of(mapped, "text")
    assert list(seq) == texts
    assert seq.release_pages() >= 0
    assert list(seq) == texts and seq[17] == texts[17]
    in_memory = ArrowTexts.of(datasets.Dataset.from_dict({"text": texts}), "text")
    in_memory.release_pages()  # anonymous memory: MADV_PAGEOUT never drops data either
    assert list(in_memory) == texts
