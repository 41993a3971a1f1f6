"""scikit-learn estimators around steepest networks: Pipelines, grid search, cross-validation.

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` follow scikit-learn's
estimator contract (they pass ``sklearn.utils.estimator_checks.check_estimator``,
except the checks listed in :data:`EXPECTED_FAILED_CHECKS` with the reason), so a
steepest network drops into a ``Pipeline`` after a ``StandardScaler``, into
``GridSearchCV`` over the learning rate, or into ``cross_val_score``.

The network is ``module``: ``None`` for an MLP with ``hidden_layer_sizes``, a
factory ``module(n_features, n_outputs) -> Module`` called at the first fit, or a
Module, trained as a copy (``fit`` never changes its parameters, as scikit-learn
requires). A classifier's network has ``n_classes`` outputs (logits, softmax), or
one sigmoid unit for two classes; a regressor's has one output per target column.

Needs scikit-learn: ``pip install steepest[sklearn]``.

Example:
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from steepest.sklearn import NeuralNetClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 2)).astype(np.float32)
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=30, lr=0.05, rng=0)
    >>> clf.fit(X, y).classes_
    array(['no', 'yes'], dtype='<U3')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> float(cross_val_score(clf, X, y, cv=3).mean()) > 0.9
    True
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backend import resolve_rng
from .models.mlp import MLP
from .nn.module import Module
from .nn.regularization import L2
from .optim import OPTIMIZERS
from .tasks import Binary, Classification, Regression, Task
from .train.callbacks import Callback
from .train.history import History
from .train.trainer import Trainer, forward_in_batches

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import assert_all_finite
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as error:  # the one line a missing extra gets
    raise ImportError("steepest.sklearn needs scikit-learn >= 1.6: pip install steepest[sklearn] "
                      "(or pip install scikit-learn)") from error

__all__ = ["EXPECTED_FAILED_CHECKS", "NeuralNetClassifier", "NeuralNetRegressor"]

EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""Checks of ``check_estimator`` these estimators do not pass, with the reason (the
form ``check_estimator(..., expected_failed_checks=...)`` takes). Empty: all pass."""

ModuleSpec = Module | Callable[[int, int], Module] | None


