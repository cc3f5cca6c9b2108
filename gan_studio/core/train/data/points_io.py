"""Reading an N×d points file (.npy without pickles, or .csv/.txt): one rule for the `points` dataset and
for recipes. numpy only (no torch), so a recipe can be read without loading torch."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import ConfigError


#: the most values (rows × columns) a points file may hold, and the largest text points file read
MAX_VALUES = 200_000_000
MAX_TEXT_BYTES = 256 * 2**20


def check_npy_header(p: Path, error: type[ConfigError] = ConfigError, where: str = "points") -> tuple:
    """The shape a .npy file's header claims, checked against :data:`MAX_VALUES` and the file's real size
    before its data are read (a header may claim 300 M rows)."""
    try:
        with open(p, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f, max_header_size=10_000)
            offset = f.tell()
    except Exception as exc:  # noqa: BLE001 - a damaged header becomes one line
        text = str(exc).strip().splitlines()
        raise error(f"{where}: cannot read {p}: {(text[0] if text else type(exc).__name__)[:200]}") from None
    n = 1
    for d in shape:
        n *= int(d)
    if n > MAX_VALUES:
        raise error(f"{where}: {p.name} claims shape {tuple(shape)} ({n:,} values); the limit is {MAX_VALUES:,}")
    if dtype.hasobject:
        raise error(f"{where}: {p.name} holds Python objects, not numbers (not read)")
    if offset + n * dtype.itemsize > p.stat().st_size:
        raise error(f"{where}: {p.name} is truncated: its header claims shape {tuple(shape)}")
    return tuple(shape)


def read_points_array(path: str | os.PathLike, error: type[ConfigError] = ConfigError,
                      where: str = "points") -> np.ndarray:
    """The array in ``path`` (not yet checked for shape or values); any problem is one ``error`` line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise error(f"{where}: no such file: {p}")
    try:
        if p.suffix == ".npy":
            check_npy_header(p, error, where)  # the size its header claims, before anything is read
            a = np.load(p, allow_pickle=False)
        else:
            if p.stat().st_size > MAX_TEXT_BYTES:
                raise error(f"{where}: {p.name} is larger than {MAX_TEXT_BYTES // 2**20} MB of text; "
                            "save the points as .npy")
            a = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
    except error:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear message
        text = str(exc).strip().splitlines()
        raise error(f"{where}: cannot read {p}: {(text[0] if text else type(exc).__name__)[:200]}") from None
    if not isinstance(a, np.ndarray):
        raise error(f"{where}: {p} is not one array")
    return a


def points_file_bytes(points) -> tuple[str, bytes]:
    """How a run folder keeps its points: ``points-<hash>.npy`` (float32, no pickles) and the file's bytes;
    the name's hash is the first 16 hex digits of the bytes' SHA-256, so a reader can tell the file is
    the one the run wrote."""
    import hashlib
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(points, np.float32), allow_pickle=False)
    data = buf.getvalue()
    return f"points-{hashlib.sha256(data).hexdigest()[:16]}.npy", data
