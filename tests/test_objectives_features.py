"""Token hashing, hashed n-gram feature rows and the numpy logistic regression of the quality classifier."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data_juicer_hpo.objectives.features import SparseRows, hashed_ngram_features, stack_rows
from data_juicer_hpo.objectives.logistic import fit_logistic
from data_juicer_hpo.objectives.tokens import pair_hashes, token_streams, tokenize


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Hello, WORLD!! snake_case 42") == ["hello", ",", "world", "!", "!", "snake", "_", "case", "42"]


def test_hashes_do_not_depend_on_the_process_hash_seed():
    code = "from data_juicer_hpo.objectives.tokens import token_streams; print(token_streams(['ab cd']).hashes)"
    root = str(Path(__file__).resolve().parents[1])  # this checkout, whatever copy is installed
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


def _dense(rows: SparseRows) -> np.ndarray:
    out = np.zeros((rows.n_rows, rows.n_columns))
    for r in range(rows.n_rows):
        sl = slice(rows.indptr[r], rows.indptr[r + 1])
        out[r, rows.columns[sl]] = rows.values[sl]
    return out


def test_feature_rows():
    streams = token_streams(["a b a", "", "c", "a b a"])
    rows = hashed_ngram_features(streams, np.arange(4), 64)
    dense = _dense(rows)
    assert np.allclose(np.linalg.norm(dense, axis=1), [1, 0, 1, 1])
    assert np.array_equal(dense[0], dense[3])
    # "a b a": unigrams a (twice), b; bigrams a_b, b_a. log1p damps the repeated "a".
    assert sorted(np.round(dense[0][dense[0] > 0] / dense[0].max(), 6)) == sorted(
        np.round(np.array([np.log(3), np.log(2), np.log(2), np.log(2)]) / np.log(3), 6)
    )
    # A document alone has the same row as inside a batch: no bigram straddles "c" and the next document.
    alone = _dense(hashed_ngram_features(streams, np.array([2]), 64))
    assert np.array_equal(alone[0], dense[2])
    picked = _dense(hashed_ngram_features(streams, np.array([3, 0]), 64))
    assert np.array_equal(picked, dense[[3, 0]])


def test_products_match_dense_algebra():
    rng = np.random.default_rng(0)
    streams = token_streams([" ".join(rng.choice(list("abcdefgh"), size=rng.integers(0, 12))) for _ in range(30)])
    rows = stack_rows(hashed_ngram_features(streams, np.arange(30), 32), hashed_ngram_features(streams, [1], 32))
    dense = _dense(rows)
    w, r = rng.normal(size=32), rng.normal(size=31)
    assert np.allclose(rows.dot(w), dense @ w)
    assert np.allclose(rows.dot_transposed(r), dense.T @ r)
    with pytest.raises(ValueError):
        stack_rows(rows, hashed_ngram_features(streams, [1], 16))


def test_logistic_regression_separates_and_is_deterministic():
    good = ["the report was approved by the council"] * 5 + ["the council will publish the report"] * 5
    bad = ["lol omg free prize now"] * 5 + ["omg u r gr8 lol"] * 5
    streams = token_streams(good + bad)
    rows = hashed_ngram_features(streams, np.arange(20), 2**10)
    labels = np.array([1] * 10 + [0] * 10)
    model = fit_logistic(rows, labels)
    p = model.predict_proba(rows)
    assert p[:10].min() > 0.8 and p[10:].max() < 0.2
    again = fit_logistic(rows, labels)
    assert np.array_equal(model.weights, again.weights) and model.intercept == again.intercept
    with pytest.raises(ValueError):
        fit_logistic(rows, labels[:3])


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
