"""The points a recipe carries, and the safety of reading them from a file someone else made: inline lists
checked point by point, a points file only inside the recipe's own folder (never a path as it stands), a run
folder's points only from the copy it keeps, checked against its hash."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..schema import inside_folder
from .recipe_checks import MAX_RECIPE_BYTES, RecipeError, short

MAX_POINTS = 2_000_000


def points_array(raw: Any, where: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) < 2:
        raise RecipeError(f"{where}: expected a list of at least 2 points (each a list of numbers)")
    if len(raw) > MAX_POINTS:
        raise RecipeError(f"{where}: more than {MAX_POINTS:,} points")
    first = raw[0]
    dim = len(first) if isinstance(first, list) else 0
    if not 1 <= dim <= 64:
        raise RecipeError(f"{where}[0]: expected a list of 1 to 64 numbers, got {short(first)}")
    for i, p in enumerate(raw):
        if not isinstance(p, list) or len(p) != dim or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in p):
            raise RecipeError(f"{where}[{i}]: expected {dim} numbers like the first point, got {short(p)}")
    return checked_points(np.asarray(raw, np.float64), where)


def checked_points(a: np.ndarray, where: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise RecipeError(f"{where}: expected numbers, got an array of {a.dtype}")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2 or not 1 <= a.shape[1] <= 64:
        raise RecipeError(f"{where}: expected N×d points (N ≥ 2, d ≤ 64), got shape {a.shape}")
    if a.shape[0] > MAX_POINTS:
        raise RecipeError(f"{where}: more than {MAX_POINTS:,} points")
    with np.errstate(over="ignore", invalid="ignore"):
        a32 = a.astype(np.float32)
    if not np.isfinite(a32).all():
        raise RecipeError(f"{where}: the points must be finite numbers (within float32's range)")
    return a32


def read_points(p: Path, where: str) -> np.ndarray:
    """An N×d points file (.npy without pickles, or .csv/.txt), checked."""
    from ..train.data.points_io import read_points_array

    if not p.is_file():
        raise RecipeError(f"{where}: no such points file: {p}")
    return checked_points(read_points_array(p, RecipeError, where), f"{where} {p.name}")


def points_file_at(raw: Any, where: str, base_dir: Path | None, key: str = "points_file") -> np.ndarray:
    w = f"{where}: {key}"
    if not isinstance(raw, str) or not raw or len(raw) > 1000:
        raise RecipeError(f"{w}: expected a file name relative to the recipe, got {short(raw)}")
    if base_dir is None:
        raise RecipeError(f"{w}: a pasted recipe cannot refer to a file; it must carry its points inline")
    p = inside_folder(raw, base_dir, w, RecipeError, "recipe")
    if not p.is_file():
        raise RecipeError(f"{w}: the points file {raw!r} is missing (looked for {p})")
    return read_points(p, w)


def points_list(a: np.ndarray) -> list:
    """float32 points as the shortest decimals that read back as the same float32 values."""
    return [[float(str(x)) for x in row] for row in np.asarray(a, np.float32)]


def recorded_points(folder: Path, cfg: dict) -> np.ndarray:
    """A points run's points as its folder keeps them (see :meth:`Recipe.write_points`), or RecipeError."""
    args = cfg.get("dataset_args") if isinstance(cfg.get("dataset_args"), dict) else {}
    raw = args.get("path")
    name = PurePosixPath(str(raw).replace("\\", "/")).name if isinstance(raw, str) else ""
    m = re.fullmatch(r"points-([0-9a-f]{16})\.npy", name)
    where = f"{folder}: the run's points"
    p = Path(folder) / name if m else None
    if p is None or p.is_symlink() or not p.is_file():
        raise RecipeError(f"{where} are not kept in its folder (run.json names {short(raw)}); a recipe of a "
                          "run folder holds only what the run recorded: make it where the points are, with "
                          "gan-studio train --recipe, or from the studio")
    if p.stat().st_size > MAX_RECIPE_BYTES * 4:
        raise RecipeError(f"{where}: {name} is larger than {MAX_RECIPE_BYTES * 4 // 2**20} MB")
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest()[:16] != m.group(1):
        raise RecipeError(f"{where}: {name} does not match its hash (changed since the run wrote it)")
    return read_points(p, where)
