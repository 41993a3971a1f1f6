"""The optional matplotlib import, with a message that names the extra."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` with a non-interactive backend when there is no display.

    Raises:
        ImportError: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install steepest[plot]") from error
    import os

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg", "pdf",
                                                                                  "svg"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def finish(figure: Any, path: Any = None) -> Any:
    """Lay the figure out; save it to ``path`` (and close it) when one is given."""
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
        pyplot().close(figure)
    return figure
