"""Random search, coarse to fine, and caviar-style parallel runs (concepts H2, H4).

The notes' advice, as code: sample at random rather than on a grid (a grid of 5 x 5
tries 5 learning rates; 25 random points try 25), on the right scale, then zoom into the
best region and sample again. Many models in parallel ("caviar") are one argument away:
``jobs=N`` runs N processes on this machine, and ``storage=`` lets workers on other
machines join the same study through a shared database.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import numbers
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from .._validation import one_of, positive_int
from ..backend import default_rng
from .results import CoarseToFineResult, Round, SearchResult, trial_record
from .space import Choice, Dimension, check_space

Objective = Callable[[dict[str, Any], Any], float]

_BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                   "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _optuna_module() -> Any:
    try:
        _optuna = importlib.import_module("steepest.tune._optuna")
    except ImportError:
        raise ImportError('steepest.tune.search needs Optuna: pip install "steepest[tune]"'
                          ) from None
    return _optuna


def _seed_from(rng: Any) -> int:
    """One integer seed from an int, a Generator or steepest's default generator."""
    if rng is None:
        rng = default_rng()
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31 - 1))
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise TypeError(f"search: `rng` must be a non-negative int seed or a numpy Generator; "
                        f"got {rng!r}")
    return int(rng)


class TrialObjective:
    """The objective as Optuna calls it: sample the space, record host and process.

    Picklable when the user's objective is, so worker processes can run it.
    """

    def __init__(self, objective: Objective, space: dict[str, Dimension],
                 attrs: Mapping[str, Any] | None = None) -> None:
        self.objective = objective
        self.space = space
        self.attrs = dict(attrs or {})

    def __call__(self, trial: Any) -> float:
        _optuna = _optuna_module()
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        for key, value in self.attrs.items():
            trial.set_user_attr(key, value)
        params = {name: dimension.decode(
            _optuna.suggest(trial, dimension.internal_name(name), dimension.distribution()))
            for name, dimension in self.space.items()}
        trial.set_user_attr("params", params)
        value = self.objective(params, trial)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"search: the objective must return a number (the dev metric); "
                            f"got {value!r} for params {params}")
        return float(value)


def _check_objective(owner: str, objective: Any, jobs: int) -> None:
    if not callable(objective):
        raise TypeError(f"{owner}: `objective` must be a function objective(params, trial) -> "
                        f"dev metric; got {type(objective).__name__}")
    if jobs > 1:
        try:  # what multiprocessing will do with it (nothing is ever read from a file)
            ForkingPickler.dumps(objective)
        except Exception as error:
            raise TypeError(f"{owner}: with jobs={jobs} the objective runs in other processes, "
                            f"so it must be picklable (a module-level function, a "
                            f"functools.partial of one, or fit_objective(...)); got "
                            f"{objective!r} ({type(error).__name__}: {error})") from None


