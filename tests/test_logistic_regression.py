"""A vectorised logistic regression written with steepest tensors (concepts B3-B9).

Z = X w + b, A = sigmoid(Z), J = mean cross-entropy, dZ = A - Y: the seed's
algorithm, trained by plain gradient descent on scikit-learn's breast-cancer data
(standardised), and compared with scikit-learn's unregularised LogisticRegression.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import steepest as st
import steepest.functional as F


@pytest.mark.slow  # over a second of learning: runs with `pytest -m slow` (CI runs both)
def test_learns_breast_cancer_and_agrees_with_sklearn() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    Y = y.reshape(-1, 1).astype(np.float32)  # (m, 1), never a rank-1 array (B11)
    _m, n_x = X.shape

    w = st.tensor(np.zeros((n_x, 1), dtype=np.float32), requires_grad=True)  # zeros are fine (B5)
    b = st.tensor(np.zeros(1, dtype=np.float32), requires_grad=True)
    # The standardised data are linearly separable, so the unpenalised optimum lies
    # at infinity: scikit-learn's solver goes far along that direction, and plain
    # gradient descent needs many cheap steps with a large rate to follow it.
    learning_rate = 4.0
    for _ in range(10_000):
        Z = X @ w + b
        J = F.binary_cross_entropy_with_logits(Z, Y)
        w.grad = b.grad = None
        J.backward()
        with st.no_grad():
            w.data -= learning_rate * w.grad
            b.data -= learning_rate * b.grad
    predictions = ((X @ w + b).data > 0).astype(int).ravel()
    accuracy = (predictions == y).mean()
    assert accuracy >= 0.97

    # No penalty (scikit-learn 1.8+ spells penalty=None as C=inf).
    reference = LogisticRegression(C=np.inf, max_iter=10_000).fit(X, y).predict(X)
    assert (predictions == reference).mean() >= 0.99


def test_gradients_match_the_seed_formulas() -> None:
    # B9: dw = X^T dZ / m, db = sum(dZ) / m with dZ = A - Y.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3))
    Y = rng.integers(0, 2, (8, 1)).astype(float)
    w = st.tensor(rng.normal(size=(3, 1)), requires_grad=True)
    b = st.tensor(np.zeros(1), requires_grad=True)
    F.binary_cross_entropy_with_logits(X @ w + b, Y).backward()
    A = 1 / (1 + np.exp(-(X @ w.data + b.data)))
    dZ = A - Y
    np.testing.assert_allclose(w.grad, X.T @ dZ / 8, rtol=1e-10)
    np.testing.assert_allclose(b.grad, dZ.sum(keepdims=True).ravel() / 8, rtol=1e-10)
