"""What the files of a run folder may hold, checked where each is read: replay, the panels and the GIF and CSV
exports only ever see valid data. run.json is checked as a whole (a bad one: one line, exit 2); a bad line of an
append-only file (metrics.jsonl, snapshots.jsonl) or a bad snapshot is skipped with a warning
(``RunFolder.warnings``), so a run still being written, or slightly damaged, still opens."""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import columns
from ..schema import Array, Bool, Custom, FileFormatError, Int, List, Map, Num, Str, check
from ..train.config import ConfigError, TrainConfig
from ..views.viewspec import StaticInfo
from .runfiles import FORMAT, HIST_FAKE, HIST_REAL, VERSION, unflatten_views

MAX_ABS = 1e12  # coordinates and scores beyond this are not from a real run (and overflow the drawing code)
MAX_SNAPSHOT_VALUES = 16_000_000  # per array of a snapshot or of static.npz
MAX_RUN_JSON_BYTES = 16 * 2**20
MAX_INDEX_BYTES = 64 * 2**20
SNAPSHOT_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}\.npz")  # a plain name inside snapshots/

#: types TrainConfig.from_dict itself does not check
CONFIG_TYPES = {"dataset": Str(max_len=200, optional=True), "model": Str(max_len=200, optional=True),
                "dataset_args": Map(optional=True), "model_args": Map(optional=True)}