def search(objective: Objective, space: Mapping[str, Dimension] | str, trials: int, *,
           sampler: Any = "random", direction: str = "minimize", jobs: int = 1,
           storage: Any = None, study: str | None = None, pruner: Any = None, rng: Any = None,
           metric: str = "value", verbose: int = 0,
           callbacks: tuple[Callable[[Any, Any], None], ...] = (),
           _attrs: Mapping[str, Any] | None = None) -> SearchResult:
    """Search hyperparameters: ``trials`` evaluations of ``objective`` (H2).

    Args:
        objective: ``objective(params, trial) -> float``, the dev-set metric of a model
            trained with ``params`` (a dict of values). ``trial`` is the Optuna trial:
            report a learning curve with ``trial.report(value, epoch)`` so a pruner can
            stop a bad run (:func:`fit_objective` does this for you).
        space: ``{name: Dimension}`` (``LogUniform``, ``OneMinusLogUniform``, ...) or
            the text form of :func:`parse_space`.
        trials: how many trials this call adds to the study (split across ``jobs``).
        sampler: "random" (default: uniform on each dimension's scale; the draw of
            trial k depends only on the seed and k), "tpe" (Optuna's Tree-structured
            Parzen Estimator), or any Optuna sampler.
        direction: "minimize" (an error, a loss) or "maximize" (an accuracy).
        jobs: processes on this machine sharing the study (caviar). Each pins its BLAS
            threads to ``cores // jobs`` (OMP_NUM_THREADS etc. set before NumPy loads).
        storage: where the study lives: None (memory; a SQLite file in a temporary
            folder when jobs > 1), a database URL (``postgresql://user@host/db``:
            workers on many machines share it), a journal file path, or an Optuna
            storage (see :func:`storage`).
        study: the study's name in the storage; an existing study gets more trials.
        pruner: None, "median", "halving" (successive halving) or an Optuna pruner.
        rng: int seed or numpy Generator (default: from ``steepest.seed``); the same
            seed gives the same samples.
        metric: the value's name in records and plots (e.g. "dev_error").
        verbose: 1 prints one line per finished trial.
        callbacks: Optuna callbacks ``f(study, frozen_trial)`` (jobs=1 only).

    Returns:
        A :class:`SearchResult`: ``best_params``, ``best_value``, ``trials``, ``study``.

    Raises:
        ValueError: a bad space, count, direction or sampler, or an unreachable
            storage: before the first trial.

    Example:
        >>> from steepest.tune import LogUniform, search
        >>> def objective(params, trial):          # best learning rate: 1e-2
        ...     return (np.log10(params["lr"]) + 2) ** 2
        >>> result = search(objective, {"lr": LogUniform(1e-4, 1)}, trials=20, rng=0)
        >>> 3e-3 < result.best_params["lr"] < 3e-2
        True
    """
    owner = "search"
    checked = check_space(owner, space)
    trials = positive_int(owner, "trials", trials)
    jobs = positive_int(owner, "jobs", jobs)
    direction = one_of(owner, "direction", direction, ("minimize", "maximize"))
    _check_objective(owner, objective, jobs)
    seed = _seed_from(rng)
    _optuna = _optuna_module()
    if isinstance(sampler, str):
        one_of(owner, "sampler", sampler, ("random", "tpe"))
    elif not isinstance(sampler, _optuna.BaseSampler):
        raise TypeError(f"{owner}: `sampler` must be 'random', 'tpe' or an Optuna sampler; "
                        f"got {sampler!r}")
    if isinstance(pruner, str):
        one_of(owner, "pruner", pruner, ("none", "median", "halving"))
    elif pruner is not None and not isinstance(pruner, _optuna.optuna.pruners.BasePruner):
        raise TypeError(f"{owner}: `pruner` must be None, 'median', 'halving' or an Optuna "
                        f"pruner; got {pruner!r}")
    if study is not None and not isinstance(study, str):
        raise TypeError(f"{owner}: `study` must be a name (str); got {study!r}")
    if callbacks and jobs > 1:
        raise ValueError(f"{owner}: `callbacks` run in this process only; with jobs={jobs} "
                         "watch the study's storage instead")
    wrapped = TrialObjective(objective, checked, _attrs)
    with _study_storage(owner, storage, jobs) as (resolved, temporary):
        if jobs > 1 and isinstance(resolved, _optuna.optuna.storages.InMemoryStorage):
            raise ValueError(f"{owner}: jobs={jobs} needs a storage the processes can share "
                             "(a database URL, a journal file, or None for a temporary one); "
                             "an in-memory storage lives in this process only")
        with _optuna.quiet():
            optuna_study = _optuna.optuna.create_study(
                storage=resolved, study_name=study, direction=direction, load_if_exists=True,
                sampler=_optuna.make_sampler(sampler, seed), pruner=_optuna.make_pruner(pruner))
        if optuna_study.direction.name.lower() != direction:
            raise ValueError(f"{owner}: study {study!r} already exists with direction "
                             f"{optuna_study.direction.name.lower()!r}; got direction="
                             f"{direction!r}")
        before = {t.number for t in optuna_study.get_trials(deepcopy=False)}
        printer = _Progress(checked, trials, metric, direction, verbose, before)
        finished = [t.value for t in optuna_study.get_trials(deepcopy=False)
                    if t.state.name == "COMPLETE" and t.value is not None
                    and math.isfinite(t.value)]
        if finished:  # an existing study (another round, another worker): its best so far
            printer.best = min(finished) if direction == "minimize" else max(finished)
        if jobs == 1:
            with _optuna.quiet():
                optuna_study.optimize(wrapped, n_trials=trials,
                                      callbacks=[printer.on_trial, *callbacks])
        else:
            _run_workers(owner, wrapped, resolved, optuna_study.study_name, sampler, seed,
                         pruner, trials, jobs, printer)
        if temporary:
            # The temporary database goes away: keep an in-memory copy of the study.
            with _optuna.quiet():
                copy = _optuna.optuna.storages.InMemoryStorage()
                _optuna.optuna.copy_study(from_study_name=optuna_study.study_name,
                                          from_storage=resolved, to_storage=copy)
                optuna_study = _optuna.optuna.load_study(
                    study_name=optuna_study.study_name, storage=copy,
                    sampler=_optuna.make_sampler(sampler, seed),
                    pruner=_optuna.make_pruner(pruner))
        return SearchResult.from_study(optuna_study, checked, metric)


