"""Transfer learning (concepts K8, M14): reuse a network trained on a big data set.

The seed's recipe, by how much data the new task has:

* very little: freeze the whole pre-trained network, replace its softmax layer and
  train only that (:func:`freeze`, :func:`replace_head`); since the frozen part
  never changes, compute its outputs once and train the head on them
  (:func:`precompute_features`), which is much faster;
* more: freeze fewer layers and train the last few (``freeze(model, until=-k)``),
  with a smaller learning rate for the pre-trained ones (parameter groups of
  :class:`~steepest.optim.Optimizer`);
* a lot: use the pre-trained weights only as the initialisation and train
  everything (:func:`unfreeze`).

Pre-trained weights come from :func:`pretrained_lenet5` (shipped, trained on the
embedded MNIST digits) or from PyTorch (:func:`load_torch_weights`).

Example:
    >>> import numpy as np
    >>> import steepest as st
    >>> net = st.models.LeNet5(rng=0)
    >>> _ = freeze(net, until=-1)                # everything but the last layer
    >>> _ = replace_head(net, 3, rng=0)          # a fresh 3-class softmax layer
    >>> net.num_parameters(trainable_only=True)  # 84 * 3 + 3
    255
    >>> net.default_task()
    Classification(num_classes=3)
"""

from __future__ import annotations

from .features import precompute_features
from .freezing import freeze, replace_head, unfreeze
from .pretrained import load_digits_28, pretrained_lenet5
from .torch_weights import load_torch_weights

__all__ = ["freeze", "load_digits_28", "load_torch_weights", "precompute_features",
           "pretrained_lenet5", "replace_head", "unfreeze"]
