"""Token hashing (objectives/tokens.py): tokens, their hashes and streams, whole or in chunks."""

import os
import subprocess
import sys

import numpy as np

from data_juicer_hpo.objectives.tokens import pair_hashes, token_streams, tokenize

from tests.helpers.runs import ROOT


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Hello, WORLD!! snake_case 42") == ["hello", ",", "world", "!", "!", "snake", "_", "case", "42"]


def test_hashes_do_not_depend_on_the_process_hash_seed():
    code = "from data_juicer_hpo.objectives.tokens import token_streams; print(token_streams(['ab cd']).hashes)"
    root = str(ROOT)  # this checkout, whatever copy is installed
    outputs = set()
    for seed in ("1", "2"):
        path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=path)
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout)
    assert len(outputs) == 1 and outputs != {""}


def test_streams_keep_documents_apart():
    streams = token_streams(["a b", "", "b a c"])
    assert streams.offsets.tolist() == [0, 2, 2, 5]
    assert streams.doc(0).tolist() == streams.doc(2)[[1, 0]].tolist()
    assert streams.token_mask(np.array([2])).tolist() == [False, False, True, True, True]


def test_pair_hashes_are_ordered():
    a, b = token_streams(["x y"]).hashes
    assert pair_hashes(np.array([a]), np.array([b]))[0] != pair_hashes(np.array([b]), np.array([a]))[0]


def test_chunked_streams_equal_the_whole_streams_chunk_by_chunk(monkeypatch):
    from data_juicer_hpo.objectives import tokens

    rng = np.random.default_rng(5)
    texts = [" ".join(rng.choice(list("abcdefghij"), size=rng.integers(0, 9))) for _ in range(23)] + [None, ""]
    whole = token_streams(texts)
    monkeypatch.setattr(tokens, "MEMO_TOKENS", 4)  # cleared between chunks: the hashes must not change
    starts = []
    for start, streams in tokens.chunked_streams(texts, 5):
        starts.append(start)
        assert np.array_equal(streams.lengths, whole.lengths[start : start + 5])
        assert np.array_equal(streams.hashes, whole.hashes[whole.offsets[start] : whole.offsets[start + len(streams)]])
    assert starts == list(range(0, 25, 5))
    assert tokens.texts_at(texts, np.array([3, 0, 3])) == [texts[3], texts[0], texts[3]]


def test_tokenize_equals_the_pattern_on_any_unicode():
    """tokenize's quick path (pieces between spaces) gives exactly TOKEN_PATTERN's matches: letters and digits of
    many scripts, combining marks, every kind of space and line break, underscores, punctuation, symbols, controls."""
    import random

    from data_juicer_hpo.objectives.tokens import TOKEN_PATTERN

    alphabet = (
        "aZ09_ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000"
        "éßİıΣσςЖж中文한글ـ٣४²½Ⅻ\u0301\u200b\u200d\ufeff!?.,;:'\"-–—…()[]{}<>@#$%^&*+=|\\/~`€£¥©®™°"
        "\x00\x07\U0001f600\U0001d400\ud800"
    )
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert tokenize(text) == TOKEN_PATTERN.findall(text.lower()), repr(text)
    assert tokenize("") == [] and tokenize(" \n ") == []
