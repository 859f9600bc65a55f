"""Multinomial (softmax) logistic regression on dense feature rows, numpy only, deterministic.

Minimises mean cross-entropy + ``l2 / 2 * |W|^2`` (the intercepts are not penalised) by Nesterov-accelerated
gradient descent with a fixed, provably safe step per block, as :mod:`~data_juicer_hpo.objectives.logistic` does
for two classes:

* the rows are centred on their mean first (the intercepts absorb the shift, so the optimum is the same model).
  Hashed n-gram features are all non-negative, so uncentred rows share one huge direction that would force a tiny
  step on every other one (measured: 4x more iterations for the same held-out accuracy);
* the Hessian of the softmax loss is at most ``0.5 * x x^T`` per class and row (the largest eigenvalue of
  ``diag(p) - p p^T`` is at most 1/2). With centred rows the rows' Gram matrix and the intercepts' are separate
  blocks, so the weights take the step ``1 / (0.5 * lambda_max(Xc^T Xc / n) + l2)`` (``lambda_max`` by power
  iteration) and the intercepts ``1 / 0.5``; no line search, no random state: the same rows give the same model.

Defaults: on 10,000 bench documents labelled by ``meta.source`` (16 labels, 2**10 features) ``l2 = 1e-4`` gives
86 % held-out accuracy after 40, 60 or 120 iterations alike (converged; 83 % after 20), ``l2 = 1e-3`` underfits
(74 %); 40 iterations bound a trial's cost.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["SoftmaxModel", "fit_softmax", "largest_eigenvalue"]


@dataclass(frozen=True)
class SoftmaxModel:
    weights: np.ndarray  # (n_features, n_classes)
    intercepts: np.ndarray  # (n_classes,)
    center: np.ndarray  # (n_features,), subtracted from every row
    iterations: int

    def logits(self, rows: np.ndarray) -> np.ndarray:
        return (rows - self.center) @ self.weights + self.intercepts

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The class index (column of the training one-hot) of every row; ties go to the lower index."""
        return np.argmax(self.logits(rows), axis=1)


def largest_eigenvalue(rows: np.ndarray, iterations: int = 30) -> float:
    """``lambda_max(rows^T rows / n)`` by power iteration from a fixed start (an over-estimate is safe, so the
    estimate is raised by 2 %; power iteration approaches the largest eigenvalue from below)."""
    n, d = rows.shape
    if n == 0 or d == 0:
        return 0.0
    v = np.full(d, 1.0 / np.sqrt(d), dtype=rows.dtype)
    v[::2] *= -1  # not orthogonal to the top eigenvector of centred rows, whose mean direction is gone
    value = 0.0
    for _ in range(iterations):
        w = rows.T @ (rows @ v)
        norm = float(np.linalg.norm(w))
        if norm == 0.0:
            return 0.0
        value, v = norm, w / norm
    return 1.02 * value / n


def fit_softmax(
    rows: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    l2: float = 1e-4,
    max_iter: int = 40,
    tol: float = 1e-5,
    overwrite_rows: bool = False,
) -> SoftmaxModel:
    """Fit on ``rows`` (n x d, float) with ``labels`` in ``range(n_classes)``; stops when the gradient's norm falls
    below ``tol`` or after ``max_iter`` iterations. ``overwrite_rows`` lets it centre a float ``rows`` in place
    (a caller's temporary copy), saving a copy of the whole matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    n, d = rows.shape
    if n == 0 or len(labels) != n:
        raise ValueError(f"need one label per row and at least one row, but got {len(labels)} labels for {n} rows")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), but got min={labels.min()}, max={labels.max()}")
    dtype = rows.dtype if rows.dtype in (np.float32, np.float64) else np.float64
    center = rows.mean(axis=0, dtype=np.float64).astype(dtype)
    if overwrite_rows and rows.dtype == dtype:
        rows -= center
        x = rows
    else:
        x = (rows - center).astype(dtype, copy=False)
    onehot = np.zeros((n, n_classes), dtype=dtype)
    onehot[np.arange(n), labels] = 1.0
    step_w = 1.0 / (0.5 * largest_eigenvalue(x) + l2)
    step_b = 2.0
    w = w_prev = np.zeros((d, n_classes), dtype=dtype)
    b = b_prev = np.zeros(n_classes, dtype=dtype)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        momentum = (iteration - 1.0) / (iteration + 2.0)
        v_w = w + momentum * (w - w_prev)
        v_b = b + momentum * (b - b_prev)
        z = x @ v_w + v_b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        residual = (p - onehot) / n
        grad_w = x.T @ residual + l2 * v_w
        grad_b = residual.sum(axis=0)
        w_prev, b_prev = w, b
        w = v_w - step_w * grad_w
        b = v_b - step_b * grad_b
        if np.sqrt(float(np.sum(grad_w * grad_w)) + float(grad_b @ grad_b)) < tol:
            break
    return SoftmaxModel(w, b, center, iteration)
