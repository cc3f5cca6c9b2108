"""The run folder's file format: its name and version, the one error its readers and writers raise, how snapshot
views become ``.npz`` arrays and back, and atomic writes (see :mod:`.runfolder` for what a run folder holds)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..train.config import ConfigError
from ..views.viewspec import D_HIST, ViewRequest

FORMAT = "gan-studio/run"
VERSION = 1
#: the view request used for recorded snapshots (the field at a modest resolution, with arrows)
HIST_REAL, HIST_FAKE = f"{D_HIST}.real", f"{D_HIST}.fake"  # the histogram's arrays in a snapshot file
RECORD_REQUEST = ViewRequest(names=frozenset({"samples", "field", D_HIST}), field_res=48, arrows=True)


class RunFolderError(ConfigError):
    """A run folder cannot be read or written; the message says why."""


def atomic_write(path: Path, data: bytes) -> None:
    from ..atomic import CheckpointError, atomic_write_bytes

    try:
        atomic_write_bytes(path, data)
    except CheckpointError as exc:
        raise RunFolderError(str(exc)) from None


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ flattening
def flatten_views(views: dict) -> dict[str, np.ndarray]:
    """Snapshot views (nested dicts/tuples of arrays) → flat ``npz`` arrays. Image samples are stored as
    uint8 (4× smaller; the display has 8 bits anyway)."""
    out: dict[str, np.ndarray] = {}
    s = views.get("samples")
    if s is not None:
        s = np.asarray(s)
        out["samples"] = (np.clip(s, 0, 1) * 255).round().astype(np.uint8) if s.ndim == 4 else s.astype(np.float32)
    f = views.get("field")
    if f is not None:
        for k, v in f.items():
            if k == "arrows":
                out["field.arrows_p"] = np.asarray(v[0], np.float32)
                out["field.arrows_v"] = np.asarray(v[1], np.float32)
            else:
                out[f"field.{k}"] = np.asarray(v, np.float32)
    h = views.get(D_HIST)
    if h is not None:
        out[HIST_REAL] = np.asarray(h[0], np.float32)
        out[HIST_FAKE] = np.asarray(h[1], np.float32)
    return out


def unflatten_views(arrays: dict[str, np.ndarray]) -> dict:
    views: dict = {}
    if "samples" in arrays:
        s = arrays["samples"]
        views["samples"] = s.astype(np.float32) / 255.0 if s.dtype == np.uint8 else s.astype(np.float32)
    field = {k[6:]: v for k, v in arrays.items() if k.startswith("field.") and not k.startswith("field.arrows")}
    if field:
        if "field.arrows_p" in arrays:
            field["arrows"] = (arrays["field.arrows_p"], arrays["field.arrows_v"])
        views["field"] = field
    if HIST_REAL in arrays:
        views[D_HIST] = (arrays[HIST_REAL], arrays[HIST_FAKE])
    return views



def line_iteration(line: str) -> int | None:
    try:
        v = json.loads(line).get("iteration")
        return int(v) if v is not None else None
    except (ValueError, AttributeError, TypeError, OverflowError, RecursionError):
        return None



__all__ = ["FORMAT", "VERSION", "RECORD_REQUEST", "RunFolderError", "atomic_write", "npz_bytes", "flatten_views",
           "unflatten_views", "line_iteration", "HIST_REAL", "HIST_FAKE"]