def _config(v: Any, where: str) -> dict:
    """A configuration, checked by TrainConfig and returned in full (every setting, defaults filled in)."""
    check(v, CONFIG_TYPES, where)
    try:
        return TrainConfig.from_dict(v).to_dict()
    except (ConfigError, TypeError, ValueError, OverflowError) as exc:
        raise FileFormatError(f"{where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


DATA_INFO = {"kind": Str(choices=("points", "images")), "dim": Int(min=1, max=2**24),
             "shape": List(item=Int(min=1, max=2**16), min_len=1, max_len=4), "name": Str(max_len=500),
             "description": Str(max_len=5000, optional=True), "n_classes": Int(min=0, max=100_000, optional=True),
             "sigma": Num(min=0, optional=True)}
LOSS_INFO = {"name": Str(max_len=200, optional=True), "sigmoid": Bool(optional=True),
             "d_equilibrium": Num(min=-MAX_ABS, max=MAX_ABS, optional=True),
             "g_equilibrium": Num(min=-MAX_ABS, max=MAX_ABS, optional=True)}
#: run.json (``format`` and ``version`` are checked first, for their own messages)
RUN_JSON = {"format": Str(choices=(FORMAT,)), "version": Int(min=0, max=VERSION, optional=True),
            "created": Num(optional=True), "config": Custom(fn=_config), "config_start": Custom(fn=_config, optional=True),
            "data": Map(fields=DATA_INFO), "loss": Map(fields=LOSS_INFO, optional=True),
            "device": Str(max_len=200, optional=True), "snapshot_every": Int(min=1, optional=True),
            "iteration": Int(min=0, optional=True)}
#: one line of metrics.jsonl: a logged iteration, or an event (a setting changed, divergence, a remedy)
METRIC_LINE = {**columns.LINE_SPECS,  # the statistics columns (core/columns.py), by on-disk name
               "event": Str(max_len=100, optional=True), "message": Str(optional=True), "changes": Map(optional=True)}
#: one line of snapshots.jsonl
SNAPSHOT_INDEX_LINE = {"iteration": Int(min=0), "file": Str(max_len=255), "time": Num(optional=True),
                       "modes_covered": Int(min=0, max=1_000_000, optional=True),
                       "n_modes": Int(min=1, max=1_000_000, optional=True),
                       "high_quality": Num(min=0, max=1, optional=True)}


def _need(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise FileFormatError(f"{where}: {msg}")


def _bounded(a: np.ndarray, where: str) -> None:
    """Finite values no larger than MAX_ABS (non-finite ones are checked, or allowed, by the schema)."""
    if a.dtype.kind in "iuf" and a.size:
        fin = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        _need(not fin.size or float(np.abs(fin.astype(np.float64)).max()) <= MAX_ABS, where,
              f"values beyond ±{MAX_ABS:g}")


def _increasing(a: np.ndarray, where: str) -> None:
    _need(len(a) >= 2 and bool(np.all(np.diff(a.astype(np.float64)) > 0)), where,
          "expected at least 2 increasing values")


def check_index_entry(raw: Any, where: str) -> dict:
    """One line of snapshots.jsonl, checked (raises FileFormatError)."""
    e = check(raw, SNAPSHOT_INDEX_LINE, where)
    _need(SNAPSHOT_FILE.fullmatch(e["file"]) is not None, f"{where}: file",
          f"expected a plain .npz name inside snapshots/, got {e['file'][:60]!r}")
    _need(("modes_covered" in e) == ("n_modes" in e), where, "modes_covered and n_modes go together")
    _need(e.get("modes_covered", 0) <= e.get("n_modes", 0), where, "modes_covered is more than n_modes")
    return e


def static_fields(data: dict) -> dict:
    """The arrays static.npz must hold for these data (run.json's ``data``)."""
    if data["kind"] != "points":
        return {}
    d = data["dim"]
    f = {"lo": Array(shape=(d,)), "hi": Array(shape=(d,)), "real": Array(shape=(None, d), max_size=MAX_SNAPSHOT_VALUES),
         "centers": Array(shape=(None, d), optional=True, max_size=MAX_SNAPSHOT_VALUES)}
    if d == 1:
        f.update(x_grid=Array(ndim=1, max_size=1_000_000), p_data=Array(ndim=1, max_size=1_000_000))
    return f


def check_static(arrays: dict, data: dict, where: str) -> dict:
    """static.npz's arrays, checked against run.json's ``data`` (raises FileFormatError)."""
    fields_ = static_fields(data)
    a = {k: v for k, v in check(arrays, fields_, where).items() if k in fields_}  # other arrays are not used
    if data["kind"] == "points":
        for k in ("lo", "hi", "real", "centers", "x_grid"):
            if k in a:
                _bounded(a[k], f"{where}: {k}")
        _need(bool(np.all(a["hi"] - a["lo"] >= 1e-6)), where, "hi must be above lo in every dimension")
        _need(len(a["real"]) >= 1, f"{where}: real", "no real points")
        if data["dim"] == 1:
            _increasing(a["x_grid"], f"{where}: x_grid")
            _need(a["p_data"].shape == a["x_grid"].shape, f"{where}: p_data", "must have one value per x_grid point")
            _need(bool(np.all(a["p_data"] >= 0)) and float(a["p_data"].max()) <= MAX_ABS, f"{where}: p_data",
                  "must be a density (values from 0 up)")
    return a


def snapshot_fields(static: StaticInfo) -> dict:
    """The arrays a snapshot may hold for this run's data (flattened names, see :func:`flatten_views`)."""
    big = MAX_SNAPSHOT_VALUES
    f: dict = {HIST_REAL: Array(ndim=1, finite=False, optional=True, max_size=big),
               HIST_FAKE: Array(ndim=1, finite=False, optional=True, max_size=big)}
    if static.kind == "images":
        f["samples"] = Array(shape=(None, *static.shape), optional=True, max_size=big)
        return f
    f["samples"] = Array(shape=(None, static.dim), optional=True, max_size=big)
    if static.dim == 2:
        f.update({"field.xs": Array(ndim=1, optional=True, max_size=4096),
                  "field.ys": Array(ndim=1, optional=True, max_size=4096),
                  "field.d": Array(ndim=2, optional=True, max_size=4096 * 4096),
                  "field.arrows_p": Array(shape=(None, 2), optional=True, max_size=big),
                  "field.arrows_v": Array(shape=(None, 2), optional=True, max_size=big)})
    elif static.dim == 1:
        f.update({"field.x": Array(ndim=1, optional=True, max_size=1_000_000),
                  "field.d": Array(ndim=1, optional=True, max_size=1_000_000),
                  "field.p_g": Array(ndim=1, optional=True, max_size=1_000_000),
                  "field.fakes": Array(ndim=1, optional=True, max_size=big)})
    return f


def check_snapshot(arrays: dict, static: StaticInfo, where: str) -> dict:
    """A snapshot's arrays, checked against the run's data (static.npz, run.json) → its views (unknown arrays
    are left out). Raises FileFormatError."""
    fields_ = snapshot_fields(static)
    arrays = {k: v for k, v in arrays.items() if k in fields_}
    # what the panels draw is float32: a float64 value beyond its range would become infinite there
    with np.errstate(over="ignore", invalid="ignore"):  # a value too large for float32 becomes inf: refused below
        arrays = {k: v.astype(np.float32) if v.dtype.kind == "f" and v.dtype.itemsize > 4 else v
                  for k, v in arrays.items()}
    a = check(arrays, fields_, where)
    for k, v in a.items():
        _bounded(v, f"{where}: {k}")

    def together(*keys):
        have = [k in a for k in keys]
        _need(all(have) or not any(have), where, f"{', '.join(keys)} go together")
        return all(have)

    if "samples" in a:
        _need(len(a["samples"]) >= 1, f"{where}: samples", "no samples")
    together(HIST_REAL, HIST_FAKE)
    if static.kind == "points" and static.dim == 2:
        if together("field.xs", "field.ys", "field.d"):
            xs, ys = a["field.xs"], a["field.ys"]
            _increasing(xs, f"{where}: field.xs")
            _increasing(ys, f"{where}: field.ys")
            _need(a["field.d"].shape == (len(ys), len(xs)), f"{where}: field.d",
                  f"expected shape {len(ys)}×{len(xs)} (field.ys × field.xs), got {tuple(a['field.d'].shape)}")
        elif "field.arrows_p" in a or "field.arrows_v" in a:
            raise FileFormatError(f"{where}: gradient arrows without the field")
        if together("field.arrows_p", "field.arrows_v"):
            _need(a["field.arrows_p"].shape == a["field.arrows_v"].shape, f"{where}: field.arrows_v",
                  "must have one vector per arrow start (field.arrows_p)")
    elif static.kind == "points" and static.dim == 1:
        if together("field.x", "field.d", "field.p_g"):
            _increasing(a["field.x"], f"{where}: field.x")
            for k in ("field.d", "field.p_g"):
                _need(a[k].shape == a["field.x"].shape, f"{where}: {k}", "must have one value per field.x point")
        elif "field.fakes" in a:
            a.pop("field.fakes")
    return unflatten_views(a)


def read_npz(path: Path, where: str, max_values: int = MAX_SNAPSHOT_VALUES, max_arrays: int = 64) -> dict:
    """The arrays of an ``.npz`` file, read without trusting it: numbers only (no pickles, no objects), each
    array's size checked against its header and ``max_values`` before anything is allocated.
    Raises FileFormatError."""
    import zipfile
    import zlib

    fmt = np.lib.format
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if i.filename.endswith(".npy")]
            _need(len(infos) <= max_arrays, where, f"more than {max_arrays} arrays")
            for info in infos:
                key = info.filename[:-4]
                with zf.open(info) as f:
                    version = fmt.read_magic(f)
                    if version == (1, 0):
                        shape, fortran, dtype = fmt.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, fortran, dtype = fmt.read_array_header_2_0(f)
                    else:
                        raise FileFormatError(f"{where}: {key}: unsupported array format {version}")
                    _need(not dtype.hasobject and dtype.kind in "biuf" and dtype.itemsize > 0, f"{where}: {key}",
                          f"expected numbers, got {dtype}")
                    count = math.prod(shape)
                    _need(count <= max_values, f"{where}: {key}", f"too large ({count:,} values)")
                    nbytes = count * dtype.itemsize
                    _need(nbytes <= info.file_size, f"{where}: {key}", "truncated")
                    data = f.read(nbytes)
                    _need(len(data) == nbytes, f"{where}: {key}", "truncated")
                arr = np.frombuffer(bytearray(data), dtype=dtype, count=count)
                out[key] = arr.reshape(shape, order="F" if fortran else "C")
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError, NotImplementedError,
            RuntimeError, OverflowError, TypeError) as exc:
        raise FileFormatError(f"{where}: not a readable .npz file ({str(exc)[:120] or type(exc).__name__})") from None
    return out

