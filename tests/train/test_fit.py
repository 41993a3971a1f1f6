"""The training loop end to end: real data, callbacks, checkpoints, divergence, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import steepest as st
from steepest import optim, train
from steepest.data.augment import RandomCrop, Reshape


def _mnist_flat():
    images, labels = st.data.datasets.load_mnist_sample()
    X = images.reshape(len(images), -1).astype(np.float32) / 255
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:4000]], labels[order[:4000]], X[order[4000:]], labels[order[4000:]]


@pytest.mark.slow  # about 2 s of learning: runs with `pytest -m slow` (CI runs both)
def test_mlp_learns_real_mnist_digits() -> None:
    # 4,000 training digits: dropout (I6) and shift augmentation (I7) take a plain MLP
    # past 95% on the 1,000 dev digits within 10 epochs of Adam.
    X, y, X_dev, y_dev = _mnist_flat()
    st.seed(0)
    model = st.models.MLP([784, 800, 10], keep_prob=0.7, rng=0)
    history = train.fit(model, X, y, dev=(X_dev, y_dev), epochs=10, batch_size=128,
                        optimizer=optim.Adam(model.parameters(), lr=2e-3), rng=0, verbose=0,
                        augment=Reshape((1, 28, 28), RandomCrop(28, padding=2)),
                        callbacks=[train.EarlyStopping("dev_accuracy", patience=10)])
    assert max(history["dev_accuracy"]) >= 0.95
    assert train.evaluate(model, X_dev, y_dev)["accuracy"] >= 0.95  # best weights restored
    assert len(history.iteration_loss) == 10 * math.ceil(4000 / 128)


def test_planar_flower_needs_a_hidden_layer() -> None:
    # The seed's shallow-network lesson: logistic regression cannot separate the
    # flower; one hidden layer of 4 tanh units can.
    X, y = st.data.datasets.make_planar(400, rng=1)
    logistic = st.models.LogisticRegression(2)
    train.fit(logistic, X, y, optimizer=optim.GradientDescent(logistic.parameters(), lr=1.0),
              epochs=300, batch_size=None, verbose=0)
    shallow = st.models.MLP([2, 4, 1], activation="tanh", output="sigmoid", init="xavier", rng=0)
    train.fit(shallow, X, y, optimizer=optim.Adam(shallow.parameters(), lr=0.05), epochs=400,
              batch_size=None, verbose=0)
    logistic_accuracy = (logistic.predict(X).ravel() == y).mean()
    shallow_accuracy = (shallow.predict(X).ravel() == y).mean()
    assert logistic_accuracy < 0.6
    assert shallow_accuracy > 0.85


def test_history_records_what_happened() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    model = st.models.MLP([2, 5, 2], rng=0)
    history = train.fit(model, X, y, dev=(X[:20], y[:20]), epochs=3, batch_size=32,
                        metrics=["accuracy", "f1", "error"], verbose=0)
    assert history.epochs == [1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "f1", "error", "dev_loss",
                                    "dev_accuracy", "dev_f1", "dev_error", "lr"}
    assert len(history.iteration_loss) == 3 * 4
    np.testing.assert_allclose(np.add(history["accuracy"], history["error"]), 1.0)
    assert history.stop_reason is None
    assert not model.training  # fit leaves the model in eval mode


def test_regularization_is_part_of_the_reported_cost() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    plain = st.models.MLP([2, 5, 2], rng=0)
    penalised = st.models.MLP([2, 5, 2], rng=0)
    kwargs = dict(epochs=1, batch_size=None, shuffle=False, verbose=0,
                  metrics=[])
    h_plain = train.fit(plain, X, y, optimizer=optim.GradientDescent(plain.parameters(), 1e-9),
                        **kwargs)
    h_pen = train.fit(penalised, X, y, regularization=st.nn.L2(10.0),
                      optimizer=optim.GradientDescent(penalised.parameters(), 1e-9), **kwargs)
    weights = st.nn.penalised_weights(penalised)
    expected = 10.0 / (2 * 100) * sum(float((w.data ** 2).sum()) for w in weights)
    assert h_pen["loss"][0] == pytest.approx(h_plain["loss"][0] + expected, rel=1e-4)


def test_l2_shrinks_weights_and_l1_makes_them_sparse() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 20)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)  # 18 irrelevant features
    norms = {}
    for name, penalty in [("none", None), ("l2", st.nn.L2(20.0)), ("l1", st.nn.L1(20.0))]:
        model = st.models.LogisticRegression(20)
        train.fit(model, X, y, optimizer=optim.GradientDescent(model.parameters(), lr=0.5),
                  regularization=penalty, epochs=300, batch_size=None, verbose=0)
        w = model.linear.weight.data.ravel()
        norms[name] = w
    assert np.linalg.norm(norms["l2"]) < 0.6 * np.linalg.norm(norms["none"])
    irrelevant_l1 = np.abs(norms["l1"][2:])
    irrelevant_none = np.abs(norms["none"][2:])
    assert (irrelevant_l1 < 0.02).mean() > 0.8  # most irrelevant weights near zero
    assert irrelevant_l1.mean() < 0.3 * irrelevant_none.mean()


def _stopping_run(restore: bool, patience: int):
    X, y = st.data.datasets.make_planar(200, rng=0)
    model = st.models.MLP([2, 16, 2], rng=0)
    stopper = train.EarlyStopping("dev_loss", patience=patience, restore_best=restore)
    history = train.fit(model, X[:100], y[:100], dev=(X[100:], y[100:]), epochs=25,
                        optimizer=optim.Adam(model.parameters(), lr=0.05), verbose=0, rng=0,
                        callbacks=[stopper])
    return model, history, stopper, X[100:], y[100:]


def test_early_stopping_restores_the_best_weights_when_it_fires() -> None:
    model, history, stopper, X_dev, y_dev = _stopping_run(True, patience=2)
    assert stopper.stopped_epoch is not None and "early stopping" in history.stop_reason
    best = min(history["dev_loss"])
    assert train.evaluate(model, X_dev, y_dev)["loss"] == pytest.approx(best, rel=1e-5)
    assert stopper.best_epoch == history.best_epoch("dev_loss")


def test_early_stopping_restores_the_best_weights_when_it_does_not_fire() -> None:
    model, history, stopper, X_dev, y_dev = _stopping_run(True, patience=100)
    assert stopper.stopped_epoch is None and len(history.epochs) == 25
    best = min(history["dev_loss"])
    assert train.evaluate(model, X_dev, y_dev)["loss"] == pytest.approx(best, rel=1e-5)


def test_early_stopping_without_dev_set_is_explained() -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    with pytest.raises(KeyError, match="fit has no dev set"):
        train.fit(st.models.MLP([2, 3, 2]), X, y, epochs=2, verbose=0,
                  callbacks=[train.EarlyStopping()])


def _checkpoint_run(tmp_path, epochs, resume=False, stop_after=None):
    st.seed(5)
    X, y = st.data.datasets.make_planar(120, rng=0)
    model = st.models.MLP([2, 8, 8, 2], keep_prob=0.8, rng=3)
    adam = optim.Adam(model.parameters(), lr=optim.InverseTimeDecay(0.02, 0.3))
    callbacks = [train.ModelCheckpoint(tmp_path / "ckpt"),
                 train.EarlyStopping("dev_loss", patience=50)]
    history = train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), optimizer=adam,
                        epochs=stop_after or epochs, batch_size=16, rng=11, verbose=0,
                        callbacks=callbacks,
                        resume=(tmp_path / "ckpt") if resume else None)
    if resume:
        history = train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), optimizer=adam,
                            epochs=epochs, batch_size=16, rng=11, verbose=0,
                            callbacks=callbacks, resume=tmp_path / "ckpt")
    return model, adam, history


def test_resumed_run_is_bit_for_bit_identical(tmp_path) -> None:
    straight, straight_opt, straight_history = _checkpoint_run(tmp_path / "a", epochs=6)
    # Stop after 3 epochs, then a fresh process-like restart: new model, new
    # optimiser, continue from the checkpoint up to 6.
    _checkpoint_run(tmp_path / "b", epochs=3)
    resumed, resumed_opt, resumed_history = _checkpoint_run(tmp_path / "b", epochs=6,
                                                            resume=True, stop_after=3)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert straight_history.to_dict() == resumed_history.to_dict()
    assert straight_opt.iterations == resumed_opt.iterations


def test_resume_keys_callback_state_by_identity_not_position(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(120, rng=0)
    model = st.models.MLP([2, 8, 2], rng=0)
    stopper = train.EarlyStopping("dev_loss", patience=50)
    train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), epochs=3, verbose=0, rng=0,
              callbacks=[train.ModelCheckpoint(tmp_path / "ckpt"), stopper])
    again = train.EarlyStopping("dev_loss", patience=50)
    # the callbacks in the other order: EarlyStopping still gets its own state back
    train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), epochs=3, verbose=0, rng=0,
              callbacks=[again, train.ModelCheckpoint(tmp_path / "ckpt")],
              resume=tmp_path / "ckpt")
    assert (again.best, again.best_epoch, again.wait) == (stopper.best, stopper.best_epoch,
                                                          stopper.wait)
    # a changed set says what changed
    with pytest.warns(UserWarning, match=r"not given now.*EarlyStopping"):
        train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), epochs=3, verbose=0, rng=0,
                  callbacks=[train.ModelCheckpoint(tmp_path / "ckpt")],
                  resume=tmp_path / "ckpt")


def test_an_early_stopped_run_resumes_as_finished(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(120, rng=0)
    model = st.models.MLP([2, 8, 2], rng=0)
    callbacks = [train.ModelCheckpoint(tmp_path / "ckpt"),
                 train.EarlyStopping("dev_loss", patience=1, min_delta=10.0)]
    history = train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), epochs=10, verbose=0,
                        rng=0, callbacks=callbacks)
    assert history.epochs == [1, 2] and "early stopping" in history.stop_reason
    weights = {k: v.copy() for k, v in model.state_dict().items()}
    resumed = train.fit(model, X[:90], y[:90], dev=(X[90:], y[90:]), epochs=10, verbose=0,
                        rng=0, callbacks=callbacks, resume=tmp_path / "ckpt")
    assert resumed.epochs == [1, 2] and "early stopping" in resumed.stop_reason
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k])


def test_divergence_seen_on_the_dev_set_blames_the_model_not_the_data() -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    model = st.models.MLP([2, 16, 2], rng=0)
    history = train.fit(model, X[:150], y[:150], dev=(X[150:], y[150:]), batch_size=None,
                        optimizer=optim.GradientDescent(model.parameters(), 1e6), epochs=20,
                        verbose=0)
    assert "training diverged" in history.stop_reason
    assert "learning rate was 1e+06" in history.stop_reason
    assert "data" not in history.stop_reason
    assert all(np.isfinite(v).all() for v in model.state_dict().values())


def test_checkpoint_survives_a_corrupt_write(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    model = st.models.MLP([2, 3, 2], rng=0)
    train.fit(model, X, y, epochs=2, verbose=0,
              callbacks=[train.ModelCheckpoint(tmp_path / "ckpt")])
    (tmp_path / "ckpt" / "optimizer.safetensors").write_bytes(b"garbage")
    with pytest.raises(st.io.ModelFileError, match="does not match the manifest"):
        train.fit(model, X, y, epochs=3, verbose=0, resume=tmp_path / "ckpt")


def test_divergence_stops_and_keeps_the_last_good_weights() -> None:
    X, y = st.data.datasets.make_planar(200, rng=0)
    X = X * 1000  # huge inputs and a huge rate: the cost blows up
    model = st.models.MLP([2, 32, 2], rng=0)
    snapshots = []

    class Watch(train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots.append({k: v.copy() for k, v in trainer.model.state_dict().items()})

    history = train.fit(model, X, y, optimizer=optim.GradientDescent(model.parameters(), 50.0),
                        epochs=20, batch_size=16, verbose=0, callbacks=[Watch()])
    assert history.stop_reason is not None
    assert "the cost became" in history.stop_reason and "batch" in history.stop_reason
    state = model.state_dict()
    assert all(np.isfinite(v).all() for v in state.values())
    if snapshots:  # the weights are those of the last complete epoch
        for k, v in snapshots[-1].items():
            np.testing.assert_array_equal(state[k], v)


def test_ctrl_c_ends_cleanly() -> None:
    X, y = st.data.datasets.make_planar(100, rng=0)
    model = st.models.MLP([2, 4, 2], rng=0)

    class Interrupt(train.Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.epoch == 2 and batch == 1:
                raise KeyboardInterrupt

    history = train.fit(model, X, y, epochs=5, batch_size=10, verbose=0,
                        callbacks=[Interrupt()])
    assert history.epochs == [1]
    assert "interrupted (Ctrl-C) during epoch 2" in history.stop_reason


def test_progress_bar_and_epoch_lines(capsys) -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    train.fit(st.models.MLP([2, 3, 2]), X, y, epochs=2, verbose=2)
    assert "epoch 2/2  loss" in capsys.readouterr().out
    train.fit(st.models.MLP([2, 3, 2]), X, y, epochs=1, verbose=1, batch_size=8)
    assert "epoch 1/1" in capsys.readouterr().err  # one bar per epoch over 5 mini-batches
    train.fit(st.models.MLP([2, 3, 2]), X, y, epochs=30, verbose=1, batch_size=None)
    bars = capsys.readouterr().err
    assert "epoch 1/30" not in bars and "30/30" in bars  # batch GD: one bar over the epochs


def test_history_save_load_and_plot(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    history = train.fit(st.models.MLP([2, 3, 2]), X, y, dev=(X, y), epochs=3, verbose=0)
    history.save(tmp_path / "history.json")
    assert train.History.load(tmp_path / "history.json").to_dict() == history.to_dict()
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_predict_and_evaluate() -> None:
    X, y = st.data.datasets.make_planar(60, rng=0)
    model = st.models.MLP([2, 4, 2], rng=0)
    train.fit(model, X, y, epochs=2, verbose=0)
    proba = model.predict_proba(X)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    results = train.evaluate(model, X, y, metrics=["accuracy", "precision"])
    assert set(results) == {"loss", "accuracy", "precision"}


def test_regression_with_linear_output() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + 0.3
    model = st.models.MLP([3, 1], output="linear")
    history = train.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05),
                        epochs=150, batch_size=None, verbose=0)
    assert history["loss"][-1] < 1e-3
    assert "accuracy" not in history.history


@pytest.mark.parametrize("kwargs,error,message", [
    ({"y": np.zeros(5, dtype=int)}, st.ShapeError, r"`X` has 40 examples but `y` has 5"),
    ({"y": np.zeros((40, 1), dtype=int)}, st.ShapeError, r"labels must have shape \(m,\)"),
    ({"y": np.full(40, 0.5)}, TypeError, r"Classification labels .* must be whole class"),
    ({"y": np.full(40, 7)}, ValueError, r"Classification\(2\) labels must be in \[0, 2\); got 7"),
    ({"X": np.zeros((0, 2))}, ValueError, r"`X` is empty"),
    ({"X": np.full((40, 2), np.nan)}, st.NonFiniteError, r"fit: `X` contains NaN"),
    ({"X": np.zeros((40, 3))}, st.ShapeError, r"Linear\(in_features=2\): input has 3 features"),
    ({"epochs": 0}, ValueError, r"`epochs` must be a positive int; got 0"),
    ({"loss": "hinge"}, ValueError, r"unknown loss 'hinge'"),
    ({"optimizer": "adagrad"}, ValueError, r"unknown optimizer 'adagrad'"),
    ({"metrics": ["auc"]}, ValueError, r"Classification task has no metric 'auc'"),
    ({"verbose": 3}, ValueError, r"`verbose` must be 0, 1 or 2"),
    ({"dev": (np.zeros((3, 2)),)}, TypeError, r"`dev` must be a pair"),
])
def test_bad_input_is_refused(kwargs, error, message) -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    arguments = {"X": X, "y": y, "epochs": 1, "verbose": 0, **kwargs}
    model = st.models.MLP([2, 3, 2])
    with pytest.raises(error, match=message):
        train.fit(model, **arguments)


def test_optimizer_for_another_model_is_refused() -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    other = st.models.MLP([2, 3, 2])
    with pytest.raises(ValueError, match="updates none of this model's parameters"):
        train.fit(st.models.MLP([2, 3, 2]), X, y, optimizer=optim.Adam(other.parameters()),
                  verbose=0)


def test_binary_targets_must_be_probabilities() -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    with pytest.raises(ValueError, match=r"Binary targets must lie in \[0, 1\]"):
        train.fit(st.models.LogisticRegression(2), X, y * 3, verbose=0)


def test_a_last_mini_batch_of_one_is_dropped_for_batch_norm_only() -> None:
    X, y = st.data.datasets.make_planar(66, rng=0)
    X, y = X[:65], y[:65]
    bn = st.nn.Sequential(st.nn.Linear(2, 4), st.nn.BatchNorm1d(4), st.nn.ReLU(),
                          st.nn.Linear(4, 2))
    history = train.fit(bn, X, y, task="classification", epochs=2, batch_size=64, verbose=0)
    assert len(history.iteration_loss) == 2  # one full batch per epoch, the lone one dropped
    plain = st.models.MLP([2, 4, 2], rng=0)
    history = train.fit(plain, X, y, epochs=2, batch_size=64, verbose=0)
    assert len(history.iteration_loss) == 4
    with pytest.raises(ValueError, match=r"more than one value per channel.*\(1, 4\)"):
        train.fit(bn, X, y, task="classification", epochs=1, batch_size=64, verbose=0,
                  drop_last=False)


def test_an_edited_trainer_state_is_refused_with_one_message(tmp_path) -> None:
    X, y = st.data.datasets.make_planar(40, rng=0)
    model = st.models.MLP([2, 3, 2], rng=0)
    train.fit(model, X, y, epochs=1, verbose=0,
              callbacks=[train.ModelCheckpoint(tmp_path / "ckpt")])
    trainer_json = tmp_path / "ckpt" / "trainer.json"
    state = json.loads(trainer_json.read_text())
    del state["rng"]
    # keep the manifest valid, as an attacker rewriting both files would
    st.io.checkpoint.save_checkpoint(tmp_path / "edited", model, None, state)
    with pytest.raises(st.io.ModelFileError, match=r"trainer.json is malformed \(KeyError"):
        train.fit(model, X, y, epochs=2, verbose=0, resume=tmp_path / "edited")


def test_an_interrupt_at_the_end_of_an_epoch_is_not_saved_as_a_finished_run(tmp_path) -> None:
    # The signal can land after the epoch's last batch: that epoch completes and its
    # state is kept, but the run is interrupted, not finished, so a resume goes on.
    X, y = st.data.datasets.make_planar(60, rng=0)

    class LateSignal(train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):  # as if during the dev evaluation
            if epoch == 2:
                trainer.interrupt("interrupted by SIGINT")

    model = st.models.MLP([2, 4, 2], rng=0)
    trainer = train.Trainer(model, callbacks=[LateSignal()], verbose=0)
    trainer.keep_resume_point = True
    history = trainer.fit(X, y, epochs=5, batch_size=20, rng=0)
    assert history.epochs == [1, 2] and trainer.interrupted
    assert trainer.write_resume_point(tmp_path / "ckpt")
    resumed = train.fit(st.models.MLP([2, 4, 2], rng=0), X, y, epochs=5, batch_size=20,
                        rng=0, verbose=0, resume=tmp_path / "ckpt")
    assert resumed.epochs == [1, 2, 3, 4, 5] and resumed.stop_reason is None


def test_four_threads_predicting_while_one_trains_change_nothing() -> None:
    # no_grad is per thread: predict() in other threads must not switch recording off
    # for the training thread (the reported bug lost every gradient of a training step).
    import threading

    X, y = st.data.datasets.make_planar(200, rng=0)

    def train_once():
        model = st.models.MLP([2, 8, 2], rng=0)
        train.fit(model, X, y, epochs=5, batch_size=20, verbose=0, rng=0,
                  optimizer=optim.Adam(model.parameters(), lr=0.05))
        return model.state_dict()

    alone = train_once()
    other = st.models.MLP([2, 8, 2], rng=1)
    expected = train.predict(other, X)
    stop, results = threading.Event(), []

    def predict_loop():
        while not stop.is_set():
            results.append(train.predict(other, X))

    threads = [threading.Thread(target=predict_loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        together = train_once()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    for name, value in alone.items():
        np.testing.assert_array_equal(together[name], value, err_msg=name)
    assert results and all(np.array_equal(r, expected) for r in results)