def storage(url: str, *, heartbeat_interval: float = 10.0, grace_period: float = 30.0,
            max_retry: int | None = 3) -> Any:
    """An Optuna storage for workers on many machines, connected and checked now.

    A database URL (``postgresql://user:password@host:5432/db``, ``sqlite:///file.db``)
    gives a relational storage with a heartbeat: every running trial writes a beat each
    ``heartbeat_interval`` seconds; a trial whose last beat is older than
    ``grace_period`` (its worker was killed or lost its machine) is marked failed by the
    next worker that starts a trial and retried, with the same hyperparameters, up to
    ``max_retry`` times. Any other string is a journal file path (no heartbeat).

    Raises:
        ValueError: the database cannot be reached (one line, password hidden).
    """
    return _optuna_module().make_storage("storage", url, heartbeat_interval=heartbeat_interval,
                                         grace_period=grace_period, max_retry=max_retry)


def _scratch_folder() -> str:
    """A temporary folder, in memory (/dev/shm) where there is one: the study's file is
    written after every trial step, and fsync on a disk would cost more than the trials."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return tempfile.mkdtemp(prefix="steepest-tune-", dir=shm)
    return tempfile.mkdtemp(prefix="steepest-tune-")


@contextmanager
def _study_storage(owner: str, spec: Any, jobs: int) -> Any:
    """The storage to use, and whether it is a temporary one made for this search.

    Local parallel runs share a journal file in a temporary folder: it needs no
    database driver (each worker starts faster), and the parent process, which sees
    its children die, retries their unfinished trials itself (see ``_run_workers``).
    """
    _optuna = _optuna_module()
    if spec is not None:
        yield _optuna.make_storage(owner, spec), False
        return
    if jobs == 1:
        yield None, False
        return
    folder = _scratch_folder()
    try:
        yield _optuna.make_storage(owner, os.path.join(folder, "study.journal")), True
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------- progress
class _Progress:
    """One line per finished trial: its value, its hyperparameters, the best so far."""

    def __init__(self, space: dict[str, Dimension], total: int, metric: str, direction: str,
                 verbose: int, before: set[int]) -> None:
        self.space, self.total, self.metric, self.verbose = space, total, metric, verbose
        self.direction = direction
        self.seen: set[int] = set(before)
        self.done = 0
        self.best: float | None = None

    def on_trial(self, study: Any, trial: Any) -> None:
        if trial.number in self.seen or trial.state.name in ("RUNNING", "WAITING"):
            return
        self.seen.add(trial.number)
        self.done += 1
        record = trial_record(trial, self.space)
        value = record["value"]
        if record["state"] == "complete" and value is not None and math.isfinite(value):
            better = (self.best is None or (value < self.best if self.direction == "minimize"
                                            else value > self.best))
            self.best = value if better else self.best
        if not self.verbose:
            return
        params = " ".join(f"{k}={_short(v)}" for k, v in record["params"].items())
        if record["state"] == "complete":
            outcome = f"{self.metric} {value:.4g}"
        elif record["state"] == "pruned":
            outcome = f"pruned after epoch {len(record['curve'])}"
        else:
            outcome = record["state"]
        best = f"  (best {self.best:.4g})" if self.best is not None else ""
        print(f"trial {self.done}/{self.total} [#{trial.number}] {outcome}  {params}{best}",
              flush=True)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------- caviar
def _thread_count(jobs: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // jobs)


@contextmanager
def _child_environment(threads: int) -> Any:
    """BLAS thread counts for processes started inside the block.

    OpenBLAS, MKL and OpenMP read these variables once, when NumPy loads them, so they
    must be in the child's environment before its first ``import numpy``: a spawned
    process inherits the parent's environment at start. (threadpoolctl could change a
    running process's pools, but it is not a dependency.)
    """
    saved = {name: os.environ.get(name) for name in _BLAS_VARIABLES}
    os.environ.update({name: str(threads) for name in _BLAS_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _worker(objective: TrialObjective, storage: Any, study_name: str, sampler: Any, seed: int,
            pruner: Any, trials: int, index: int) -> None:
    """One caviar process: load the shared study and run its share of the trials."""
    _optuna = _optuna_module()
    with _optuna.quiet():
        study = _optuna.optuna.load_study(
            study_name=study_name, storage=storage,
            sampler=_optuna.make_sampler(sampler, seed, worker=index),
            pruner=_optuna.make_pruner(pruner))
        study.optimize(objective, n_trials=trials)


def _run_workers(owner: str, objective: TrialObjective, storage: Any, study_name: str,
                 sampler: Any, seed: int, pruner: Any, trials: int, jobs: int,
                 progress: _Progress) -> None:
    """Start ``jobs`` spawned processes on one study and wait, showing progress.

    A worker killed by a signal (out of memory, kill -9) leaves its current trial
    running in the study: this process marks it failed, queues a retry with the same
    hyperparameters and runs the trials that worker still owed, so the search ends
    with exactly ``trials`` finished trials.
    """
    _optuna = _optuna_module()
    shares = [trials // jobs + (i < trials % jobs) for i in range(jobs)]
    context = multiprocessing.get_context("spawn")
    processes = []
    with _child_environment(_thread_count(jobs)):
        for index, share in enumerate(shares):
            if share == 0:
                continue
            process = context.Process(target=_worker, name=f"steepest-tune-{index}",
                                      args=(objective, storage, study_name, sampler, seed,
                                            pruner, share, index))
            process.start()
            processes.append((process, share))
    with _optuna.quiet():
        study = _optuna.optuna.load_study(study_name=study_name, storage=storage,
                                          sampler=_optuna.make_sampler(sampler, seed, jobs),
                                          pruner=_optuna.make_pruner(pruner))
    try:
        while any(p.is_alive() for p, _ in processes):
            time.sleep(0.1)
            _report_finished(study, progress)
    finally:
        for process, _ in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    owed = 0
    for process, share in processes:
        if process.exitcode is not None and process.exitcode < 0 and process.pid:
            owed += _recover(study, process.pid, share)
    if owed:
        with _optuna.quiet():
            study.optimize(objective, n_trials=owed)
    _report_finished(study, progress)
    failed = [p for p, _ in processes if p.exitcode is not None and p.exitcode > 0]
    if failed:
        codes = ", ".join(f"{p.name} (pid {p.pid}) exit code {p.exitcode}" for p in failed)
        raise RuntimeError(f"{owner}: {len(failed)} of {len(processes)} worker processes "
                           f"failed: {codes}; their errors are printed above. Finished "
                           f"trials stay in study {study_name!r}")


def _recover(study: Any, pid: int, share: int) -> int:
    """Fail and requeue a killed worker's running trial; the number of trials it owed."""
    _optuna = _optuna_module()
    optuna = _optuna.optuna
    finished = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get("pid") != pid:
            continue
        if trial.state == optuna.trial.TrialState.RUNNING:
            study._storage.set_trial_state_values(trial._trial_id,
                                                  state=optuna.trial.TrialState.FAIL)
            with _optuna.quiet():
                retry: Any = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback",
                                     None) or optuna.storages.RetryFailedTrialCallback
                retry()(study, study._storage.get_trial(trial._trial_id))
        elif trial.state.is_finished():
            finished += 1
    return max(share - finished, 0)


