"""The numpy logistic regression of the quality classifier (objectives/logistic.py): its steps against the same
steps written densely, both ways of taking them (on the weights, on the rows' Gram matrix), the optimum it converges
to (the objective's gradient, computed densely, vanishes there), its row-wise product, and progress."""

import math

import numpy as np
import pytest

from data_juicer_hpo.objectives import logistic
from data_juicer_hpo.objectives.features import hashed_ngram_features
from data_juicer_hpo.objectives.logistic import fit_logistic, rows_times
from data_juicer_hpo.objectives.tokens import token_streams

from tests.helpers.texts import BAD, GOOD, word_docs


def _rows(n=40, buckets=2**12):
    texts = word_docs(GOOD, n // 2, seed=1, length=12) + word_docs(BAD + GOOD[:4], n // 2, seed=2, length=12)
    labels = np.array([1.0] * (n // 2) + [0.0] * (n // 2))
    return hashed_ngram_features(token_streams(texts), np.arange(n), buckets), labels


def _dense_descent(x: np.ndarray, y: np.ndarray, l2=1e-4, steps=200):
    """Nesterov's accelerated gradient on the mean log-loss + l2/2 |w|^2, written with a dense matrix."""
    n = len(y)
    step = 1.0 / (0.25 * 2.0 + l2)
    w = w_prev = np.zeros(x.shape[1])
    b = b_prev = 0.0
    for it in range(1, steps + 1):
        m = (it - 1.0) / (it + 2.0)
        vw, vb = w + m * (w - w_prev), b + m * (b - b_prev)
        r = (1.0 / (1.0 + np.exp(-(x @ vw + vb))) - y) / n
        w_prev, b_prev = w, b
        w, b = vw - step * (x.T @ r + l2 * vw), vb - step * r.sum()
    return w, b


def _dense(rows):
    out = np.zeros((rows.n_rows, rows.n_columns))
    out[rows.row_of_value, rows.columns] = rows.values
    return out


@pytest.mark.parametrize("kernel_rows", [logistic.KERNEL_ROWS, 0])
def test_the_steps_are_nesterovs_on_either_side(monkeypatch, kernel_rows):
    monkeypatch.setattr(logistic, "KERNEL_ROWS", kernel_rows)  # 0: every fit steps on the weights
    rows, labels = _rows()
    model = fit_logistic(rows, labels, tol=0.0)
    w, b = _dense_descent(_dense(rows), labels)
    assert np.allclose(model.weights, w, rtol=0, atol=1e-10) and model.intercept == pytest.approx(b, abs=1e-10)
    p = model.predict_proba(rows)
    assert p[:20].min() > 0.8 and p[20:].max() < 0.2


def test_deterministic_with_progress_and_checked_input():
    rows, labels = _rows()
    steps = []
    model = fit_logistic(rows, labels, max_iter=37, on_step=lambda: steps.append(1))
    assert len(steps) == 37
    again = fit_logistic(rows, labels, max_iter=37)
    assert np.array_equal(model.weights, again.weights) and model.intercept == again.intercept
    with pytest.raises(ValueError):
        fit_logistic(rows, labels[:3])


def test_it_stops_when_the_gradient_vanishes(monkeypatch):
    rows, labels = _rows()
    counts = []
    for kernel_rows in (logistic.KERNEL_ROWS, 0):
        monkeypatch.setattr(logistic, "KERNEL_ROWS", kernel_rows)
        steps = []
        fit_logistic(rows, labels, l2=1.0, tol=1e-3, on_step=lambda: steps.append(1))
        counts.append(len(steps))
    assert 1 < counts[0] == counts[1] < 200  # a strongly regularised problem converges early, on both sides alike


@pytest.mark.parametrize("kernel_rows", [logistic.KERNEL_ROWS, 0])
def test_a_long_fit_reaches_the_optimum(monkeypatch, kernel_rows):
    """Run to convergence, either side lands where the objective's gradient -- written densely here, not with the
    fit's own products -- is zero, and a step away from it in any direction costs loss."""
    monkeypatch.setattr(logistic, "KERNEL_ROWS", kernel_rows)
    rows, labels = _rows()
    l2 = 0.05  # well conditioned, so a few thousand steps converge
    model = fit_logistic(rows, labels, l2=l2, max_iter=5000, tol=1e-10)
    x = _dense(rows)

    def objective(w, b):
        z = x @ w + b
        return np.mean(np.logaddexp(0.0, z) - labels * z) + l2 / 2 * w @ w

    w, b = model.weights, model.intercept
    r = (1.0 / (1.0 + np.exp(-(x @ w + b))) - labels) / len(labels)
    assert np.abs(x.T @ r + l2 * w).max() < 1e-8 and abs(r.sum()) < 1e-8
    at_optimum = objective(w, b)
    rng = np.random.default_rng(0)
    for _ in range(5):
        d = rng.normal(size=len(w)) * (x.any(axis=0))  # a direction among the columns in use
        assert objective(w + 1e-3 * d, b) > at_optimum and objective(w, b + 1e-3) > at_optimum


def test_rows_times_is_the_matrix_product_with_or_without_vecdot(monkeypatch):
    rng = np.random.default_rng(3)
    matrix, vector = rng.normal(size=(37, 37)), rng.normal(size=37)
    exact = [math.fsum(a * v for a, v in zip(row, vector)) for row in matrix]  # one correctly rounded sum per row
    assert np.allclose(rows_times(matrix, vector), exact, rtol=0, atol=1e-12)
    monkeypatch.delattr(np, "vecdot", raising=False)  # numpy < 2
    assert np.allclose(rows_times(matrix, vector), exact, rtol=0, atol=1e-12)
