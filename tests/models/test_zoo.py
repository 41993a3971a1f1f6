"""AlexNet, VGG-16, bottleneck ResNets, Inception and GoogLeNet against the same networks in
PyTorch (weights copied across by steepest.transfer.load_torch_weights), and their sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from helpers import torch_models
from steepest.transfer import load_torch_weights


def _same_outputs(ours, theirs, x: np.ndarray, rtol: float = 1e-4) -> None:
    theirs.eval()
    ours.eval()
    load_torch_weights(ours, torch_models.state_to_numpy(theirs))
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=rtol, atol=1e-5)


def _images(n: int, c: int, size: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, c, size, size)).astype(np.float32)


@pytest.mark.parametrize("build,expected", [
    (lambda: st.models.AlexNet(init="zeros"), 62_378_344),
    (lambda: st.models.VGG16(init="zeros"), 138_357_544),
    (lambda: st.models.resnet50(init="zeros"), 25_557_032),
    (lambda: st.models.resnet101(init="zeros"), 44_549_160),
    (lambda: st.models.resnet152(init="zeros"), 60_192_808),
    (lambda: st.models.GoogLeNet(init="zeros"), 13_378_280),
    (lambda: st.models.GoogLeNet(aux_logits=False, init="zeros"), 6_998_552),
])
def test_full_size_parameter_counts(build, expected) -> None:
    # AlexNet, VGG-16 and ResNet-50/101/152 are torchvision's counts; GoogLeNet the 2014
    # paper's network (torchvision's has batch norm and 3x3 in place of 5x5).
    assert build().num_parameters() == expected


def test_alexnet_matches_torch() -> None:
    config = {"num_classes": 5, "in_channels": 3, "input_size": 67,
              "channels": (4, 6, 8, 8, 6), "hidden": 16}
    _same_outputs(st.models.AlexNet(**config, rng=0), torch_models.alexnet(**config),
                  _images(2, 3, 67))


def test_alexnet_shapes_shrink_while_channels_grow() -> None:
    assert st.models.AlexNet(init="zeros").feature_shapes() == [
        (96, 27, 27), (256, 13, 13), (256, 6, 6)]
    with pytest.raises(st.ShapeError, match=r"input_size.*at least 67"):
        st.models.AlexNet(input_size=64)
    with pytest.raises(ValueError, match=r"channels.*5 filter counts"):
        st.models.AlexNet(channels=(4, 4))


def test_vgg16_matches_torch() -> None:
    config = {"num_classes": 4, "in_channels": 1, "input_size": 32,
              "channels": (2, 3, 4, 4, 5), "hidden": 8}
    _same_outputs(st.models.VGG16(**config, rng=0), torch_models.vgg16(**config),
                  _images(2, 1, 32))
    assert st.models.VGG16(init="zeros").feature_shapes()[-1] == (512, 7, 7)


def test_bottleneck_resnet_matches_torch() -> None:
    theirs = torch_models.ResNet((1, 2), "bottleneck", num_classes=3, stem="imagenet", width=2)
    torch_models.randomize_batch_norm(theirs)
    ours = st.models.ResNet((1, 2), num_classes=3, stem="imagenet", width=2, block="bottleneck")
    _same_outputs(ours, theirs, _images(2, 3, 16))
    # The identity block keeps its input as the shortcut; the convolutional block projects.
    assert ours.stages[2].shortcut is None and ours.stages[1].shortcut is not None


def test_inception_module_on_the_seeds_example() -> None:
    module = st.models.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    assert module(np.zeros((1, 192, 28, 28), np.float32)).shape == (1, 256, 28, 28)
    # K5: a 1x1 bottleneck of 16 channels cuts a 5x5 conv's 120 million multiplies to 12.4.
    direct = st.summary(st.nn.Conv2d(192, 32, 5, padding=2), (192, 28, 28))
    bottleneck = st.summary(module.branch3, (192, 28, 28))
    assert direct.total_multiplies == 120_422_400
    assert bottleneck.total_multiplies == 12_443_648


def test_inception_module_matches_torch() -> None:
    args = (6, 2, 3, 4, 2, 3, 2)
    _same_outputs(st.models.InceptionModule(*args, rng=0), torch_models.InceptionModule(*args),
                  np.random.default_rng(1).standard_normal((2, 6, 7, 7)).astype(np.float32))


@pytest.mark.parametrize("size", [32, 72])  # global side pooling at 32, 5x5/3 at 72
def test_googlenet_matches_torch(size) -> None:
    ours = st.models.GoogLeNet(num_classes=5, input_size=size, width=1 / 16, rng=0)
    theirs = torch_models.GoogLeNet(5, 3, size, 1 / 16)
    x = _images(2, 3, size)
    _same_outputs(ours, theirs, x)
    with torch.no_grad():  # the side classifiers, fed what they read inside the network
        inner = theirs.inception4a(theirs.stage3(theirs.stem(torch.from_numpy(x))))
        side1 = theirs.aux1(inner).numpy()
    aux1, aux2 = _aux_outputs(ours, x)
    np.testing.assert_allclose(aux1, side1, rtol=1e-4, atol=1e-5)
    assert aux2.shape == (2, 5)


def _aux_outputs(net, x):
    inner = net.inception4a(net.stage3(net.stem(x)))
    return net.aux1(inner).data, net.aux2(net.stage4(inner)).data


def test_googlenet_returns_side_outputs_only_in_training() -> None:
    net = st.models.GoogLeNet(num_classes=3, in_channels=1, input_size=28, width=1 / 16, rng=0)
    x = _images(2, 1, 28)
    assert isinstance(net.train()(x), tuple) and len(net(x)) == 3
    assert net.eval()(x).shape == (2, 3)
    plain = st.models.GoogLeNet(num_classes=3, in_channels=1, input_size=28, width=1 / 16,
                                aux_logits=False)
    assert plain.train()(x).shape == (2, 3)
    assert repr(plain.default_task()) == "Classification(num_classes=3)"
    assert net.default_task().weight == 0.3
    assert st.models.GoogLeNet(num_classes=3, aux_weight=0.5, input_size=28, width=1 / 16,
                               init="zeros").default_task().weight == 0.5


def test_fit_adds_the_weighted_side_losses() -> None:
    # One full-batch gradient step through fit equals one by hand on
    # J(main) + 0.3 (J(aux1) + J(aux2)); without the side losses the side heads would not move.
    def build():
        return st.models.GoogLeNet(num_classes=3, in_channels=1, input_size=28, width=1 / 16,
                                   keep_prob=1.0, aux_keep_prob=1.0, rng=0)

    X = _images(6, 1, 28)
    y = np.array([0, 1, 2, 0, 1, 2])
    by_fit, by_hand = build(), build()
    before = by_fit.aux1.layers[-1].weight.data.copy()
    st.train.fit(by_fit, X, y, optimizer=st.optim.GradientDescent(by_fit.parameters(), lr=0.5),
                 epochs=1, batch_size=None, verbose=0)
    main, aux1, aux2 = by_hand.train()(X)
    F = st.functional
    loss = F.cross_entropy(main, y) + (F.cross_entropy(aux1, y) + F.cross_entropy(aux2, y)) * 0.3
    loss.backward()
    st.optim.GradientDescent(by_hand.parameters(), lr=0.5).step()
    for (name, a), b in zip(by_fit.state_dict().items(), by_hand.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)
    assert not np.allclose(by_fit.aux1.layers[-1].weight.data, before)
