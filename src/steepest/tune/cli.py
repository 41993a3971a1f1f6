"""``steepest tune``: search a model's hyperparameters from the shell, on one machine or many.

Wired into the ``steepest`` command by :mod:`steepest.cli` (``add_tune_parser``,
``command_tune``); ``apply_params`` is what ``steepest train --params best.json`` uses
to retrain the winner.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._files import read_json, write_json
from ..nn.module import Module
from .objective import fit_objective
from .search import _thread_count, coarse_to_fine, search
from .space import Choice, Dimension, IntLogUniform, IntUniform, PowerOfTwo, parse_space

#: The default space per model: the notes' first priorities (H1) on their scales (H3).
DEFAULT_SPACES = {
    "mlp": "lr=log(1e-4,1e-1) beta1=1-log(0.9,0.999) hidden=intlog(32,512) batch=pow2(32,512)",
    "lenet5": "lr=log(1e-4,1e-1) beta1=1-log(0.9,0.999) batch=pow2(32,256)",
    "logistic": "lr=log(1e-3,10)",
}

#: Hyperparameters ``steepest tune`` can search, and the models they apply to.
KNOWN = ("lr", "decay", "batch", "epochs", "l2", "beta1", "beta2", "beta", "momentum",
         "hidden", "keep_prob")

_OPTIMIZER_OPTIONS = ("beta1", "beta2", "beta", "momentum")


class ModelBuilder:
    """``build_model(params)`` for ``steepest tune``: the model of ``steepest train``.

    Picklable (a plain class holding a tiny stand-in of the data set), so worker
    processes can build models.
    """

    def __init__(self, model: str, hidden: str, activation: str, keep_prob: float, seed: int,
                 data: Any, n_inputs: int) -> None:
        self.model, self.hidden, self.activation = model, hidden, activation
        self.keep_prob, self.seed = keep_prob, seed
        self.data, self.n_inputs = data, n_inputs

    def __call__(self, params: dict[str, Any]) -> Module:
        from .. import cli as base

        hidden = params.get("hidden", self.hidden)
        arguments = argparse.Namespace(
            model=self.model, hidden=str(int(hidden)) if isinstance(hidden, (int, np.integer))
            else str(hidden), activation=self.activation,
            keep_prob=float(params.get("keep_prob", self.keep_prob)), seed=self.seed)
        return base.build_model(arguments, self.data, self.n_inputs)


def _check_names(space: dict[str, Dimension], args: argparse.Namespace) -> None:
    from .. import cli as base

    for name, dimension in space.items():
        if name == "batch_size":
            raise base.CommandError("--space: call the mini-batch size 'batch' (e.g. "
                                    "batch=pow2(32,512))")
        if name not in KNOWN:
            raise base.CommandError(f"--space: unknown hyperparameter {name!r}; steepest tune "
                                    f"searches {', '.join(KNOWN)}")
        if name in ("hidden", "keep_prob") and args.model != "mlp":
            raise base.CommandError(f"--space: {name} is an mlp hyperparameter; --model "
                                    f"{args.model} has none")
        if name in ("beta1", "beta2") and args.optimizer != "adam":
            raise base.CommandError(f"--space: {name} is Adam's; --optimizer {args.optimizer} "
                                    "has no such hyperparameter")
        if name in ("hidden", "epochs", "batch") and \
                not isinstance(dimension, (IntUniform, IntLogUniform, PowerOfTwo, Choice)):
            raise base.CommandError(f"--space: {name} must be a whole number: use int(a,b), "
                                    f"intlog(a,b), pow2(a,b) or choice(...); got {dimension!r}")


def add_tune_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``steepest tune`` to the subcommands of the ``steepest`` parser."""
    from .. import cli as base

    tune = commands.add_parser(
        "tune", help="search hyperparameters: random, coarse to fine, many processes or machines",
        description="Search hyperparameters of a model the way the course recommends: random "
        "points (not a grid), on the right scale (log for the learning rate, 1 - beta on a log "
        "scale for beta), optionally zooming in coarse to fine; bad runs are pruned from their "
        "learning curves. --jobs runs processes on this machine; --storage lets workers on "
        "several machines share one study. Writes the trials, plots and best.json (retrain "
        "with: steepest train --params best.json).")
    tune.add_argument("--data", choices=base.DATASETS, default="mnist-sample",
                      help="data set (default mnist-sample, the embedded 5,000 digits)")
    tune.add_argument("--model", choices=base.MODELS, default="mlp", help="model (default mlp)")
    tune.add_argument("--space", help="what to search, e.g. \"lr=log(1e-4,1e-1) "
                      "beta1=1-log(0.9,0.999) hidden=intlog(32,512) batch=pow2(32,512)\"; kinds: "
                      "log, 1-log, uniform, int, intlog, pow2, choice (default for mlp: that "
                      "example)")
    tune.add_argument("--trials", type=base._positive_int, default=30,
                      help="trials this run adds to the study (default 30)")
    tune.add_argument("--jobs", type=base._positive_int, default=1,
                      help="processes on this machine, each with cores // jobs BLAS threads "
                      "(default 1)")
    tune.add_argument("--sampler", choices=("random", "tpe"), default="random",
                      help="random search (default) or Optuna's TPE")
    tune.add_argument("--pruner", choices=("none", "median", "halving"), default="median",
                      help="stop trials whose dev error after an epoch is worse than the median "
                      "of earlier trials at that epoch (default), successive halving, or none")
    tune.add_argument("--coarse-to-fine", type=base._positive_int, dest="coarse_to_fine",
                      metavar="ROUNDS", help="split the trials into ROUNDS rounds, each "
                      "sampling a smaller box around the best so far")
    tune.add_argument("--keep", type=base._rate(0.0, 1.0, low_open=True), default=0.25,
                      help="coarse to fine: the best fraction of trials that spans the next box "
                      "(default 0.25)")
    tune.add_argument("--storage", help="a database URL shared by workers on several machines "
                      "(postgresql://user:password@host/db, sqlite:///file.db) or a journal file "
                      "on a shared file system; default: this process's memory")
    tune.add_argument("--study", help="the study's name in --storage (workers with the same "
                      "--storage and --study share trials)")
    tune.add_argument("--epochs", type=base._positive_int,
                      help="epochs per trial (default: " + base._defaults("epochs") + ")")
    tune.add_argument("--optimizer", choices=sorted(base.OPTIMIZERS), default="adam",
                      help="update rule (default adam)")
    tune.add_argument("--lr", type=base._rate(0.0, 10.0, low_open=True),
                      help="learning rate when --space does not search it")
    tune.add_argument("--decay", type=base._rate(0.0, 100.0),
                      help="learning-rate decay when not searched (default: "
                      + base._defaults("decay") + ")")
    tune.add_argument("--batch-size", type=base._batch_size, dest="batch_size",
                      help="mini-batch size when not searched (default: "
                      + base._defaults("batch_size") + ")")
    tune.add_argument("--hidden", type=base._hidden_sizes, default="128",
                      help="mlp: hidden layer sizes when not searched (default 128)")
    tune.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu"),
                      default="relu", help="mlp: hidden activation (default relu)")
    tune.add_argument("--keep-prob", type=base._rate(0.0, 1.0, low_open=True), default=1.0,
                      dest="keep_prob", help="mlp: dropout keep probability when not searched")
    tune.add_argument("--l2", type=base._rate(0.0, 1e6), default=0.0,
                      help="L2 lambda when not searched (default 0)")
    tune.add_argument("--seed", type=base._non_negative_int, default=0,
                      help="seed of the split, the weights, the shuffling and the sampler")
    tune.add_argument("--out", help="output folder (default: a new folder under runs/)")
    tune.add_argument("--overwrite", action="store_true",
                      help="allow writing into a non-empty --out folder")
    tune.add_argument("--quiet", action="store_true", help="no line per trial")
    tune.set_defaults(handler=command_tune)
    return tune


