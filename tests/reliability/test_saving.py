"""Saving and loading survive ``kill -9`` at any instant; cached data is re-verified.

The kill experiments run in ONE helper process (one Python start-up): it imports
steepest once, then forks a writer child per experiment and kills it with a real
SIGKILL, either at a random moment of a loop of saves or exactly at the k-th
file-system step (rename, folder deletion, fsync, file deletion) of one save, for
every k. After each kill it loads what is on disk, which must be exactly the old
or exactly the new model (every weight compared). ``os.fsync`` is a no-op in the
helper: it only matters for power loss, and a killed process's writes stay in the
page cache, so skipping it keeps the experiments fast without changing what a
kill can leave behind.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import steepest as st
from steepest.data import datasets
from steepest.data.datasets import DatasetError
from steepest.io import ModelFileError, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kill -9 needs POSIX")

HELPER = textwrap.dedent(r'''
    import json, os, random, shutil, signal, sys, time
    from pathlib import Path
    import numpy as np

    os.fsync = lambda fd: None  # see the test module's docstring
    import steepest as st
    from steepest.io import load_checkpoint, save_checkpoint

    root, rounds, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    chance = random.Random(seed)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)


    def version(tag):
        model = st.models.MLP([4, 8, 3] if tag == "A" else [4, 6, 3], rng=ord(tag))
        optimizer = st.optim.Adam(model.parameters(), lr=0.01)
        loss = st.nn.CrossEntropyLoss()(model(x), np.array([0, 1, 2]))
        loss.backward()
        optimizer.step()
        return model, optimizer


    VERSIONS = {tag: version(tag) for tag in "AB"}
    STATES = {tag: {k: np.array(v) for k, v in m.state_dict().items()}
              for tag, (m, _) in VERSIONS.items()}


    def same(state, tag):
        own = STATES[tag]
        return set(state) == set(own) and all(
            np.array_equal(np.asarray(state[k]), own[k]) for k in own)


    def write(kind, target, tag):
        model, optimizer = VERSIONS[tag]
        if kind == "save":
            st.save(model, target)
        else:
            save_checkpoint(target, model, optimizer, {"epoch": ord(tag)},
                            {"best.w": STATES[tag]["layers.0.weight"]})


    def outcome(kind, target):
        """'A' or 'B' when the folder loads as exactly one version, else the error."""
        try:
            if kind == "save":
                state = st.load(target).state_dict()
                return next((t for t in "AB" if same(state, t)), "mixed weights")
            checkpoint = load_checkpoint(target)
            tag = next((t for t in "AB" if same(checkpoint.model_state, t)), None)
            if tag is None:
                return "mixed weights"
            opt = VERSIONS[tag][1].state_dict()["state"]
            consistent = (checkpoint.trainer_state["epoch"] == ord(tag)
                          and np.array_equal(checkpoint.arrays["best.w"],
                                             STATES[tag]["layers.0.weight"])
                          and all(np.array_equal(checkpoint.optimizer_state["state"][i][n], a)
                                  for i, entries in opt.items() for n, a in entries.items()))
            return tag if consistent else "mixed files"
        except Exception as error:
            return f"{type(error).__name__}: {error}"


    def arm(k):
        """Make the k-th rename, folder deletion or file deletion kill this process (SIGKILL)."""
        count = [0]
        real_replace, real_rmtree, real_unlink = os.replace, shutil.rmtree, os.unlink

        def tick():
            count[0] += 1
            return count[0] == k

        def replace(a, b):
            if tick():
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(a, b)

        def rmtree(path, *args, **kwargs):
            if tick():  # die in the middle of the deletion
                entries = sorted(Path(path).iterdir())
                if entries:
                    (real_rmtree if entries[0].is_dir() else real_unlink)(entries[0])
                os.kill(os.getpid(), signal.SIGKILL)
            os.unlink = real_unlink  # rmtree's own unlinks are one step, counted above
            try:
                real_rmtree(path, *args, **kwargs)
            finally:
                os.unlink = unlink

        def unlink(path, *args, **kwargs):
            if tick():
                os.kill(os.getpid(), signal.SIGKILL)
            real_unlink(path, *args, **kwargs)

        # (a kill at a temp file's fsync leaves what a kill at its rename leaves)
        os.replace, shutil.rmtree, os.unlink = replace, rmtree, unlink


    def child(body):
        pid = os.fork()
        if pid == 0:
            try:
                body()
            finally:
                os._exit(0)
        return pid


    def killed_at(kind, target, tag, k):
        """Run one write killed at step k; False when it has fewer steps."""
        pid = child(lambda: (arm(k), write(kind, target, tag)))
        _, status = os.waitpid(pid, 0)
        return os.WIFSIGNALED(status)


    def random_kills(kind):
        target = root / f"random-{kind}" / "model"
        write(kind, target, "A")
        start = time.perf_counter()
        for _ in range(3):
            write(kind, target, "B")
            write(kind, target, "A")
        pair = (time.perf_counter() - start) / 3
        # Kills spread over about four B-then-A pairs: both outcomes come up whatever
        # the machine's load does to the timing.
        seen = {}
        for _ in range(rounds):
            ready, started = os.pipe()

            def loop():
                os.write(started, b"x")
                while True:
                    write(kind, target, "B")
                    write(kind, target, "A")
            pid = child(loop)
            os.read(ready, 1)  # the child runs: time its loop from here, however busy the machine
            os.close(ready)
            os.close(started)
            time.sleep(chance.uniform(0.0, 4 * pair))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            result = outcome(kind, target)
            seen[result] = seen.get(result, 0) + 1
        return seen


    def snapshot(folder):
        return {str(p.relative_to(folder)): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}, sorted(
            str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_dir())


    def restore(folder, saved):
        files, folders = saved
        shutil.rmtree(folder)
        folder.mkdir()
        for name in folders:
            (folder / name).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)


    def every_step(kind):
        """Kill the write of B over A at each step k; then the next write of A at each step j.

        For a checkpoint the second level runs from the states a kill in the swap
        leaves (``NAME`` gone or ``NAME.old`` present); a kill while staging leaves
        only a staged folder beside an untouched ``NAME``.
        """
        parent = root / f"steps-{kind}"
        parent.mkdir()
        target = parent / "model"
        write(kind, target, "A")
        clean = snapshot(parent)
        seen, steps, second_kills, k = {}, 0, 0, 1
        while True:
            restore(parent, clean)
            if not killed_at(kind, target, "B", k):
                break
            steps += 1
            first = outcome(kind, target)
            seen[first] = seen.get(first, 0) + 1
            after = snapshot(parent)
            swapping = not target.is_dir() or target.with_name("model.old").exists()
            j = 1
            while kind == "save" or swapping:
                restore(parent, after)
                if not killed_at(kind, target, "A", j):
                    break
                second = outcome(kind, target)
                seen[second] = seen.get(second, 0) + 1
                second_kills += 1
                j += 1
            restore(parent, after)
            write(kind, target, "A")  # a complete write after a killed one cleans up
            result = outcome(kind, target)
            seen[result] = seen.get(result, 0) + 1
            if result == "A":
                left = sorted(p.name for p in parent.rglob("*") if p.name not in (
                    "model", "config.json", "model.safetensors", "optimizer.json",
                    "optimizer.safetensors", "trainer.json", "trainer.safetensors",
                    "checkpoint.json"))
                if left:
                    seen[f"leftovers {left}"] = seen.get(f"leftovers {left}", 0) + 1
            k += 1
        return {"steps": steps, "second_kills": second_kills, "outcomes": seen}


    report = {"random_save": random_kills("save"),
              "random_checkpoint": random_kills("checkpoint"),
              "steps_save": every_step("save"),
              "steps_checkpoint": every_step("checkpoint")}
    print(json.dumps(report))
''')


@pytest.fixture(scope="module")
def kills(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("kills")
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", HELPER, str(root), "22", "0"],
                          capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _only_old_or_new(outcomes: dict[str, int]) -> None:
    bad = {result: n for result, n in outcomes.items() if result not in ("A", "B")}
    assert not bad, f"outcomes that are neither the old nor the new model: {bad}"


@pytest.mark.slow  # over a second: runs with `pytest -m slow` (CI runs both)
def test_random_kills_during_save_leave_old_or_new_model(kills) -> None:
    outcomes = kills["random_save"]
    _only_old_or_new(outcomes)
    assert sum(outcomes.values()) >= 20
    assert outcomes.get("A", 0) and outcomes.get("B", 0)  # kills landed all over the loop


@pytest.mark.slow  # the kills fixture runs both loops: together in the slow suite
def test_random_kills_during_checkpoint_leave_old_or_new_checkpoint(kills) -> None:
    outcomes = kills["random_checkpoint"]
    _only_old_or_new(outcomes)
    assert sum(outcomes.values()) >= 20
    assert outcomes.get("A", 0) and outcomes.get("B", 0)


@pytest.mark.slow  # the kills fixture (over a second) runs only in the slow suite
@pytest.mark.parametrize("kind", ["save", "checkpoint"])
def test_a_kill_at_every_step_then_at_every_step_of_the_next_write(kills, kind) -> None:
    # Two kills in a row (the second during the write after an interrupted one) is
    # the case where the old swap deleted NAME.old and left no checkpoint at all; a
    # complete write after a killed one must also leave no debris behind.
    result = kills[f"steps_{kind}"]
    assert result["steps"] >= (3 if kind == "save" else 10)
    _only_old_or_new(result["outcomes"])
    assert result["second_kills"] >= (9 if kind == "save" else 20)


def test_interrupted_swap_is_read_from_old_then_recovered(tmp_path) -> None:
    model = st.models.MLP([3, 4, 2], rng=0)
    optimizer = st.optim.SGD(model.parameters(), lr=0.1)
    save_checkpoint(tmp_path / "run", model, optimizer, {"epoch": 1})
    # The state a kill between the swap's two renames leaves: NAME.old and a
    # complete staged folder of another process, no NAME.
    os.replace(tmp_path / "run", tmp_path / "run.old")
    save_checkpoint(tmp_path / "other", model, optimizer, {"epoch": 2})
    os.replace(tmp_path / "other", tmp_path / ".run.staging-999999")
    assert load_checkpoint(tmp_path / "run").trainer_state["epoch"] == 1
    save_checkpoint(tmp_path / "run", model, optimizer, {"epoch": 3})
    assert load_checkpoint(tmp_path / "run").trainer_state["epoch"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_checkpoint_falls_back_to_old_when_the_new_one_does_not_verify(tmp_path) -> None:
    model = st.models.MLP([3, 4, 2], rng=0)
    save_checkpoint(tmp_path / "run", model, None, {"epoch": 1})
    save_checkpoint(tmp_path / "copy", model, None, {"epoch": 0})
    os.replace(tmp_path / "copy", tmp_path / "run.old")
    (tmp_path / "run" / "trainer.json").write_text('{"epoch": 9}')
    assert load_checkpoint(tmp_path / "run").trainer_state["epoch"] == 0
    (tmp_path / "run.old" / "trainer.json").write_text('{"epoch": 8}')
    with pytest.raises(ModelFileError, match=r"run/trainer.json is missing or does not match"):
        load_checkpoint(tmp_path / "run")


def test_save_killed_after_the_config_loads_the_pending_weights(tmp_path) -> None:
    old, new = st.models.MLP([3, 4, 2], rng=0), st.models.MLP([3, 4, 2], rng=1)
    st.save(new, tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    digest = config["weights"]["sha256"]
    # Killed between writing config.json and renaming the new weights into place.
    os.replace(tmp_path / "m" / "model.safetensors", tmp_path / "m" / f"model.safetensors.{digest}")
    st.save(old, tmp_path / "old")
    os.replace(tmp_path / "old" / "model.safetensors", tmp_path / "m" / "model.safetensors")
    for name, value in st.load(tmp_path / "m").state_dict().items():
        np.testing.assert_array_equal(value, new.state_dict()[name])
    st.save(old, tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json",
                                                                 "model.safetensors"]


# --------------------------------------------------------------- cached data


def _official_like_cache(folder: Path) -> dict[str, str]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    checksums = {}
    for stem, shape in (("train-images-idx3-ubyte", (6, 28, 28)),
                        ("train-labels-idx1-ubyte", (6,)),
                        ("t10k-images-idx3-ubyte", (2, 28, 28)),
                        ("t10k-labels-idx1-ubyte", (2,))):
        array = rng.integers(0, 10, shape).astype(np.uint8)
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in shape)
        data = gzip.compress(header + array.tobytes(), mtime=0)
        (folder / f"{stem}.gz").write_bytes(data)
        checksums[f"{stem}.gz"] = hashlib.sha256(data).hexdigest()
    return checksums


def test_cached_mnist_is_verified_on_every_use(tmp_path) -> None:
    cache = tmp_path / "cache"
    checksums = _official_like_cache(cache)
    (train_x, _), _ = datasets.load_mnist(cache_dir=cache, download=False, checksums=checksums)
    assert train_x.shape == (6, 28, 28)
    labels = cache / "t10k-labels-idx1-ubyte.gz"
    # Damaged after the download, still a valid gzip IDX file: only the hash can tell.
    data = bytearray(gzip.decompress(labels.read_bytes()))
    data[-1] = (data[-1] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(data), mtime=0))
    with pytest.raises(DatasetError, match=r"cached .*t10k-labels-idx1-ubyte.gz has SHA-256 "
                                           r"[0-9a-f]{64}, not the expected .*delete it"):
        datasets.load_mnist(cache_dir=cache, download=False, checksums=checksums)


def test_optimizer_settings_in_a_checkpoint_are_validated(tmp_path) -> None:
    model = st.models.MLP([3, 4, 2], rng=0)
    save_checkpoint(tmp_path / "run", model, st.optim.Adam(model.parameters()), {"epoch": 1})
    for change, message in (({"hyperparameters": {"beta1": 2.0, "beta2": 0.999, "eps": 1e-8,
                                                  "weight_decay": 0.0}},
                             r"its settings are not valid Adam arguments \(Adam: `beta1` must "
                             r"be in \[0, 1\); got 2.0\)"),
                            ({"hyperparameters": {"params": []}},
                             r"its settings are not valid Adam arguments .*params"),
                            ({"base_lr": -1.0}, r"its settings are not valid Adam arguments .*lr"),
                            ({"iterations": -3}, r"\"iterations\" must be a non-negative int")):
        folder = tmp_path / f"edited{len(list(tmp_path.iterdir()))}"
        save_checkpoint(folder, model, st.optim.Adam(model.parameters()), {"epoch": 1})
        file = folder / "optimizer.json"
        file.write_text(json.dumps({**json.loads(file.read_text()), **change}))
        manifest = json.loads((folder / "checkpoint.json").read_text())
        manifest["files"]["optimizer.json"] = hashlib.sha256(file.read_bytes()).hexdigest()
        (folder / "checkpoint.json").write_text(json.dumps(manifest))
        with pytest.raises(ModelFileError, match=r"load_checkpoint: .*optimizer.json: " + message):
            load_checkpoint(folder)
