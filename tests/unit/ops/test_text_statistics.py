"""The character statistics of whole batches equal Data-Juicer's ops bit for bit (ops/text_statistics.py), and an
independent computation in plain Python."""

import numpy as np
import pytest

from data_juicer_hpo.ops.text_statistics import CHAR_STATISTICS, CharClasses, TextBatch, char_statistic

from tests.helpers.data import varied_texts
from tests.helpers.statistics import EDGE_TEXTS, bench_texts, mismatches, op_values

OPS = {
    "text_len": ("text_length_filter", {}),
    "avg_line_length": ("average_line_length_filter", {}),
    "max_line_length": ("maximum_line_length_filter", {}),
    "alnum_ratio": ("alphanumeric_filter", {}),
    "special_char_ratio": ("special_characters_filter", {}),
}


def _op(stat):
    from data_juicer.ops import load_ops

    name, args = OPS[stat]
    return load_ops([{name: args}])[0]


def _plain_python(stat, text):
    """Each statistic written out in Python from its definition (not the op's code)."""
    from data_juicer.ops.common.special_characters import SPECIAL_CHARACTERS

    lines = text.splitlines()
    return {
        "text_len": len(text),
        "avg_line_length": len(text) / len(lines) if lines else 0.0,
        "max_line_length": max((len(line) for line in lines), default=0),
        "alnum_ratio": sum(c.isalnum() for c in text) / len(text) if text else 0.0,
        "special_char_ratio": sum(c in SPECIAL_CHARACTERS for c in text) / len(text) if text else 0.0,
    }[stat]


@pytest.mark.parametrize("stat", sorted(CHAR_STATISTICS))
def test_equals_the_op_and_plain_python_on_edge_cases(stat):
    texts = EDGE_TEXTS + varied_texts(200) + EDGE_TEXTS[::-1]  # every edge case beside every other
    ours = char_statistic(stat, TextBatch.of(texts)).tolist()
    assert mismatches(ours, op_values(_op(stat), texts, stat), texts) == []
    assert mismatches(ours, [_plain_python(stat, t) for t in texts], texts) == []


@pytest.mark.parametrize("order", [0, 1, 2])
def test_lines_never_run_across_texts(order):
    """``\\r`` ending one text and ``\\n`` starting the next are two boundaries; empty texts in between own nothing."""
    texts = ["abc\r", "", "\ndef", "\r", "\n", "", "x" * 9, "\r\nlong line here\r"]
    texts = [texts, texts[::-1], texts[3:] + texts[:3]][order]
    batch = TextBatch.of(texts)
    assert batch.line_counts.tolist() == [len(t.splitlines()) for t in texts]
    assert batch.longest_lines.tolist() == [max(map(len, t.splitlines()), default=0) for t in texts]


def test_one_text_and_no_text():
    assert char_statistic("max_line_length", TextBatch.of(["only\none"])).tolist() == [4]
    empty = TextBatch.of([])
    assert all(char_statistic(stat, empty).tolist() == [] for stat in CHAR_STATISTICS)
    assert TextBatch.of(["text", None]) is None  # not a string: the op decides what happens


def test_each_code_point_is_classified_once():
    asked = []
    classes = CharClasses({1: lambda c: asked.append(c) or c.isdigit()})
    codes = np.frombuffer("a1b2a1".encode("utf-32-le"), dtype=np.uint32)
    assert classes(codes).tolist() == [0, 1, 0, 1, 0, 1]
    assert classes(codes[::-1]).tolist() == [1, 0, 1, 0, 1, 0]
    assert sorted(asked) == ["1", "2", "a", "b"]


@pytest.mark.corpus
@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize("stat", sorted(CHAR_STATISTICS))
def test_equals_the_op_on_the_bench_corpus(stat):
    """Batches of the corpus's head (make test-statistics: the whole corpus, see test_vectorised)."""
    texts = bench_texts(limit=3000)
    op = _op(stat)
    for start in range(0, len(texts), 1000):
        batch = texts[start : start + 1000]
        ours = char_statistic(stat, TextBatch.of(batch)).tolist()
        assert mismatches(ours, op_values(op, batch, stat), batch) == []
