"""Argument types and groups shared by the commands (no torch, no numpy: ``--help`` stays fast)."""
from __future__ import annotations

import argparse
import json
import sys

from ..core.settings import parse_finite, parse_whole
from .errors import EXIT_USAGE, UserError


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def kv(text: str):
    """KEY=VALUE, VALUE parsed as JSON when it is JSON (numbers, lists, true/false), else a string.
    NaN and Infinity are refused; so is nesting deep enough to exhaust the parser."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)

    def not_finite(name):
        raise argparse.ArgumentTypeError(f"{k.strip()}: expected a finite value, got {name}")

    try:
        return k.strip(), json.loads(v, parse_constant=not_finite)
    except json.JSONDecodeError:
        return k.strip(), v
    except RecursionError:
        raise argparse.ArgumentTypeError(f"{k.strip()}: the value is nested too deeply") from None


#: whole and finite numbers on the command line: one rule, in the settings table's module (ASCII digits only)
_whole = parse_whole
finite_float = parse_finite


def positive_int(text: str) -> int:
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def nonneg_int(text: str) -> int:
    v = _whole(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def index_int(text: str) -> int:
    """A position in a list the window shows (0 or more, within a Qt int)."""
    v = nonneg_int(text)
    if v > 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{v:,} is beyond any run's snapshots (at most {2**31 - 1:,})")
    return v


def positive_float(text: str) -> float:
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return v


def window_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(t) for t in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1440x900, got {text!r}") from None
    if not (320 <= w <= 10000 and 240 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"window size {w}x{h} is out of range (320x240 to 10000x10000)")
    return w, h


# the names these had in the single-file cli.py
_kv, _positive_int, _nonneg_int, _float, _positive_float, _size = (kv, positive_int, nonneg_int, finite_float,
                                                                   positive_float, window_size)


def dataset_names() -> str:
    """The dataset registry's names, for help texts (torch-free copy, checked against the registry by a test)."""
    from ..core.train.config import DATASET_KINDS

    return ", ".join(DATASET_KINDS)


# ------------------------------------------------------------------------------ the studio window's flags
def add_studio_args(p, *, top: bool = False) -> None:
    """--exit-after, --exit-at, --screenshot and --size, for everything that opens the studio window (the top level,
    ``open``, ``compare``); check them with :func:`check_studio_args`."""
    p.add_argument("--exit-after", type=positive_float, metavar="SECONDS",
                   help="close after this many seconds and print one JSON line of figures (for docs and tests)"
                   if top else "close after this long")
    p.add_argument("--exit-at", type=positive_int, metavar="ITERATION",
                   help="with --exit-after: close as soon as the window shows this iteration (the seconds stay the "
                   "limit): a screenshot at a chosen moment" if top else "with --exit-after: close at this iteration")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="with --exit-after: save the window to this PNG first" if top
                   else "with --exit-after: save the window first")
    p.add_argument("--size", type=window_size, metavar="WxH", help="window size, e.g. 1440x900" if top else None)


def check_studio_args(a) -> None:
    if a.screenshot and a.exit_after is None:
        raise UserError("--screenshot needs --exit-after (the screenshot is taken just before exiting)")
    if a.exit_at is not None and a.exit_after is None:
        raise UserError("--exit-at needs --exit-after (the longest to wait for that iteration, in seconds)")


def studio_missing(exc: Exception) -> int:
    """The studio's libraries (PySide6, pyqtgraph) are not installed: say so, exit status 1."""
    print(f"gan-studio: error: the studio window needs PySide6 and pyqtgraph ({exc}); "
          "the command line (gan-studio train ...) works without them", file=sys.stderr)
    return 1
