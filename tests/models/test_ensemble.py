"""Ensembles average probabilities; multi-crop averages over crops at prediction time (K10)."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st


class Fixed(st.models.Model):
    """A model that returns given logits, to pin down what is averaged."""

    def __init__(self, logits) -> None:
        super().__init__()
        self.logits = np.asarray(logits, dtype=np.float32)

    def default_task(self):
        return st.tasks.Classification(self.logits.shape[1])

    def forward(self, x):
        return st.tensor(np.repeat(self.logits, len(x), axis=0))


def test_ensemble_averages_probabilities_not_logits() -> None:
    # One very sure member (logit 10 on class 0) and two mild ones for class 1: the
    # average of logits picks class 0, the average of probabilities class 1.
    members = [Fixed([[10.0, 0.0]]), Fixed([[0.0, 3.0]]), Fixed([[0.0, 3.0]])]
    ensemble = st.models.Ensemble(members)
    x = np.zeros((2, 1))
    probabilities = np.mean([m.predict_proba(x) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(x), probabilities, rtol=1e-5)
    assert ensemble.predict(x).tolist() == [1, 1]
    assert np.mean([m.logits for m in members], axis=0).argmax() == 0
    assert len(ensemble.members) == 3


def test_ensemble_of_sigmoid_models_and_of_googlenets() -> None:
    members = [st.models.LogisticRegression(2, init="he", rng=s) for s in range(3)]
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(st.models.Ensemble(members).predict_proba(x),
                               np.mean([m.predict_proba(x) for m in members], axis=0),
                               rtol=1e-5)
    nets = [st.models.GoogLeNet(num_classes=3, in_channels=1, input_size=28, width=1 / 16,
                                rng=s) for s in range(2)]
    ensemble = st.models.Ensemble(nets).train()
    assert ensemble(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 3)  # main outputs
    assert repr(ensemble.default_task()) == "Classification(num_classes=3)"


def test_ensemble_rejects_mixed_or_unsuitable_members() -> None:
    with pytest.raises(ValueError, match="`models` is empty"):
        st.models.Ensemble([])
    with pytest.raises(ValueError, match="different tasks"):
        st.models.Ensemble([st.models.MLP([2, 3]), st.models.MLP([2, 4])])
    with pytest.raises(TypeError, match="needs a Classification"):
        st.models.Ensemble([st.models.MLP([2, 1], output="linear")])
    with pytest.raises(TypeError, match="must be a steepest Model"):
        st.models.Ensemble([st.nn.Linear(2, 3)])


def test_predict_with_multi_crop_averages_the_crops_probabilities() -> None:
    net = st.models.LeNet5(rng=0)
    x = np.random.default_rng(0).random((3, 1, 32, 32)).astype(np.float32)
    crops = st.data.augment.MultiCrop(28, crops=10)
    views = crops(x)
    expected = np.mean([net.predict_proba(v) for v in views], axis=0)
    np.testing.assert_allclose(net.predict_proba(x, tta=crops), expected, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(x, tta=crops), expected.argmax(axis=1))
    assert not np.allclose(expected, net.predict_proba(views[0]))
    binary = st.models.LogisticRegression(4, init="he", rng=0)
    flat = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)

    def two_views(X):
        return [X, -X]

    p = (binary.predict_proba(flat) + binary.predict_proba(-flat)) / 2
    np.testing.assert_allclose(binary.predict_proba(flat, tta=two_views), p, rtol=1e-6)
    np.testing.assert_array_equal(binary.predict(flat, tta=two_views), (p > 0.5).astype(int))
    with pytest.raises(TypeError, match="`tta` must be callable"):
        st.train.predict(net, x, tta=3)
