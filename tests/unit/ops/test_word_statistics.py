"""The word statistics of whole batches equal Data-Juicer's word filters bit for bit (ops/word_statistics.py), on
Arrow's way and on the Python way (a batch Arrow cannot hold)."""

import re
from collections import Counter

import pytest

from data_juicer_hpo.ops import word_statistics
from data_juicer_hpo.ops.word_statistics import WordBatch

from tests.helpers.data import varied_texts
from tests.helpers.statistics import EDGE_TEXTS, bench_texts, mismatches, op_values, write_word_lists

UTF8_TEXTS = [t for t in EDGE_TEXTS if not re.search("[\ud800-\udfff]", t)]


def _ops(folder):
    from data_juicer.ops import load_ops

    words = write_word_lists(folder)
    process = [
        {"words_num_filter": {}},
        {"word_repetition_filter": {"rep_len": 1}},
        {"word_repetition_filter": {"rep_len": 2}},
        {"word_repetition_filter": {"rep_len": 10}},
        {"stopwords_filter": {"stopwords_dir": words}},
        {"flagged_words_filter": {"flagged_words_dir": words}},
        {"stopwords_filter": {"stopwords_dir": words, "lang": "all"}},
    ]
    return load_ops(process)


def _ours(op, batch: WordBatch):
    if op._name == "words_num_filter":
        return "num_words", batch.num_words()
    if op._name == "word_repetition_filter":
        return "word_rep_ratio", batch.repetition_ratios(op.n)
    if op._name == "stopwords_filter":
        return "stopwords_ratio", batch.listed_ratios(op.STOPWORDS[op.lang])
    return "flagged_words_ratio", batch.listed_ratios(op.FLAGGED_WORDS[op.lang])


def _check(ops, texts):
    batch = WordBatch(texts)
    for op in ops:
        key, ours = _ours(op, batch)
        assert mismatches(ours.tolist(), op_values(op, texts, key), texts) == [], (op._name, getattr(op, "n", ""))


def test_equals_the_ops_on_edge_cases(tmp_path):
    _check(_ops(tmp_path), EDGE_TEXTS + varied_texts(150) + EDGE_TEXTS[::-1])  # a lone surrogate: Python's way


def test_arrows_way_and_pythons_way_agree_with_the_ops(tmp_path, monkeypatch):
    ops = _ops(tmp_path)
    texts = UTF8_TEXTS + varied_texts(100, seed=3)
    _check(ops, texts)  # Arrow's split and trim
    monkeypatch.setattr(word_statistics, "_split", lambda texts: None)  # as for a text Arrow cannot hold
    _check(ops, texts)


def test_word_repetition_against_counting_by_hand():
    texts = ["a b a b a b", "x y z", "", "one two one two. One two!", "w " * 5]
    words = [[w.strip(".!").lower() for w in t.split(" ") if w.strip(".!")] for t in texts]
    for n in (1, 2, 3):
        want = []
        for ws in words:
            grams = Counter(tuple(ws[i : i + n]) for i in range(len(ws) - n + 1))
            total = sum(grams.values())
            want.append(sum(c for c in grams.values() if c > 1) / total if total else 0.0)
        assert WordBatch(texts).repetition_ratios(n).tolist() == want


def test_a_batch_without_words():
    batch = WordBatch(["", " \t\n", "... !!!"])
    assert batch.num_words().tolist() == [0, 0, 0]
    assert batch.repetition_ratios(2).tolist() == [0.0, 0.0, 0.0]
    assert batch.listed_ratios({"the"}).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.corpus
@pytest.mark.usefixtures("shared_data")
def test_equals_the_ops_on_the_bench_corpus(tmp_path):
    """Batches of the corpus's head (make test-statistics: the whole corpus, see test_vectorised)."""
    ops = _ops(tmp_path)
    texts = bench_texts(limit=2000)
    for start in range(0, len(texts), 1000):
        _check(ops, texts[start : start + 1000])
