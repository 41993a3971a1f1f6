"""Logistic regression (concepts B1-B9): the one-unit network y_hat = sigmoid(w^T x + b)."""

from __future__ import annotations

from typing import Any

from .._validation import positive_int
from ..autograd import Tensor
from ..nn.init import Initializer, InitName
from ..nn.linear import Linear
from ..tasks import Binary, Task
from .base import Model


class LogisticRegression(Model):
    """Binary classification by logistic regression, trained like any network.

    Calling it returns z = w^T x + b (shape (m, 1)); ``predict_proba`` gives
    sigmoid(z) and ``predict`` the class (z > 0). Its cost, the cross-entropy, is
    convex, so zero initialisation is fine (B5), and is the default here.

    Args:
        n_features: n_x, the length of each input vector.
        init: weight initialisation (default "zeros").
        rng: generator or seed (for a random init).
        dtype: parameter dtype.

    Example:
        >>> import numpy as np
        >>> import steepest as st
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 3)).astype(np.float32)
        >>> y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
        >>> model = LogisticRegression(3)
        >>> _ = st.train.fit(model, X, y, optimizer=st.optim.GradientDescent(
        ...     model.parameters(), lr=1.0), epochs=100, batch_size=None, verbose=0)
        >>> float((model.predict(X).ravel() == y).mean()) > 0.97
        True
    """

    def default_task(self) -> Task:
        """Binary: one sigmoid unit, y-hat = P(y = 1 | x)."""
        return Binary()


    def __init__(self, n_features: int, init: InitName | Initializer = "zeros", rng: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.n_features = positive_int("LogisticRegression", "n_features", n_features)
        self.linear = Linear(self.n_features, 1, init=init, rng=rng, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        return self.linear(x)

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}"
