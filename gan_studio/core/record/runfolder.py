"""Run folders: what a run leaves behind, so it can be replayed, scrubbed and exported without training.

A run folder holds::

    run.json          format, version, the configuration, what the data are (kind, dimension, name)
    static.npz        what does not change: real points, mode centres, bounds, p_data (toy data)
    metrics.jsonl     one line per logged iteration (losses, D's mean outputs, rates, k)
    snapshots.jsonl   one line per snapshot: iteration, file, modes covered (an index, append-only)
    snapshots/        s-<iteration>.npz: samples from the fixed z, D's field, D's outputs on real and fake
    checkpoint.pt     (written by ``gan-studio train`` and on request)

Snapshots are taken every ``every`` iterations; when there are more than ``max_snapshots``, every other
one is deleted and the interval doubles, so a run of any length keeps an evenly spaced record in bounded
space. Every file is written to a temporary name and renamed, so a reader (``gan-studio open --follow``,
a crash, a full disk) never sees half a file: at worst the newest line of a ``.jsonl`` is incomplete, and
readers skip it.
"""
from __future__ import annotations

import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..train.config import ConfigError, TrainConfig
from ..views.viewspec import StaticInfo, ViewRequest

FORMAT = "gan-studio/run"
VERSION = 1
#: the view request used for recorded snapshots (the field at a modest resolution, with arrows)
RECORD_REQUEST = ViewRequest(names=frozenset({"samples", "field", "d_hist"}), field_res=48, arrows=True)


class RunFolderError(ConfigError):
    """A run folder cannot be read or written; the message says why."""


def _num(v: float):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


def _atomic_write(path: Path, data: bytes) -> None:
    from ..atomic import CheckpointError, atomic_write_bytes

    try:
        atomic_write_bytes(path, data)
    except CheckpointError as exc:
        raise RunFolderError(str(exc)) from None


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
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
    h = views.get("d_hist")
    if h is not None:
        out["d_hist.real"] = np.asarray(h[0], np.float32)
        out["d_hist.fake"] = np.asarray(h[1], np.float32)
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
    if "d_hist.real" in arrays:
        views["d_hist"] = (arrays["d_hist.real"], arrays["d_hist.fake"])
    return views


