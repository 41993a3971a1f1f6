"""What ``steepest train`` does at the end of a run, shared by its classifier and detector paths.

The command-line layer only: it prints for a person at a shell.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from .train import EarlyStopping, History, Trainer


def end_interrupted_run(trainer: Trainer, history: History, received: int, out: Path,
                        args: argparse.Namespace, write_status: Callable[..., None]) -> int:
    """Keep the last complete epoch as a checkpoint, mark the run interrupted, say how to
    continue; returns the exit code (128 + the signal's number).

    Further signals are recorded, not acted on, while this runs: the checkpoint is an
    atomic swap, so the last complete state survives whatever happens now.
    """
    checkpoint = out / "checkpoint"
    done = history.epochs[-1] if history.epochs else 0
    wrote = trainer.write_resume_point(checkpoint)
    write_status(out, "interrupted", args, epochs_done=done if wrote else 0)
    kept = (f"the state after epoch {done} is in {checkpoint}" if wrote
            else "no epoch was complete")
    print(f"steepest train: interrupted by {signal.Signals(received).name}; {kept}. Continue "
          f"with: steepest train --resume {out}", file=sys.stderr)
    return 128 + int(received)


def report_stop(history: History, stopper: EarlyStopping | None) -> None:
    """Say why training stopped early and which epoch's weights the model now holds."""
    if history.stop_reason:
        print(f"note: {history.stop_reason}")
    last_epoch = history.epochs[-1] if history.epochs else 0
    if stopper is not None and stopper.best_epoch is not None and stopper.best_epoch != last_epoch:
        print(f"note: restored the weights of epoch {stopper.best_epoch} (the best dev_loss, "
              f"{stopper.best:.4f}); the last epoch run was {last_epoch}. --no-early-stopping "
              "keeps the last weights")


__all__ = ["end_interrupted_run", "report_stop"]
