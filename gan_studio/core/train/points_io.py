"""Reading an N×d points file (.npy without pickles, or .csv/.txt): one rule for the `points` dataset and
for recipes. numpy only (no torch), so a recipe can be read without loading torch."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .config import ConfigError


def read_points_array(path: str | os.PathLike, error: type[ConfigError] = ConfigError,
                      where: str = "points") -> np.ndarray:
    """The array in ``path`` (not yet checked for shape or values); any problem is one ``error`` line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise error(f"{where}: no such file: {p}")
    try:
        if p.suffix == ".npy":
            a = np.load(p, allow_pickle=False)
        else:
            a = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear message
        text = str(exc).strip().splitlines()
        raise error(f"{where}: cannot read {p}: {(text[0] if text else type(exc).__name__)[:200]}") from None
    if not isinstance(a, np.ndarray):
        raise error(f"{where}: {p} is not one array")
    return a