# ------------------------------------------------------------------------------------------ writing
class RunWriter:
    """A trainer observer that writes a run folder (see the module's docstring).

    ``resume=True`` keeps what is there up to the trainer's current iteration (a resumed run)."""

    def __init__(self, path: str | os.PathLike, trainer, *, every: int = 25, max_snapshots: int = 240,
                 log_every: int = 1, snapshots: bool = True, resume: bool = False) -> None:
        from ..views import views as V

        if every < 1 or max_snapshots < 4 or log_every < 1:
            raise ValueError("every and log_every must be ≥ 1, max_snapshots ≥ 4")
        self.path = Path(path).expanduser()
        try:
            (self.path / "snapshots").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {self.path}: {exc.strerror or exc}") from None
        if not os.access(self.path, os.W_OK):
            raise RunFolderError(f"run folder {self.path} is not writable")
        self.every = int(every)
        self.max_snapshots = int(max_snapshots)
        self.log_every = int(log_every)
        self.record_snapshots = snapshots
        self.static = V.static_info(trainer)
        self.index: list[dict] = []
        self.last_error: str | None = None
        start = trainer.iteration
        self._config_start = trainer.config.to_dict()
        if resume and (self.path / "run.json").exists():
            try:
                old = RunFolder(self.path)
                self._config_start = old.meta.get("config_start") or old.meta["config"]
                self.index = [e for e in old.index if e["iteration"] <= start]
                self.every = max(self.every, int(old.meta.get("snapshot_every", self.every)))
            except RunFolderError:
                self.index = []
        else:
            for p in (self.path / "snapshots").glob("s-*.npz"):
                p.unlink(missing_ok=True)
        self._write_meta(trainer, created=time.time())
        self._write_static()
        self._rewrite_index()
        self._trim_metrics(start if resume else None)
        self._metrics = open(self.path / "metrics.jsonl", "a", buffering=1, encoding="utf-8")
        if snapshots and (not self.index or self.index[-1]["iteration"] < start):
            self.snapshot(trainer)

    # -- files --------------------------------------------------------------------------------------
    def _write_meta(self, trainer, created: float) -> None:
        st = self.static
        meta = {"format": FORMAT, "version": VERSION, "created": created, "config": trainer.config.to_dict(),
                "config_start": self._config_start,
                "data": {"kind": st.kind, "dim": st.dim, "shape": list(st.shape), "name": st.name,
                         "description": st.description, "n_classes": st.n_classes, "sigma": st.sigma},
                "loss": {"name": st.loss, "sigmoid": st.sigmoid, "d_equilibrium": st.d_equilibrium,
                         "g_equilibrium": st.g_equilibrium},
                "device": str(trainer.device), "snapshot_every": self.every, "iteration": trainer.iteration}
        self._meta = meta
        _atomic_write(self.path / "run.json", (json.dumps(meta, indent=2) + "\n").encode())

    def _write_static(self) -> None:
        st = self.static
        arrays = {k: np.asarray(getattr(st, k)) for k in ("real", "centers", "x_grid", "p_data")
                  if getattr(st, k) is not None}
        if st.bounds is not None:
            arrays["lo"], arrays["hi"] = np.asarray(st.bounds[0]), np.asarray(st.bounds[1])
        _atomic_write(self.path / "static.npz", _npz_bytes(arrays))

    def _rewrite_index(self) -> None:
        _atomic_write(self.path / "snapshots.jsonl", "".join(json.dumps(e) + "\n" for e in self.index).encode())

    def _trim_metrics(self, upto: int | None) -> None:
        p = self.path / "metrics.jsonl"
        if upto is None or not p.exists():
            p.unlink(missing_ok=True)
            return
        keep = [ln for ln in p.read_text(encoding="utf-8").splitlines() if _line_iteration(ln) is not None
                and _line_iteration(ln) <= upto]
        _atomic_write(p, "".join(k + "\n" for k in keep).encode())

    # -- observer -----------------------------------------------------------------------------------
    def on_iteration(self, trainer, s) -> None:
        if s.iteration % self.log_every == 0:
            self._metrics.write(json.dumps({
                "iteration": s.iteration, "d_loss": _num(s.d_loss), "g_loss": _num(s.g_loss),
                "d_real": _num(s.d_real), "d_fake": _num(s.d_fake), "lr_d": s.lr_d, "lr_g": s.lr_g,
                "k": s.d_steps, "g_steps": s.g_steps, "batch_size": s.batch_size,
                "seconds": round(s.seconds, 6)}) + "\n")
        if self.record_snapshots and s.iteration % self.every == 0:
            self.snapshot(trainer)

    def on_diverged(self, trainer, message) -> None:
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": "diverged",
                                        "message": message}) + "\n")

    def note(self, trainer, event: str, **data: Any) -> None:
        """A user action worth seeing in a replay (a setting changed, a remedy switched on)."""
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": event, **data}) + "\n")

    def snapshot(self, trainer, views: dict | None = None) -> None:
        """Record what the panels show now. Failures (disk full) are kept in ``last_error``; training goes on."""
        from ..views import views as V
        from ..evaluate.metrics import mode_metrics

        it = int(trainer.iteration)
        if self.index and self.index[-1]["iteration"] == it:
            return
        try:
            if views is None:
                st = self.static
                fakes = V.samples(trainer, RECORD_REQUEST, 0)
                views = {"samples": fakes, "d_hist": V.d_hist(trainer, 256)}
                if st.kind == "points" and st.dim <= 2:
                    views["field"] = V.field(trainer, st, RECORD_REQUEST, fakes)
            entry: dict[str, Any] = {"iteration": it, "file": f"s-{it:09d}.npz", "time": round(time.time(), 3)}
            st = self.static
            if st.centers is not None and st.sigma is not None and "samples" in views:
                m = mode_metrics(np.asarray(views["samples"]).reshape(len(views["samples"]), -1), st.centers,
                                 st.sigma)
                entry.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                             high_quality=round(m["high_quality"], 4))
            _atomic_write(self.path / "snapshots" / entry["file"], _npz_bytes(flatten_views(views)))
            self.index.append(entry)
            if len(self.index) > self.max_snapshots:
                self._thin()  # rewrites the index file
            else:
                with open(self.path / "snapshots.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
            self.last_error = None
        except (RunFolderError, OSError) as exc:
            self.last_error = f"could not record a snapshot in {self.path}: {exc}"

    def _thin(self) -> None:
        self.every *= 2
        keep = [e for e in self.index if e["iteration"] % self.every == 0]
        if len(keep) >= len(self.index) or len(keep) < 2:
            keep = self.index[::2]
        gone = [e for e in self.index if e not in keep]
        self.index = keep
        self._meta["snapshot_every"] = self.every
        _atomic_write(self.path / "run.json", (json.dumps(self._meta, indent=2) + "\n").encode())
        self._rewrite_index()
        for e in gone:
            (self.path / "snapshots" / e["file"]).unlink(missing_ok=True)

    def close(self, trainer=None) -> None:
        if trainer is not None:
            if self.record_snapshots:
                self.snapshot(trainer)
            self._meta["iteration"] = trainer.iteration
            self._meta["config"] = trainer.config.to_dict()
            try:
                _atomic_write(self.path / "run.json", (json.dumps(self._meta, indent=2) + "\n").encode())
            except RunFolderError:
                pass
        if not self._metrics.closed:
            self._metrics.close()


def _line_iteration(line: str) -> int | None:
    try:
        v = json.loads(line).get("iteration")
        return int(v) if v is not None else None
    except (ValueError, AttributeError, TypeError):
        return None


# ------------------------------------------------------------------------------------------ reading
class RunFolder:
    """A run folder opened for reading. ``refresh()`` picks up what a running writer added since."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise RunFolderError(f"no such run folder: {self.path}")
        if not self.path.is_dir():
            raise RunFolderError(f"{self.path} is a file, not a run folder (a folder written by gan-studio train "
                                 "or the studio)")
        meta_p = self.path / "run.json"
        if not meta_p.is_file():
            raise RunFolderError(f"{self.path} is not a GAN Studio run folder: it has no run.json")
        try:
            meta = json.loads(meta_p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunFolderError(f"{meta_p} is damaged: not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise RunFolderError(f"{meta_p} is not a GAN Studio run description")
        if int(meta.get("version", 0)) > VERSION:
            raise RunFolderError(f"{self.path} was written by a newer GAN Studio (run format {meta['version']}); "
                                 "update to open it")
        try:
            self.config = TrainConfig.from_dict(meta["config"])
        except (KeyError, ConfigError, TypeError) as exc:
            raise RunFolderError(f"{meta_p}: its configuration cannot be used ({exc})") from None
        self.meta = meta
        self.static = self._read_static()
        self.index: list[dict] = []
        self.metrics: list[dict] = []
        self._metrics_pos = 0
        self.refresh()

    def _read_static(self) -> StaticInfo:
        m, loss = self.meta.get("data", {}), self.meta.get("loss", {})
        arrays: dict = {}
        p = self.path / "static.npz"
        if p.is_file():
            try:
                with np.load(p, allow_pickle=False) as z:
                    arrays = {k: z[k] for k in z.files}
            except Exception as exc:  # noqa: BLE001 - a damaged file is one message
                raise RunFolderError(f"{p} is damaged ({exc})") from None
        try:
            bounds = (arrays["lo"], arrays["hi"]) if "lo" in arrays else None
            return StaticInfo(kind=m["kind"], dim=int(m["dim"]), shape=tuple(m["shape"]), name=m["name"],
                              description=m.get("description", ""), bounds=bounds, real=arrays.get("real"),
                              centers=arrays.get("centers"), sigma=m.get("sigma"), x_grid=arrays.get("x_grid"),
                              p_data=arrays.get("p_data"), n_classes=int(m.get("n_classes") or 0),
                              sigmoid=bool(loss.get("sigmoid", True)),
                              d_equilibrium=float(loss.get("d_equilibrium", 0.0)),
                              g_equilibrium=float(loss.get("g_equilibrium", 0.0)), loss=loss.get("name", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{self.path / 'run.json'}: the data description is incomplete ({exc})") from None

    def refresh(self) -> bool:
        """Re-read the snapshot index and new metrics lines; True if anything changed."""
        changed = False
        idx: list[dict] = []
        p = self.path / "snapshots.jsonl"
        if p.is_file():
            seen = set()
            for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    e = json.loads(line)
                    it = int(e["iteration"])
                    name = str(e["file"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line being written, or damage: skip it
                if it in seen or "/" in name or "\\" in name:
                    continue
                seen.add(it)
                idx.append(e)
            idx.sort(key=lambda e: e["iteration"])
            idx = [e for e in idx if (self.path / "snapshots" / e["file"]).is_file()]
        if [e["iteration"] for e in idx] != [e["iteration"] for e in self.index]:
            self.index = idx
            changed = True
        mp = self.path / "metrics.jsonl"
        if mp.is_file():
            with open(mp, "rb") as f:
                f.seek(self._metrics_pos)
                data = f.read()
            end = data.rfind(b"\n") + 1  # an unfinished last line waits for the next refresh
            for line in data[:end].decode("utf-8", errors="replace").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and "iteration" in rec:
                    self.metrics.append(rec)
                    changed = True
            self._metrics_pos += end
        return changed

    @property
    def iterations(self) -> list[int]:
        return [e["iteration"] for e in self.index]

    def load(self, i: int) -> dict:
        """The views of snapshot ``i`` (an index into :attr:`index`)."""
        if not self.index:
            raise RunFolderError(f"{self.path} has no snapshots")
        e = self.index[max(0, min(int(i), len(self.index) - 1))]
        p = self.path / "snapshots" / e["file"]
        try:
            with np.load(p, allow_pickle=False) as z:
                return unflatten_views({k: z[k] for k in z.files})
        except Exception as exc:  # noqa: BLE001
            raise RunFolderError(f"snapshot {p.name} of {self.path} is damaged or missing ({exc})") from None

    def stats_array(self, upto: int | None = None) -> np.ndarray:
        """Metrics as rows of live.STAT_COLUMNS (what the loss panel eats)."""
        from ..protocol import STAT_COLUMNS

        rows = []
        for r in self.metrics:
            if "event" in r:
                continue
            if upto is not None and r["iteration"] > upto:
                break
            rows.append(tuple(float("nan") if r.get(c) is None else float(r.get(c, 0))
                              for c in ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "seconds", "k",
                                        "g_steps", "lr_d", "lr_g", "batch_size")))
        return np.asarray(rows, np.float64).reshape(-1, len(STAT_COLUMNS))

    def events(self) -> list[dict]:
        return [r for r in self.metrics if "event" in r]


#: The columns of a run's metrics as CSV (``gan-studio metrics``, the studio's File → Metrics as CSV): the
#: numbers :class:`RunWriter` logs for each iteration, in this order.
METRICS_CSV_COLUMNS = ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "k", "g_steps",
                       "batch_size", "seconds")


def metrics_csv_rows(metrics: list[dict]) -> list[dict]:
    """The logged iterations of ``RunFolder.metrics`` (events, such as a setting changed, left out)."""
    return [r for r in metrics if "event" not in r]


def write_run_metrics_csv(run: "RunFolder", path: str | os.PathLike) -> tuple[Path, list[dict]]:
    """A run folder's logged iterations as CSV with :data:`METRICS_CSV_COLUMNS`; returns (path, rows).
    Raises :class:`RunFolderError` when nothing has been logged yet (no file is written)."""
    rows = metrics_csv_rows(run.metrics)
    if not rows:
        raise RunFolderError(f"{run.path} has no metrics yet")
    return write_metrics_csv(rows, path, list(METRICS_CSV_COLUMNS)), rows


def write_metrics_csv(rows: list[dict], path: str | os.PathLike, columns: list[str] | None = None) -> Path:
    """Rows of numbers → CSV (atomic). Missing values are empty cells."""
    import csv

    cols = columns or sorted({k for r in rows for k in r if not isinstance(r[k], (list, dict))},
                             key=lambda c: (c != "iteration", c))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    _atomic_write(Path(path), buf.getvalue().encode())
    return Path(path)


__all__ = ["RunWriter", "RunFolder", "RunFolderError", "write_metrics_csv", "write_run_metrics_csv",
           "metrics_csv_rows", "METRICS_CSV_COLUMNS", "flatten_views", "unflatten_views"]


# ------------------------------------------------------------------------------------------ the studio's recordings
def studio_runs_dir() -> Path:
    """Where the studio records its runs: ``$GAN_STUDIO_CACHE/runs`` (default ``~/.cache/gan-studio/runs``)."""
    base = os.environ.get("GAN_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gan-studio")
    return Path(base) / "runs"


def new_recording(name: str, keep: int = 8, root: Path | None = None) -> Path:
    """A fresh folder for a studio recording; the oldest beyond ``keep`` are removed (save one to keep it)."""
    import re
    import shutil

    root = root or studio_runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in root.iterdir() if p.is_dir() and (p / "run.json").exists()), key=lambda p: p.name)
    for p in old[:max(0, len(old) - (keep - 1))]:
        shutil.rmtree(p, ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name)[:40] or "run"
    path = root / f"{stamp}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{safe}-{n}"
    return path
