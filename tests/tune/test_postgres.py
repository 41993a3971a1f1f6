"""Caviar on many machines, for real: workers sharing a study in PostgreSQL.

A PostgreSQL server is started once for this module in a temporary folder (Unix socket
only, no TCP port). The test is skipped only when the server binaries (initdb, pg_ctl)
are not installed; .ci/run installs them.
"""

from __future__ import annotations

import functools
import glob
import multiprocessing
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter

import pytest

from steepest.tune import LogUniform, search, storage
from steepest.tune.toys import sleepy

# A database server start and a heartbeat to expire: about 5 s, so it runs with the slow
# tests (`pytest -m slow`, which CI runs after the quick suite).
pytestmark = pytest.mark.slow


def _server_binaries() -> str | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return folder
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@pytest.fixture(scope="module")
def database_url():
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    folder = tempfile.mkdtemp(prefix="steepest-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    run = functools.partial(subprocess.run, check=True, capture_output=True)
    run([*as_user, f"{binaries}/initdb", "-D", data, "-A", "trust", "-U", "postgres",
         "--no-sync", "--no-instructions"])
    options = f"-k {folder} -c listen_addresses='' -p 5432 -c fsync=off"
    run([*as_user, f"{binaries}/pg_ctl", "-D", data, "-o", options, "-l",
         os.path.join(folder, "log"), "-w", "start"])
    try:
        url = f"postgresql://postgres@/postgres?host={folder}&port=5432"
        storage(url)  # the tables, created once (workers started together race for them)
        yield url
    finally:
        subprocess.run([*as_user, f"{binaries}/pg_ctl", "-D", data, "-m", "immediate", "-w",
                        "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


HEARTBEAT = {"heartbeat_interval": 0.2, "grace_period": 0.6}


def _worker(url: str, objective, trials: int) -> None:
    shared = storage(url, **HEARTBEAT)
    search(objective, {"lr": LogUniform(1e-4, 1)}, trials, storage=shared, study="caviar",
           rng=0)


def test_two_workers_share_a_study_and_a_killed_workers_trial_is_retried(database_url,
                                                                          tmp_path):
    notes, killed = str(tmp_path), tmp_path / "killed"

    def survivor_objective(params, trial):
        # The first trial waits for the kill, so the others run after it: one of them
        # starts more than grace_period after the killed worker's last heartbeat.
        deadline = time.monotonic() + 20
        while not killed.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        return params["lr"]

    # fork: the workers need the modules this process already loaded, not a fresh start;
    # and so the objectives may be local functions.
    context = multiprocessing.get_context("fork")
    doomed = context.Process(target=_worker, args=(
        database_url, functools.partial(sleepy, seconds=0.3, folder=notes), 3))
    survivor = context.Process(target=_worker, args=(database_url, survivor_objective, 5))
    doomed.start()
    survivor.start()
    deadline = time.monotonic() + 20
    while len(glob.glob(f"{notes}/{doomed.pid}-*")) < 2:  # the doomed one is in trial 2
        assert time.monotonic() < deadline and doomed.is_alive()
        time.sleep(0.01)
    time.sleep(0.1)  # past the first heartbeat of that trial
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    killed.touch()
    survivor.join(timeout=30)
    assert survivor.exitcode == 0

    shared = storage(database_url, **HEARTBEAT)
    result = search(lambda p, t: 0.0, {"lr": LogUniform(1e-4, 1)}, 1, storage=shared,
                    study="caviar")
    trials = [t for t in result.trials if t["pid"] in (doomed.pid, survivor.pid)]
    states = Counter(t["state"] for t in trials)
    failed = [t for t in trials if t["state"] == "fail"]
    # The killed worker's trial was marked failed (its heartbeat stopped) ...
    assert len(failed) == 1 and failed[0]["pid"] == doomed.pid
    # ... and retried once, with the same hyperparameters, by the surviving worker.
    retries = [t for t in trials if t["retry_of"] is not None]
    assert len(retries) == 1 and retries[0]["retry_of"] == failed[0]["number"]
    assert retries[0]["params"] == failed[0]["params"]
    assert retries[0]["state"] == "complete" and retries[0]["pid"] == survivor.pid
    # Nothing lost, nothing counted twice: every point that was started finished once,
    # and both workers' trials are in the one study.
    assert states == {"complete": 1 + 5, "fail": 1}
    completed = [t["params"]["lr"] for t in trials if t["state"] == "complete"]
    assert len(set(completed)) == len(completed)
    assert all(t["host"] for t in trials)