def _report_finished(study: Any, progress: _Progress) -> None:
    for trial in study.get_trials(deepcopy=False):
        if trial.number not in progress.seen and trial.state.is_finished():
            progress.on_trial(study, trial)


# ---------------------------------------------------------------- coarse to fine
def _narrow_box(space: dict[str, Dimension], kept: list[dict[str, Any]],
                best: dict[str, Any], shrink: float) -> dict[str, Dimension]:
    """A smaller box around the best point, on each dimension's sampled scale.

    In the unit coordinates of the current box, the new box spans the kept trials
    (padded by 5% of the old width), no wider than ``shrink`` of the old width and at
    least a quarter of that, and always contains the best point.
    """
    narrowed: dict[str, Dimension] = {}
    for name, dimension in space.items():
        if isinstance(dimension, Choice):
            narrowed[name] = dimension.keep(t["params"][name] for t in kept)
            continue
        us = [dimension.to_unit(t["params"][name]) for t in kept]
        center_best = dimension.to_unit(best["params"][name])
        low, high = min(us) - 0.05, max(us) + 0.05
        width = min(shrink, max(high - low, shrink / 4))
        middle = (low + high) / 2
        new_low = min(center_best, middle - width / 2)
        new_low = max(0.0, new_low)
        new_high = min(1.0, new_low + width)
        new_low = max(0.0, new_high - width)
        if not new_low <= center_best <= new_high:  # cannot happen; keep the best inside
            new_low, new_high = max(0.0, center_best - width / 2), min(1.0,
                                                                        center_best + width / 2)
        narrowed[name] = dimension.narrow(new_low, new_high)
    return narrowed


