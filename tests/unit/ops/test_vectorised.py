"""Which statistics are vectorised, the check against the op on every batch, and both statistics passes (3sigma's
``__dj__stats__`` column, the sweeps' columns) giving exactly what the ops give (ops/vectorised.py)."""

import json
import os

import numpy as np
import pytest

from data_juicer_hpo.ops import vectorised

from tests.helpers.data import varied_texts
from tests.helpers.statistics import EDGE_TEXTS, bench_texts, mismatches, op_values, write_word_lists

UTF8_EDGES = [t for t in EDGE_TEXTS if t.encode("utf-8", "surrogatepass").decode("utf-8", "replace") == t]


def _recipe(words):
    return [
        {"text_length_filter": {}},
        {"average_line_length_filter": {}},
        {"maximum_line_length_filter": {}},
        {"alphanumeric_filter": {}},
        {"special_characters_filter": {}},
        {"character_repetition_filter": {"rep_len": 5}},
        {"words_num_filter": {}},
        {"word_repetition_filter": {"rep_len": 3}},
        {"stopwords_filter": {"stopwords_dir": words}},
        {"flagged_words_filter": {"flagged_words_dir": words}},
    ]


def _ops(process):
    from data_juicer.ops import load_ops

    ops = load_ops(process)
    for op in ops:  # in this process, with small batches: several batches, and monkeypatches seen
        op.auto_op_parallelism, op.num_proc, op.batch_size = False, 1, 40
    return ops


def test_every_common_text_filter_applies_and_the_others_say_why(tmp_path):
    from data_juicer.ops.filter.text_length_filter import TextLengthFilter

    words = write_word_lists(tmp_path)
    ops = _ops(_recipe(words))
    assert all(vectorised.applies(op) for op in ops) and vectorised.reasons(ops) == []

    class Longer(TextLengthFilter):
        pass

    others = _ops(
        [
            {"stopwords_filter": {"stopwords_dir": words, "use_words_aug": True}},
            {"flagged_words_filter": {"flagged_words_dir": words, "lang": "xx"}},
            {"words_num_filter": {}},
        ]
    ) + [Longer()]
    others[2].model_key = "sentencepiece-en"  # as tokenization: true sets it (building one would download a model)
    lines = vectorised.reasons(others)
    assert not any(vectorised.applies(op) for op in others) and len(lines) == 4
    assert "use_words_aug" in lines[0] and "'xx'" in lines[1] and "tokenizer model" in lines[2]
    assert "subclass of TextLengthFilter" in lines[3]


def test_a_batch_whose_probe_differs_is_left_to_the_op(monkeypatch):
    from data_juicer.ops.filter.text_length_filter import TextLengthFilter

    op = _ops([{"text_length_filter": {}}])[0]
    texts = ["abc", "de", "fghij"]
    samples = {"text": texts}
    assert vectorised.batch_statistics(op, samples, ["text"], 3, vectorised.BatchTexts(samples)) == {
        "text_len": [3, 2, 5]
    }
    for wrong in (lambda op, batch: np.array([3, 3, 5]), lambda op, batch: np.array([3.0, 2.0, 5.0])):
        monkeypatch.setitem(vectorised.STATISTIC, TextLengthFilter, ("text_len", wrong))  # a value, then a type
        assert vectorised.batch_statistics(op, samples, ["text"], 3, vectorised.BatchTexts(samples)) is None


def test_the_probes_are_the_first_middle_and_last_short_documents():
    short, long = "ab", "x" * (vectorised.PROBE_CHARS + 1)
    texts = [long, short, long, short, short, None, long]
    assert vectorised.probes(texts, len(texts)) == [1, 4, 5]  # a value that is not a string counts as short
    assert vectorised.probes([long + "y", long, long + "yz"], 3) == [1]  # none short: the shortest
    assert vectorised.probes(["a", "b", "c", "d", "e"], 5) == [0, 2, 4]
    assert vectorised.probes(["a"], 1) == [0]


def test_a_batch_is_computed_in_slices_of_bounded_characters_with_the_same_values(tmp_path, monkeypatch):
    """Slices of at most SLICE_CHARS characters (a longer document alone) give every op the values of the whole
    batch at once; a wrong value where the batch's check probes (here in the last slice) leaves that op, and only
    it, to the op for the whole batch."""
    from data_juicer.ops.filter.alphanumeric_filter import AlphanumericFilter

    ops = _ops(_recipe(write_word_lists(tmp_path)))
    texts = varied_texts(120) + ["x" * 5000] + UTF8_EDGES
    samples, n = {"text": texts}, len(texts)
    whole = vectorised.fast_statistics(ops, samples, ["text"], n, limit=10**9)
    assert sorted(whole) == list(range(len(ops)))
    cuts = list(vectorised._slices(samples, ["text"], n, 3000))
    assert cuts[0][0] == 0 and cuts[-1][1] == n and all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    assert all(sum(map(len, texts[a:b])) <= 3000 or b - a == 1 for a, b in cuts) and len(cuts) > 10
    sliced = vectorised.fast_statistics(ops, samples, ["text"], n, limit=3000)
    for i, op in enumerate(ops):
        ((key, values),) = sliced[i].items()
        assert mismatches(values, whole[i][key]) == [] and mismatches(values, op_values(op, texts, key)) == []

    key, real = vectorised.STATISTIC[AlphanumericFilter]
    last = texts[cuts[-1][0]]

    def wrong_in_the_last_slice(op, batch):
        values = real(op, batch)
        return values + 1.0 if batch.samples["text"][0] == last else values

    monkeypatch.setitem(vectorised.STATISTIC, AlphanumericFilter, (key, wrong_in_the_last_slice))
    left = vectorised.fast_statistics(ops, samples, ["text"], n, limit=3000)
    assert sorted(left) == [i for i, op in enumerate(ops) if not isinstance(op, AlphanumericFilter)]


