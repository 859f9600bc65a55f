"""L2-regularised logistic regression on :class:`~data_juicer_hpo.objectives.features.SparseRows`, numpy only.

Full-batch Nesterov-accelerated gradient descent: with unit-norm rows plus an intercept the loss gradient is
Lipschitz with a constant of at most ``0.25 * 2 + l2``, so a fixed step of its inverse converges without a line
search, and the same inputs always give the same weights (no mini-batch shuffling to seed).
"""

from dataclasses import dataclass

import numpy as np

from data_juicer_hpo.objectives.features import SparseRows

__all__ = ["LogisticModel", "fit_logistic", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a negative magnitude only, so large |z| neither overflows nor warns.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class LogisticModel:
    weights: np.ndarray
    intercept: float

    def logits(self, rows: SparseRows) -> np.ndarray:
        """log-odds of label 1 for every row."""
        return rows.dot(self.weights) + self.intercept

    def predict_proba(self, rows: SparseRows) -> np.ndarray:
        """P(label 1) of every row."""
        return sigmoid(self.logits(rows))


def fit_logistic(rows: SparseRows, labels: np.ndarray, l2: float = 1e-4, max_iter: int = 200, tol: float = 1e-6):
    """Minimise mean log-loss + ``l2 / 2 * |w|^2`` (the intercept is not penalised)."""
    labels = np.asarray(labels, dtype=np.float64)
    n, n_columns = rows.n_rows, rows.n_columns
    if n == 0 or len(labels) != n:
        raise ValueError(f"need one label per row and at least one row, but got {len(labels)} labels for {n} rows")
    # Columns that no row uses keep weight 0 under L2, so train on the used ones only: the weight vector shrinks
    # from 2**18 buckets to those present and its gathers and scatters stay in cache.
    used, compact_columns = np.unique(rows.columns, return_inverse=True)
    rows = SparseRows(rows.indptr, compact_columns.reshape(-1).astype(np.int64), rows.values, len(used))
    step = 1.0 / (0.25 * 2.0 + l2)
    w = np.zeros(rows.n_columns)
    b = 0.0
    w_prev, b_prev = w, b
    for it in range(1, max_iter + 1):
        momentum = (it - 1.0) / (it + 2.0)
        v_w = w + momentum * (w - w_prev)
        v_b = b + momentum * (b - b_prev)
        residual = (sigmoid(rows.dot(v_w) + v_b) - labels) / n
        grad_w = rows.dot_transposed(residual) + l2 * v_w
        grad_b = residual.sum()
        w_prev, b_prev = w, b
        w = v_w - step * grad_w
        b = v_b - step * grad_b
        if np.sqrt(grad_w @ grad_w + grad_b * grad_b) < tol:
            break
    weights = np.zeros(n_columns)
    weights[used] = w
    return LogisticModel(weights, float(b))