def command_tune(args: argparse.Namespace) -> int:
    """Run ``steepest tune``; returns the exit status."""
    from .. import cli as base
    from ._optuna import redact

    defaults = base.DEFAULTS[args.model]
    for key in ("lr", "decay", "epochs", "batch_size"):
        if getattr(args, key) is None:
            setattr(args, key, defaults[key])
    space = parse_space(args.space or DEFAULT_SPACES[args.model])
    _check_names(space, args)
    if args.study and not args.storage:
        raise base.CommandError("--study names a study in a shared --storage; give --storage "
                                "too (e.g. postgresql://user@host/db)")
    rounds = args.coarse_to_fine or 1
    if args.trials < rounds:
        raise base.CommandError(f"--coarse-to-fine {rounds} needs at least {rounds} trials; "
                                f"got --trials {args.trials}")
    storage = None
    if args.storage:
        from .search import storage as make_storage
        storage = make_storage(args.storage)  # unreachable: one error, before any training
    folder_args = argparse.Namespace(**{**vars(args), "model": f"tune-{args.model}"})
    out = base._claim_run_folder(folder_args)
    base._write_status(out, "running", args)
    data = base.load_dataset(args.data, args.seed)
    splits = base.split_data(data, args.seed)
    preprocessing = base.fit_preprocessing(data, args.model, splits.train[0])
    if splits.dev is None:  # split_data always makes one; a guard for the type checker
        raise base.CommandError(f"--data {args.data}: no dev set to measure trials on")
    X_train = base.prepare(splits.train[0], preprocessing)
    X_dev = base.prepare(splits.dev[0], preprocessing)
    stand_in = base.Dataset(data.name, data.X[:1], data.y[:1], data.kind, data.classes,
                            data.scale)
    builder = ModelBuilder(args.model, args.hidden, args.activation, args.keep_prob, args.seed,
                           stand_in, int(np.prod(X_train.shape[1:])))
    # The largest model of the space, built once now: too big a network is refused
    # before any training.
    builder({name: dimension.from_unit(1.0) for name, dimension in space.items()})
    fixed: dict[str, Any] = {"l2": args.l2} if args.l2 else {}
    objective = fit_objective(builder, X_train, splits.train[1], (X_dev, splits.dev[1]),
                              epochs=args.epochs, monitor="dev_error", optimizer=args.optimizer,
                              batch_size=args.batch_size or None, lr=args.lr, decay=args.decay,
                              rng=args.seed, fixed=fixed)
    threads = _thread_count(args.jobs)
    print(f"steepest tune: {args.model} on {args.data} (train {len(X_train):,}, dev "
          f"{len(X_dev):,}); {args.trials} trials, {args.epochs} epochs each, {args.jobs} "
          f"process{'es' if args.jobs > 1 else ''} x {threads} BLAS thread"
          f"{'s' if threads > 1 else ''}; {args.sampler} sampler, {args.pruner} pruner",
          flush=True)
    for name, dimension in space.items():
        print(f"  {name:10s} {dimension!r}")
    options = {"sampler": args.sampler, "direction": "minimize", "jobs": args.jobs,
               "storage": storage, "study": args.study, "pruner": args.pruner,
               "rng": args.seed, "metric": "dev_error", "verbose": 0 if args.quiet else 1}
    try:
        if args.coarse_to_fine:
            per_round = args.trials // rounds
            result: Any = coarse_to_fine(objective, space, rounds=rounds,
                                         trials_per_round=per_round, keep=args.keep,
                                         **options)
        else:
            result = search(objective, space, args.trials, **options)
    except KeyboardInterrupt:
        base._write_status(out, "interrupted", args)
        raise
    except RuntimeError as error:  # a worker process failed: its traceback is above
        base._write_status(out, "failed", args)
        raise base.CommandError(str(error)) from None
    result.to_csv(out / "trials.csv")
    result.to_json(out / "trials.json")
    written = ["trials.csv", "trials.json"]
    counts = result.counts()
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if hasattr(result, "rounds"):
        for round_ in result.rounds:
            print(f"  {round_!r}")
    try:
        best = result.best_trial
    except ValueError as error:
        base._write_status(out, "complete", args, best=None)
        raise base.CommandError(f"{error}; trials are in {out}") from None
    settings = {"epochs": args.epochs, "optimizer": args.optimizer, "lr": args.lr,
                "decay": args.decay, "batch_size": args.batch_size, "hidden": args.hidden,
                "activation": args.activation, "keep_prob": args.keep_prob, "l2": args.l2,
                "seed": args.seed}
    write_json(out / "best.json", {
        "data": args.data, "model": args.model, "params": best["params"],
        "settings": settings, "dev_error": best["value"], "dev_accuracy": 1 - best["value"],
        "trial": best["number"], "trials": len(result.trials),
        "study": result.study.study_name,
        "storage": redact(args.storage) if args.storage else None,
        "time": datetime.datetime.now().isoformat(timespec="seconds")})
    written.append("best.json")
    try:
        result.plot(out / "search.png")
        result.plot_curves(out / "curves.png")
        written += ["search.png", "curves.png"]
    except ImportError:
        print("note: plots skipped (pip install steepest[plot] for plots)")
    base._write_status(out, "complete", args)
    shown = " ".join(f"{k}={_show(v)}" for k, v in best["params"].items())
    print(f"best: trial #{best['number']}, dev error {100 * best['value']:.2f}% (accuracy "
          f"{100 * (1 - best['value']):.2f}%): {shown}")
    print(f"wrote {out}/: {', '.join(written)}")
    print(f"retrain the winner with: steepest train --params {out / 'best.json'}")
    return 0


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def apply_params(args: argparse.Namespace, path: str | os.PathLike[str]) -> list[str]:
    """Set ``steepest train``'s arguments from a ``best.json`` written by ``steepest tune``.

    The file's data set and model replace the command line's; its fixed settings
    (epochs, activation, ...) fill the flags left at their defaults; its searched
    hyperparameters replace the flags. Optimiser hyperparameters without a ``train`` flag
    (beta1, beta2, ...) go to ``args.optimizer_options``. Returns "name=value" for each
    value set, for a note.

    Raises:
        CommandError: the file is missing, unreadable or not a best.json.
    """
    from .. import cli as base

    file = Path(path)
    if not file.is_file():
        raise base.CommandError(f"--params {path} does not exist (steepest tune writes "
                                "best.json in its run folder)")
    best = read_json(file, "steepest train --params")
    if not isinstance(best, dict) or not isinstance(best.get("params"), dict):
        raise base.CommandError(f"--params {path}: not a best.json of steepest tune (no "
                                "'params' object)")
    applied: list[str] = []
    for key in ("data", "model"):
        if best.get(key) is not None:
            setattr(args, key, best[key])
    # The search's fixed settings fill the flags left at their defaults (a flag given on
    # the command line, such as --epochs 3, wins); the searched values always win.
    defaults = vars(base.build_parser().parse_args(["train"]))
    settings = best.get("settings")
    values = {key: value for key, value in (settings if isinstance(settings, dict) else
                                             {}).items()
              if getattr(args, key, None) == defaults.get(key)}
    values.update(best["params"])
    options = dict(getattr(args, "optimizer_options", None) or {})
    renames = {"batch": "batch_size"}
    for key, value in values.items():
        if key in _OPTIMIZER_OPTIONS:
            options[key] = value
        elif key == "hidden":
            args.hidden = str(int(value)) if isinstance(value, (int, float)) else str(value)
        elif key == "seed":
            continue  # the command line's seed stays: a retrain may use another
        elif hasattr(args, renames.get(key, key)):
            if isinstance(value, float) and not math.isfinite(value):
                raise base.CommandError(f"--params {path}: {key} is {value}")
            setattr(args, renames.get(key, key), value)
        else:
            raise base.CommandError(f"--params {path}: unknown hyperparameter {key!r}")
        if key in best["params"]:
            applied.append(f"{key}={_show(value)}")
    args.optimizer_options = options
    return applied
