"""``steepest export RUN --onnx model.onnx``: a trained run as an ONNX file.

The subcommand lives here so the exporter's command line sits beside nothing else
of the CLI; ``steepest.cli`` adds it with :func:`add_export_parser`. The file holds
the model's graph (inputs already preprocessed, as the model sees them) and, in its
metadata properties, the run's class names and preprocessing, so inference code can
reproduce ``steepest predict`` without steepest.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="steepest")
    >>> _ = add_export_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["export", "runs/1", "--onnx", "model.onnx"])
    >>> args.folder, args.onnx, args.opset
    ('runs/1', 'model.onnx', None)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_export_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``commands`` (from ``add_subparsers``)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "export", help="export a trained run to ONNX",
        description="Write the model of a run (from `steepest train`) as an ONNX file with a "
        "dynamic batch size, checked by onnx.checker. Its inputs are preprocessed examples, "
        "as the model sees them; the file's metadata records the preprocessing and the class "
        "names. Needs: pip install steepest[onnx].")
    parser.add_argument("folder", help="the run folder (or its model/ folder)")
    parser.add_argument("--onnx", required=True, metavar="FILE",
                        help="the .onnx file to write (never over an existing file)")
    parser.add_argument("--opset", type=int, default=None,
                        help="ONNX opset version (default 17)")
    parser.set_defaults(handler=command_export)
    return parser


def command_export(args: argparse.Namespace) -> int:
    """Run ``steepest export``; returns the exit status (errors raise, as in the CLI)."""
    from .cli import CommandError, _load_run  # the CLI imports this module: import late
    from .onnx import export, input_shape_of

    target = Path(args.onnx)
    if target.exists():
        raise CommandError(f"--onnx {target}: the file exists; steepest export never replaces "
                           "a file (choose another name or delete it)")
    model, metadata = _load_run(args.folder)
    shape = input_shape_of(model)
    if shape is None:
        raise CommandError(f"{args.folder}: cannot tell the input shape of "
                           f"{type(model).__name__}; export it with steepest.onnx.export")
    keep = ("data", "model", "classes", "preprocessing", "input_range")
    written = export(model, target, shape, args.opset,
                     metadata={key: metadata[key] for key in keep if key in metadata})
    size = written.stat().st_size
    print(f"wrote {written} ({size / 1e6:.2f} MB): input 'input' (batch, "
          f"{', '.join(str(d) for d in shape)}), float32; output 'output' (logits)")
    return 0
