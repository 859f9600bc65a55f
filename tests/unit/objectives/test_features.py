"""Hashed n-gram feature rows (objectives/features.py), against dense algebra."""

import numpy as np
import pytest

from data_juicer_hpo.objectives.features import SparseRows, hashed_ngram_features, stable_argsort, stack_rows
from data_juicer_hpo.objectives.tokens import token_streams


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


@pytest.mark.parametrize("dense_share, pairs_at_once", [(16, 1 << 20), (1, 7), (10**9, 3)])
def test_gram_matches_dense_algebra(monkeypatch, dense_share, pairs_at_once):
    """Every column in the dense block, none of them (pairs chunked a few at a time), or the usual split."""
    from data_juicer_hpo.objectives import features

    monkeypatch.setattr(features, "DENSE_SHARE", dense_share)
    monkeypatch.setattr(features, "PAIRS_AT_ONCE", pairs_at_once)
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(list("abcdefghijklmnop"), size=rng.integers(0, 40))) for _ in range(60)]
    rows = hashed_ngram_features(token_streams(texts), np.arange(60), 256)
    dense = _dense(rows)
    gram = rows.gram()
    assert np.allclose(gram, dense @ dense.T, rtol=0, atol=1e-12)
    assert np.array_equal(gram, gram.T)  # each rare pair is summed once and mirrored: exactly symmetric
    non_empty = dense.any(axis=1)
    assert np.allclose(np.diag(gram)[non_empty], 1.0, rtol=0, atol=1e-12)  # unit-norm rows
    assert _dense(hashed_ngram_features(token_streams([]), np.arange(0), 8)).shape == (0, 8)
    assert hashed_ngram_features(token_streams(["", ""]), np.arange(2), 8).gram().tolist() == [[0, 0], [0, 0]]


def test_rows_of_wide_batches_equal_rows_of_single_documents():
    """A batch whose (document, bucket) keys pass 2**32 is counted in 64 bits, a single document's in 32: a
    document's row does not depend on the batch."""
    texts = ["a b a c", "", "b b b", "c a b a c"]
    streams = token_streams(texts)
    wide = _dense_rows(hashed_ngram_features(streams, np.arange(4), 2**31))  # 4 * 2**31 keys: 64 bits
    for i in range(4):
        assert wide[i] == _dense_rows(hashed_ngram_features(streams, np.array([i]), 2**31))[0]


def _dense_rows(rows: SparseRows) -> list:
    return [
        dict(zip(rows.columns[a:b].tolist(), rows.values[a:b].tolist())) for a, b in zip(rows.indptr, rows.indptr[1:])
    ]


def test_stable_argsort_is_numpys_stable_argsort():
    rng = np.random.default_rng(4)
    for keys in (
        rng.integers(0, 2**18, 5000),  # many ties
        rng.integers(0, 2**32, 3000),
        rng.integers(0, 2**40, 300),  # past 32 bits: numpy's own
        np.array([65536, 1, 65537, 0, 1, 65536], dtype=np.int64),
        np.zeros(0, dtype=np.int64),
    ):
        assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))
