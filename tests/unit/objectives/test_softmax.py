"""The softmax regression of downstream_task (objectives/softmax.py): it reaches the regularised optimum."""

import numpy as np

from data_juicer_hpo.objectives.softmax import fit_softmax


def test_softmax_fit_reaches_the_regularised_optimum():
    rng = np.random.default_rng(3)
    rows = rng.random((200, 12)).astype(np.float64)
    labels = (rows[:, 0] * 3 + rng.normal(0, 0.3, 200)).clip(0, 2.99).astype(int)
    l2 = 1e-2
    model = fit_softmax(rows, labels, 3, l2=l2, max_iter=5000, tol=1e-9)
    # the gradient of mean cross-entropy + l2/2 |W|^2, recomputed in the uncentred parametrisation
    w, b = model.weights, model.intercepts - model.center @ model.weights
    z = rows @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[labels]
    grad_w = rows.T @ (p - onehot) / len(rows) + l2 * w
    grad_b = (p - onehot).mean(axis=0)
    assert np.abs(grad_w).max() < 1e-6 and np.abs(grad_b).max() < 1e-6
    assert model.iterations < 5000
    assert np.mean(model.predict(rows) == labels) > 0.6