def _box(space: dict[str, Dimension]) -> dict[str, tuple[Any, Any]]:
    return {name: (tuple(d.options) if isinstance(d, Choice) else d.bounds)
            for name, d in space.items()}


def coarse_to_fine(objective: Objective, space: Mapping[str, Dimension] | str, *,
                   rounds: int = 3, trials_per_round: int = 10, keep: float | int = 0.25,
                   shrink: float = 0.5, **search_options: Any) -> CoarseToFineResult:
    """Random search, then zoom into the best region and search again (H2).

    Round 1 samples the whole box. Each later round keeps the best ``keep`` trials so
    far (a fraction, or a count), and samples a smaller box that spans them around
    the best point, measured on each dimension's sampled scale (in decades for a
    log-uniform one, in 1 - beta for a beta), at most ``shrink`` times the previous
    width. A Choice keeps the options the kept trials used.

    Args:
        objective, space: as for :func:`search`.
        rounds: number of rounds (>= 1).
        trials_per_round: trials in each round.
        keep: the best trials that define the next box: a fraction in (0, 1] or a
            count >= 1.
        shrink: the most a box's width may keep, per dimension, in (0, 1).
        **search_options: passed to :func:`search` (sampler, direction, jobs,
            storage, study, pruner, rng, metric, verbose).

    Returns:
        A :class:`CoarseToFineResult`: a search result over all rounds, plus
        ``rounds`` (each with ``.box``: name -> (low, high), and ``.trials``).

    Example:
        >>> from steepest.tune import LogUniform, Uniform, coarse_to_fine
        >>> def objective(params, trial):
        ...     return (np.log10(params["lr"]) + 3) ** 2 + (params["x"] - 0.2) ** 2
        >>> result = coarse_to_fine(objective, {"lr": LogUniform(1e-6, 1),
        ...                                     "x": Uniform(0, 1)},
        ...                         rounds=3, trials_per_round=8, rng=0)
        >>> [len(r.trials) for r in result.rounds]
        [8, 8, 8]
        >>> low, high = result.rounds[-1].box["lr"]
        >>> low <= result.best_params["lr"] <= high and high / low < 1e6
        True
    """
    owner = "coarse_to_fine"
    checked = check_space(owner, space)
    rounds = positive_int(owner, "rounds", rounds)
    trials_per_round = positive_int(owner, "trials_per_round", trials_per_round)
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real) or keep <= 0 or \
            (isinstance(keep, float) and keep > 1 and not keep.is_integer()):
        raise ValueError(f"{owner}: `keep` must be a fraction in (0, 1] or a count >= 1; got "
                         f"{keep!r}")
    if isinstance(shrink, bool) or not isinstance(shrink, numbers.Real) or \
            not 0 < shrink < 1:
        raise ValueError(f"{owner}: `shrink` must be in (0, 1); got {shrink!r}")
    unknown = set(search_options) - {"sampler", "direction", "jobs", "storage", "study",
                                     "pruner", "rng", "metric", "verbose"}
    if unknown:
        raise TypeError(f"{owner}: unexpected argument(s) {', '.join(sorted(unknown))}")
    seed = _seed_from(search_options.pop("rng", None))
    direction = search_options.get("direction", "minimize")
    result_rounds: list[Round] = []
    current = checked
    study = search_options.pop("study", None)
    storage_spec = search_options.pop("storage", None)
    result: SearchResult | None = None
    final_metric = search_options.get("metric", "value")
    run = uuid.uuid4().hex  # tells this call's trials from earlier ones in a shared study
    jobs = search_options.get("jobs", 1)
    with _study_storage(owner, storage_spec, 1 if jobs == 1 and storage_spec is None
                        else max(jobs, 2)) as (resolved, temporary):
        for number in range(1, rounds + 1):
            if result is not None:
                done = [t for t in result._complete()]
                if not done:
                    raise ValueError(f"{owner}: no trial of round {number - 1} completed, so "
                                     "there is no best region to zoom into")
                done.sort(key=lambda t: t["value"], reverse=direction == "maximize")
                count = int(keep) if keep >= 1 else max(1, math.ceil(keep * len(done)))
                current = _narrow_box(current, done[:count], done[0], float(shrink))
            study_or_storage = result.study if (result is not None and resolved is None) \
                else resolved
            result = _round(objective, current, trials_per_round, study_or_storage, study,
                            seed + number - 1, {"round": number, "coarse_to_fine": run},
                            search_options)
            study = result.study.study_name
            final_metric = result.metric
            numbers_in_round = {
                trial.number for trial in result.study.get_trials(deepcopy=False)
                if trial.user_attrs.get("coarse_to_fine") == run
                and trial.user_attrs.get("round") == number}
            result_rounds.append(Round(number, _box(current), current,
                                       [t for t in result.trials
                                        if t["number"] in numbers_in_round]))
        if temporary:
            _optuna = _optuna_module()
            with _optuna.quiet():
                copy = _optuna.optuna.storages.InMemoryStorage()
                _optuna.optuna.copy_study(from_study_name=study, from_storage=resolved,
                                          to_storage=copy)
                kept_study = _optuna.optuna.load_study(study_name=study, storage=copy)
        else:
            kept_study = result.study
        final = SearchResult.from_study(kept_study, checked, final_metric)
    return CoarseToFineResult(final.study, checked, final.direction, final.trials,
                              final.metric, result_rounds)


def _round(objective: Objective, space: dict[str, Dimension], trials: int, storage: Any,
           study: str | None, seed: int, attrs: dict[str, Any],
           options: dict[str, Any]) -> SearchResult:
    """One round of coarse to fine: a search whose trials carry their round number."""
    _optuna = _optuna_module()
    if storage is not None and not _optuna.is_storage(storage):
        storage = storage._storage  # an in-memory study of the previous round
    return search(objective, space, trials, storage=storage, study=study, rng=seed,
                  _attrs=attrs, **options)


__all__ = ["SearchResult", "coarse_to_fine", "search", "storage"]