class _NeuralNet(BaseEstimator):
    """What the classifier and the regressor share: building, training, predicting."""

    _output = "linear"

    def __init__(self, module: ModuleSpec = None, *, hidden_layer_sizes: Sequence[int] = (32,),
                 activation: str = "relu", epochs: int = 50, batch_size: int | None = 32,
                 lr: float = 0.01, optimizer: str = "adam", regularization: Any = None,
                 callbacks: Sequence[Callback] | None = None, rng: Any = None,
                 dtype: str = "float64", verbose: int = 0) -> None:
        # scikit-learn's rule: store the arguments untouched; fit validates them.
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.regularization = regularization
        self.callbacks = callbacks
        self.rng = rng
        self.dtype = dtype
        self.verbose = verbose

    # -------------------------------------------------------------- subclasses
    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        """Targets encoded for the task, and the number of network outputs."""
        raise NotImplementedError

    def _task(self) -> Task:
        raise NotImplementedError

    # -------------------------------------------------------------- building
    def _check_settings(self) -> None:
        owner = type(self).__name__
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, numbers.Integral) or \
                self.epochs < 1:
            raise ValueError(f"{owner}: `epochs` must be a positive int; got {self.epochs!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real) or \
                not 0 < self.lr < np.inf:
            raise ValueError(f"{owner}: `lr` must be a positive number; got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"{owner}: `optimizer` must be one of {sorted(OPTIMIZERS)}; got "
                             f"{self.optimizer!r}")

    def _build(self, n_features: int, n_outputs: int) -> Module:
        owner = type(self).__name__
        if self.module is None:
            sizes = [n_features, *[int(h) for h in self.hidden_layer_sizes], n_outputs]
            output = "linear" if self._output == "linear" else \
                ("sigmoid" if n_outputs == 1 else "softmax")
            return MLP(sizes, activation=self.activation, output=output, rng=self.rng_,
                       dtype=self.dtype)
        if isinstance(self.module, Module):
            return copy.deepcopy(self.module)  # fit never changes its parameters
        if callable(self.module):
            model = self.module(n_features, n_outputs)
            if not isinstance(model, Module):
                raise TypeError(f"{owner}: `module({n_features}, {n_outputs})` must return a "
                                f"steepest Module; got {type(model).__name__}")
            return model
        raise TypeError(f"{owner}: `module` must be None, a steepest Module or a factory "
                        f"module(n_features, n_outputs); got {type(self.module).__name__}")

    def _regularization(self) -> Any:
        if self.regularization is None or callable(self.regularization):
            return self.regularization
        return L2(float(self.regularization))  # a number is the L2 lambda

    # -------------------------------------------------------------- training
    def _train(self, X: Any, y: Any, first: bool, epochs: int, classes: Any = None) -> Any:
        self._check_settings()
        X = validate_data(self, X, reset=first, dtype=(np.float64, np.float32))
        targets, n_outputs = self._targets(y, first, classes)
        if len(targets) != len(X):
            raise ValueError(f"{type(self).__name__}: X has {len(X)} rows but y has "
                             f"{len(targets)}")
        if first:
            self.rng_ = resolve_rng(self.rng) if self.rng is not None else \
                np.random.default_rng()
            self.module_ = self._build(self.n_features_in_, n_outputs)
            optimizer_class = OPTIMIZERS[self.optimizer]
            self.optimizer_ = optimizer_class(self.module_.parameters(), lr=float(self.lr))
            self.callbacks_ = [copy.deepcopy(c) for c in (self.callbacks or ())]
            self.n_iter_ = 0
        dtype = next((p.dtype for p in self.module_.parameters()), np.dtype(np.float32))
        trainer = Trainer(self.module_, task=self._task(), optimizer=self.optimizer_,
                          callbacks=self.callbacks_, regularization=self._regularization(),
                          verbose=self.verbose)
        batch = None if self.batch_size is None else min(int(self.batch_size), len(X))
        history = trainer.fit(X.astype(dtype, copy=False), targets, epochs=epochs,
                              batch_size=batch, rng=self.rng_)
        self.history_: History = history
        self.n_iter_ += len(history.epochs)
        return self

    def fit(self, X: Any, y: Any) -> Any:
        """Build a fresh network and train it for ``epochs`` epochs.

        Args:
            X: (n_samples, n_features) inputs.
            y: targets (class labels of any type for the classifier).

        Returns:
            self.
        """
        return self._train(X, y, True, self._epochs())

    def _epochs(self) -> int:
        self._check_settings()
        return int(self.epochs)

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        dtype = next((p.dtype for p in self.module_.parameters()), np.dtype(np.float32))
        return np.asarray(forward_in_batches(self.module_, X.astype(dtype, copy=False)))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.rng is None
        return tags


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A steepest network as a scikit-learn classifier.

    Args:
        module: None (an MLP with ``hidden_layer_sizes`` and ``activation``), a
            factory ``module(n_features, n_classes_out) -> Module``, or a Module
            (trained as a copy). Its outputs are logits: ``n_classes`` of them, or
            one (a sigmoid unit) for two classes.
        hidden_layer_sizes: the default MLP's hidden layers (default (32,)).
        activation: the default MLP's hidden activation ("relu", "tanh", ...).
        epochs: passes over the data per ``fit`` (default 50).
        batch_size: mini-batch size (None: the whole set at once).
        lr: the learning rate alpha (default 0.01).
        optimizer: "adam" (default), "momentum", "rmsprop", "gd" or "sgd".
        regularization: a penalty such as ``steepest.nn.L2(0.01)``, or a number:
            the L2 lambda (the seed's lambda/(2m) ||W||^2).
        callbacks: training callbacks (copied per fit; the copies are in
            ``callbacks_``).
        rng: seed or Generator for the initial weights and shuffling (None: fresh
            randomness each fit).
        dtype: the default MLP's dtype: "float64" (the default, as scikit-learn
            computes; predictions then do not depend on which rows share a batch) or
            "float32" (faster on large data). A given module keeps its own.
        verbose: 0 (silent, default), 1 (progress bars) or 2 (a line per epoch).

    Attributes:
        classes_: the class labels, sorted.
        n_features_in_: the number of input features seen by ``fit``.
        module_: the trained network.
        history_: the :class:`~steepest.train.History` of the last fit call.
        n_iter_: epochs run in total (``fit`` resets it, ``partial_fit`` adds).

    Example:
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from steepest.data.datasets import load_breast_cancer
        >>> X, y = load_breast_cancer()
        >>> pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(epochs=10, rng=0))
        >>> float(pipe.fit(X, y).score(X, y)) > 0.95
        True
    """

    _output = "classes"

    def _task(self) -> Task:
        return Binary() if len(self.classes_) == 2 else Classification(len(self.classes_))

    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        y = column_or_1d(np.asarray(y) if not hasattr(y, "shape") else y, warn=True)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__}: y has only one class "
                                 f"({self.classes_[0]!r}); a classifier needs at least two")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"{type(self).__name__}: y has labels not in classes_ "
                             f"{self.classes_.tolist()}: {np.unique(y[unknown]).tolist()}")
        indices = np.searchsorted(self.classes_, y)
        n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        return indices.astype(np.int64), n_outputs

    def partial_fit(self, X: Any, y: Any, classes: Any = None, *, epochs: int = 1
                    ) -> NeuralNetClassifier:
        """Train for ``epochs`` more epochs (one by default), keeping the optimiser state.

        The first call builds the network; pass ``classes`` there when this batch
        of y does not show every class.
        """
        first = not hasattr(self, "module_")
        return self._train(X, y, first, int(epochs), classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class of ``classes_`` (two for binary)."""
        logits = self._outputs(X).astype(np.float64)
        if len(self.classes_) == 2:
            p = 1.0 / (1.0 + np.exp(-logits[:, :1]))
            return np.hstack([1.0 - p, p])
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as a label of ``classes_``."""
        proba = self.predict_proba(X)  # first: it checks that the model is fitted
        return self.classes_[np.argmax(proba, axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A steepest network as a scikit-learn regressor (mean squared error).

    Takes the arguments of :class:`NeuralNetClassifier`; the network has one linear
    output per target column (``y`` of shape (n,) or (n, k)). Standardise the
    targets (``TransformedTargetRegressor``) when their scale is far from 1.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> y = X @ np.array([1.0, -2.0, 0.5])
        >>> reg = NeuralNetRegressor(hidden_layer_sizes=(), epochs=40, lr=0.05, rng=0)
        >>> float(reg.fit(X, y).score(X, y)) > 0.99
        True
    """

    def _task(self) -> Task:
        return Regression()

    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        from sklearn.utils import check_array
        y = check_array(y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y")
        if y.ndim > 2:
            raise ValueError(f"{type(self).__name__}: y must be (n,) or (n, k); got shape "
                             f"{y.shape}")
        if first:
            self._y_ndim = y.ndim
        targets = y.reshape(len(y), -1).astype(np.float32)
        return targets, targets.shape[1]

    def partial_fit(self, X: Any, y: Any, *, epochs: int = 1) -> NeuralNetRegressor:
        """Train for ``epochs`` more epochs (one by default), keeping the optimiser state."""
        return self._train(X, y, not hasattr(self, "module_"), int(epochs))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (n,) for a 1-D y at fit, else (n, k)."""
        out = self._outputs(X).astype(np.float64)
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = False
        return tags