def test_the_3sigma_pass_writes_what_the_ops_write(tmp_path):
    """The statistics column after the pass equals, value for value and in its Arrow type, the column Data-Juicer's
    own ops write; a statistic already in a sample is kept; a filter left to the op computes as before."""
    from data_juicer.core.data import NestedDataset
    from data_juicer.utils.constant import Fields

    from data_juicer_hpo.ops.statistics import run_stats_pass

    words = write_word_lists(tmp_path)
    process = _recipe(words) + [{"stopwords_filter": {"stopwords_dir": words, "use_words_aug": True}}]
    texts = UTF8_EDGES + varied_texts(150)
    preset = [{"text_len": 999} if i % 7 == 0 else {} for i in range(len(texts))]
    # as Data-Juicer's ops read them back from Arrow: {"text_len": None} where no value was set (kept, too)
    expected = NestedDataset.from_dict({Fields.stats: preset}).data.column(Fields.stats).to_pylist()
    for op in _ops(process):
        for i, text in enumerate(texts):
            if op.is_batched_op():
                expected[i] = op.compute_stats_batched({"text": [text], Fields.stats: [expected[i]]})[Fields.stats][0]
            else:
                expected[i] = op.compute_stats_single({"text": text, Fields.stats: expected[i]})[Fields.stats]
    for with_preset in (False, True):
        columns = {"text": texts, Fields.stats: preset} if with_preset else {"text": texts}
        stats = run_stats_pass(NestedDataset.from_dict(columns), _ops(process))
        got = _decoded(stats.dataset, Fields.stats)
        own = NestedDataset.from_dict({"s": expected}) if with_preset else _by_data_juicer(process, texts)
        want = _decoded(own, own.column_names[-1])
        assert got == want and all(mismatches(list(g.values()), list(w.values())) == [] for g, w in zip(got, want))
        assert stats.dataset.features[Fields.stats] == own.features[own.column_names[-1]]
        assert stats.values[0]["text_len"] == [w["text_len"] for w in want]  # what 3sigma tunes with


def _decoded(dataset, column):
    """A column's values as the filters read them (a ``Json`` column holds JSON text)."""
    return [json.loads(v) if isinstance(v, str) else v for v in dataset.data.column(column).to_pylist()]


def _by_data_juicer(process, texts):
    """The dataset after Data-Juicer's own statistics steps (``Filter.run`` without its filtering): the empty
    statistics column it adds first gives the column its type (``Json``: floats as ujson writes them)."""
    from data_juicer.core.data import NestedDataset

    dataset = NestedDataset.from_dict({"text": texts})
    for op in _ops(process):
        dataset = op.run(dataset, reduce=False)
    return dataset


def test_the_sweeps_columns_stay_numbers_when_a_batch_falls_back(monkeypatch, tmp_path):
    """A batch whose probe differs is computed by the op, and its values join the others as numbers."""
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops.filter.alphanumeric_filter import AlphanumericFilter

    from data_juicer_hpo.ops.columns import compute_columns

    texts = varied_texts(200)
    key, real = vectorised.STATISTIC[AlphanumericFilter]

    def wrong_on_odd_batches(op, batch):
        values = real(op, batch)
        return values + 1.0 if batch.samples["text"][0] in texts[40::80] else values

    monkeypatch.setitem(vectorised.STATISTIC, AlphanumericFilter, (key, wrong_on_odd_batches))
    ops = _ops([{"alphanumeric_filter": {}}, {"text_length_filter": {}}])
    columns = compute_columns(NestedDataset.from_dict({"text": texts}), ops, [["alnum_ratio"], ["text_len"]])
    assert columns[0]["alnum_ratio"].dtype == np.float64 and columns[1]["text_len"].dtype == np.int32
    assert mismatches(columns[0]["alnum_ratio"].tolist(), op_values(ops[0], texts, "alnum_ratio")) == []
    assert columns[1]["text_len"].tolist() == [len(t) for t in texts]


@pytest.mark.corpus
@pytest.mark.usefixtures("shared_data")
@pytest.mark.skipif(not os.environ.get("DJ_HPO_WHOLE_CORPUS"), reason="make test-statistics (the whole corpus)")
def test_every_statistic_equals_the_op_on_the_whole_bench_corpus(tmp_path):
    """Every vectorised statistic against its op on all 45,111 documents, in batches of 1,000 (as the passes run)."""
    texts = bench_texts()
    ops = _ops(_recipe(write_word_lists(tmp_path)) + [{"word_repetition_filter": {"rep_len": 10}}])
    for start in range(0, len(texts), 1000):
        batch = texts[start : start + 1000]
        made = vectorised.BatchTexts({"text": batch})
        for op in ops:
            key, compute = vectorised.STATISTIC[type(op)]
            assert mismatches(compute(op, made).tolist(), op_values(op, batch, key), batch) == [], (op._name, start)
