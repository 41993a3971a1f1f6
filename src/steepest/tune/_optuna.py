"""Everything that touches Optuna directly; imported only when a search runs.

* :class:`KeyedRandomSampler`: random search whose draw for trial number k depends on
  (seed, k, name) only, not on which process runs the trial or in what order, so N
  processes sharing a study sample exactly what one process would.
* :func:`make_storage`: a storage from a database URL or a journal file path, with a
  heartbeat so a worker killed mid-trial leaves a failed trial that is retried.
"""

from __future__ import annotations

import math
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

try:
    import optuna
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError('steepest.tune needs Optuna: pip install "steepest[tune]"') from error

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler


@contextmanager
def quiet() -> Iterator[None]:
    """Optuna without its per-trial log lines and experimental-feature warnings."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)


class KeyedRandomSampler(BaseSampler):
    """Uniform sampling on each distribution's own scale, keyed by trial number.

    The draw for parameter ``name`` of trial ``k`` is the first number of
    ``numpy.random.default_rng([seed, k, crc32(name)])``, mapped through the
    distribution: log-uniform for ``log=True``, uniform otherwise. Retried trials keep
    their parameters (Optuna copies them), so a retry repeats the same point.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def __repr__(self) -> str:
        return f"KeyedRandomSampler(seed={self.seed})"

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: Any) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        key = zlib.crc32(param_name.encode())
        u = float(np.random.default_rng([self.seed, int(trial.number), key]).random())
        return unit_to_value(param_distribution, u)


def unit_to_value(distribution: Any, u: float) -> Any:
    """u in [0, 1) -> a value of an Optuna distribution, on its own scale."""
    if isinstance(distribution, CategoricalDistribution):
        choices = distribution.choices
        return choices[min(int(u * len(choices)), len(choices) - 1)]
    if isinstance(distribution, IntDistribution):
        low, high = distribution.low, distribution.high
        if distribution.log:
            a, b = math.log(low - 0.5), math.log(high + 0.5)
            return int(min(max(round(math.exp(a + u * (b - a))), low), high))
        steps = (high - low) // distribution.step + 1
        return int(low + min(int(u * steps), steps - 1) * distribution.step)
    if isinstance(distribution, FloatDistribution):
        start, stop = float(distribution.low), float(distribution.high)
        if distribution.log:
            return float(math.exp(math.log(start) + u * (math.log(stop) - math.log(start))))
        return start + u * (stop - start)
    raise TypeError(f"search: unsupported distribution {distribution!r}")


def make_sampler(kind: Any, seed: int, worker: int = 0) -> Any:
    """The sampler for a search: "random" (keyed), "tpe", or an Optuna sampler."""
    if kind == "random":
        return KeyedRandomSampler(seed)
    if kind == "tpe":
        # Each worker its own stream; the first trials of TPE are random start-up ones.
        return optuna.samplers.TPESampler(seed=seed + worker)
    return kind


def make_pruner(kind: Any) -> Any:
    """None/"none", "median", "halving" (successive halving), or an Optuna pruner."""
    if kind is None or kind == "none":
        return optuna.pruners.NopPruner()
    if kind == "median":
        # Five complete trials before any pruning, and two epochs of every trial before
        # judging it: the first epochs of a learning curve are noisy.
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return kind


def is_storage(value: Any) -> bool:
    return isinstance(value, optuna.storages.BaseStorage)


def make_storage(owner: str, spec: Any, *, heartbeat_interval: float = 10.0,
                 grace_period: float = 30.0, max_retry: int | None = 3) -> Any:
    """An Optuna storage, connected now so an unreachable one fails before any training.

    A string with ``://`` is a database URL (``postgresql://user@host/db``,
    ``mysql+pymysql://...``, ``sqlite:///file.db``): an RDB storage with a heartbeat,
    whose stale trials (a worker that stopped beating) are failed and retried up to
    ``max_retry`` times. Any other string is the path of a journal file (one file on a
    shared file system; no heartbeat). An Optuna storage object is used as it is.
    """
    if is_storage(spec):
        return spec
    if not isinstance(spec, str) or not spec:
        raise TypeError(f"{owner}: `storage` must be a database URL, a journal file path or "
                        f"an Optuna storage; got {spec!r}")
    if "://" not in spec:
        from optuna.storages.journal import JournalFileBackend
        try:
            return optuna.storages.JournalStorage(JournalFileBackend(spec))
        except OSError as error:
            raise ValueError(f"{owner}: cannot open the journal file {spec!r}: "
                             f"{error.strerror}") from None
    engine: dict[str, Any] = {}
    given = spec
    if spec.startswith("postgresql://"):
        spec = _postgresql_driver(spec)
    if spec.startswith("postgresql"):
        engine["connect_args"] = {"connect_timeout": 10}
    elif spec.startswith("sqlite"):
        engine["connect_args"] = {"timeout": 60}
    # Optuna 4.9 renamed RetryFailedTrialCallback / failed_trial_callback.
    retry_class = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    keyword = "heartbeat_stale_trial_callback"
    if retry_class is None:  # pragma: no cover - older Optuna
        retry_class, keyword = optuna.storages.RetryFailedTrialCallback, "failed_trial_callback"
    with quiet():
        callback = retry_class(max_retry=max_retry) \
            if max_retry is None or max_retry > 0 else None
    for attempt in range(3):
        try:
            with quiet():
                # Optuna annotates the two periods as int; any positive number works
                # (they go to Event.wait and timedelta), and tests need fractions.
                return optuna.storages.RDBStorage(
                    spec, engine_kwargs=engine,
                    heartbeat_interval=heartbeat_interval,  # type: ignore[arg-type]
                    grace_period=grace_period,  # type: ignore[arg-type]
                    **{keyword: callback})  # type: ignore[arg-type]
        except ImportError as error:
            raise ImportError(f"{owner}: the database driver for {redact(given)!r} is not "
                              f"installed ({error}); e.g. pip install psycopg2-binary for "
                              "PostgreSQL") from None
        except Exception as error:  # SQLAlchemy raises many types for a bad URL or host
            # Workers started together on an empty database race to create its tables;
            # the losers see a duplicate key, and find the tables there a moment later.
            if type(error).__name__ == "IntegrityError" and attempt < 2:
                time.sleep(0.2 * (attempt + 1))
                continue
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ValueError(f"{owner}: cannot reach storage {redact(given)!r} "
                             f"({type(error).__name__}: {first}); is the database server "
                             "running and the URL right?") from None
    raise AssertionError("unreachable")


def _postgresql_driver(url: str) -> str:
    """``postgresql://`` with the driver that is installed.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; many installations
    have psycopg2 (``pip install psycopg2-binary``) instead.
    """
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and \
            importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def redact(url: str) -> str:
    """A database URL without its password."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def suggest(trial: Any, name: str, distribution: Any) -> Any:
    """Ask the trial for a value of ``distribution`` under ``name``."""
    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(name, distribution.low, distribution.high,
                                   log=distribution.log)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high,
                                 log=distribution.log)
    return trial.suggest_categorical(name, distribution.choices)


def trial_pruned(message: str) -> Exception:
    return optuna.TrialPruned(message)

