"""Run folders: what a run leaves behind, so it can be replayed, scrubbed and exported without training.

A run folder holds::

    run.json          format, version, the configuration, what the data are (kind, dimension, name)
    static.npz        what does not change: real points, mode centres, bounds, p_data (toy data)
    metrics.jsonl     one line per logged iteration (losses, D's mean outputs, rates, k)
    snapshots.jsonl   one line per snapshot: iteration, file, modes covered (an index, append-only)
    snapshots/        s-<iteration>.npz: samples from the fixed z, D's field, D's outputs on real and fake
    states/           s-<iteration>.pt: the training state at a snapshot, to continue from it (see states.py)
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
import re
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import columns
from ..columns import RunEvent
from ..schema import Array, Bool, Custom, FileFormatError, Int, List, Map, Num, Str, check, loads, read_text
from ..train.config import ConfigError, TrainConfig
from ..views.viewspec import D_HIST, StaticInfo, ViewRequest

FORMAT = "gan-studio/run"
VERSION = 1
#: the view request used for recorded snapshots (the field at a modest resolution, with arrows)
_HIST_REAL, _HIST_FAKE = f"{D_HIST}.real", f"{D_HIST}.fake"  # the histogram's arrays in a snapshot file
RECORD_REQUEST = ViewRequest(names=frozenset({"samples", "field", D_HIST}), field_res=48, arrows=True)


class RunFolderError(ConfigError):
    """A run folder cannot be read or written; the message says why."""


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
    h = views.get(D_HIST)
    if h is not None:
        out[_HIST_REAL] = np.asarray(h[0], np.float32)
        out[_HIST_FAKE] = np.asarray(h[1], np.float32)
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
    if _HIST_REAL in arrays:
        views[D_HIST] = (arrays[_HIST_REAL], arrays[_HIST_FAKE])
    return views


# ------------------------------------------------------------------------------------------ writing
class RunWriter:
    """A trainer observer that writes a run folder (see the module's docstring).

    ``resume=True`` keeps what is there up to the trainer's current iteration (a resumed run)."""

    def __init__(self, path: str | os.PathLike, trainer, *, every: int = 25, max_snapshots: int = 240,
                 log_every: int = 1, snapshots: bool = True, resume: bool = False, states: bool = True,
                 parent: dict | None = None, static: StaticInfo | None = None) -> None:
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
        self.static = static if static is not None else V.static_info(trainer)  # (given: a watched loop, watch.py)
        self.index: list[dict] = []
        self.last_error: str | None = None
        # training states (states.py): one every `state_every` snapshots, chosen once the first one's size is known
        self.record_states = bool(states)
        self.parent = parent if parent is not None else getattr(trainer, "branch_parent", None)
        self.state_every: int | None = None
        self.state_bytes = 0
        self._since_state = 0
        self._last_state_it = -(10 ** 9)
        start = trainer.iteration
        self._config_start = trainer.config.to_dict()
        if resume and (self.path / "run.json").exists():
            try:
                old = RunFolder(self.path)
                self._config_start = old.meta.get("config_start") or old.meta["config"]
                self.index = [e for e in old.index if e["iteration"] <= start]
                self.every = max(self.every, int(old.meta.get("snapshot_every", self.every)))
                self.parent = self.parent or old.meta.get("parent")
            except RunFolderError:
                self.index = []
        else:
            for p in (self.path / "snapshots").glob("s-*.npz"):
                p.unlink(missing_ok=True)
        self._drop_states(lambda it: not resume or it > start)
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
        if self.parent:
            meta["parent"] = self.parent
        self._meta = meta
        _atomic_write(self.path / "run.json", (json.dumps(meta, indent=2) + "\n").encode())

    def update_meta(self, **entries: Any) -> None:
        """Add entries to run.json (rewritten at once)."""
        self._meta.update(entries)
        _atomic_write(self.path / "run.json", (json.dumps(self._meta, indent=2) + "\n").encode())

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
            self._metrics.write(json.dumps(columns.to_line(s)) + "\n")  # the columns' on-disk names
        if self.record_snapshots and s.iteration % self.every == 0:
            self.snapshot(trainer)

    def on_diverged(self, trainer, message) -> None:
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": RunEvent.DIVERGED.value,
                                        "message": message}) + "\n")

    def note(self, trainer, event: str, **data: Any) -> None:
        """A user action worth seeing in a replay (a setting changed, a remedy switched on): ``event`` is a
        :class:`~gan_studio.core.columns.RunEvent` (or its value; anything else is an error)."""
        event = RunEvent(event).value
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": event, **data}) + "\n")

    def snapshot(self, trainer, views: dict | None = None, state: bool = False) -> None:
        """Record what the panels show now (with a training state when one is due, or ``state``). Failures (disk
        full) are kept in ``last_error``; training goes on."""
        from ..views import views as V

        it = int(trainer.iteration)
        if not self.begin_snapshot(trainer, state):
            return
        if views is None:
            try:
                st = self.static
                fakes = V.samples(trainer, RECORD_REQUEST, 0)
                views = {"samples": fakes, D_HIST: V.d_hist(trainer, 256)}
                if st.kind == "points" and st.dim <= 2:
                    views["field"] = V.field(trainer, st, RECORD_REQUEST, fakes)
            except (RunFolderError, OSError) as exc:
                self.last_error = f"could not record a snapshot in {self.path}: {exc}"
                return
        self.add_snapshot(it, views)

    def begin_snapshot(self, trainer, state: bool = False) -> bool:
        """The first half of :meth:`snapshot`: the training state (when one is due, or ``state``), written
        before the views are computed (they draw on the views' random stream). False when the trainer's
        iteration is recorded already. Views computed elsewhere (a helper process) are added later with
        :meth:`add_snapshot` for this same iteration."""
        it = int(trainer.iteration)
        if self.record_states:
            self._maybe_state(trainer, force=state)
        return not (self.index and self.index[-1]["iteration"] >= it)

    def add_snapshot(self, iteration: int, views: dict) -> bool:
        """Record ``views`` (computed for ``iteration``) as a snapshot; ignored (False) when a later one is
        recorded already."""
        from ..evaluate.metrics import mode_metrics

        it = int(iteration)
        if self.index and self.index[-1]["iteration"] >= it:
            return False
        try:
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
        return True

    def drop_state(self, iteration: int) -> None:
        """Remove the training state at ``iteration`` unless a snapshot shows it (its views never came)."""
        it = int(iteration)
        if not any(e["iteration"] == it for e in self.index):
            self._drop_states(lambda i: i == it)
            if self._last_state_it == it:
                self._since_state = self.state_every or 0  # the next snapshot takes a state again

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
        kept = {e["iteration"] for e in keep}
        self._drop_states(lambda it: it not in kept)

    # -- training states (states.py) ----------------------------------------------------------------
    def _maybe_state(self, trainer, force: bool = False) -> None:
        from ..atomic import CheckpointError
        from .states import MIN_STATE_GAP, STATES_DIR, spacing, state_name, write_state

        it = int(trainer.iteration)
        if it == self._last_state_it:
            return
        if not force and self.state_every is not None and (self._since_state + 1 < self.state_every
                                                            or it - self._last_state_it < MIN_STATE_GAP):
            self._since_state += 1
            return
        try:
            (self.path / STATES_DIR).mkdir(exist_ok=True)
            size = write_state(trainer, self.path / STATES_DIR / state_name(trainer.iteration))
        except (CheckpointError, OSError) as exc:
            self.last_error = f"could not record a training state in {self.path}: {exc}"
            return
        self._since_state = 0
        self._last_state_it = it
        if size > self.state_bytes:  # (the first state is smaller: the optimisers' moments appear at the first step)
            self.state_bytes = size
            self.state_every = spacing(size, self.max_snapshots)
            self._meta["states"] = {"every_snapshots": self.state_every, "bytes": size}
            try:
                _atomic_write(self.path / "run.json", (json.dumps(self._meta, indent=2) + "\n").encode())
            except RunFolderError:
                pass

    def _drop_states(self, drop) -> None:
        from .states import STATE_FILE, STATES_DIR

        d = self.path / STATES_DIR
        if not d.is_dir():
            return
        for p in d.iterdir():
            m = STATE_FILE.fullmatch(p.name)
            if m and drop(int(m.group(1))) or p.name.startswith(".s-") and p.name.endswith(".tmp") and drop(-1):
                p.unlink(missing_ok=True)  # (a temp file: left by a run killed while writing a state)

    def truncate(self, trainer, iteration: int) -> None:
        """A live run went back to ``iteration`` (a rewind): what was recorded after it is dropped — snapshots,
        states and metrics lines — so the folder reads as if the run had gone on from there; a ``rewind``
        event (with the iteration it came from) marks the place."""
        came_from = max([e["iteration"] for e in self.index] + [int(trainer.iteration)])
        gone = [e for e in self.index if e["iteration"] > iteration]
        self.index = [e for e in self.index if e["iteration"] <= iteration]
        self._rewrite_index()
        for e in gone:
            (self.path / "snapshots" / e["file"]).unlink(missing_ok=True)
        self._drop_states(lambda it: it > iteration)
        if not self._metrics.closed:
            self._metrics.close()
        self._trim_metrics(iteration)
        self._metrics = open(self.path / "metrics.jsonl", "a", buffering=1, encoding="utf-8")
        self._since_state = 0
        self._last_state_it = int(iteration)
        self._metrics.write(json.dumps({"iteration": int(iteration), "event": RunEvent.REWIND.value, "from": came_from}) + "\n")

    def close(self, trainer=None) -> None:
        if trainer is not None:
            if self.record_snapshots:
                self.snapshot(trainer, state=True)
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
    except (ValueError, AttributeError, TypeError, OverflowError, RecursionError):
        return None


# ------------------------------------------------------------------------------------------ what the files hold
# The run folder's schemas (core/schema.py), checked where each file is read: replay, the panels and the GIF and
# CSV exports only ever see valid data. run.json is checked as a whole (a bad one: one line, exit 2); a bad line of
# an append-only file (metrics.jsonl, snapshots.jsonl) or a bad snapshot is skipped with a warning
# (RunFolder.warnings), so a run still being written, or slightly damaged, still opens.

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
    f: dict = {_HIST_REAL: Array(ndim=1, finite=False, optional=True, max_size=big),
               _HIST_FAKE: Array(ndim=1, finite=False, optional=True, max_size=big)}
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
    together(_HIST_REAL, _HIST_FAKE)
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


# ------------------------------------------------------------------------------------------ reading
class RunFolder:
    """A run folder opened for reading. ``refresh()`` picks up what a running writer added since.

    ``warnings`` lists what was skipped (a bad line of metrics.jsonl or snapshots.jsonl, a damaged snapshot),
    one line each; the studio shows the first in its banner, the commands print it on stderr."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise RunFolderError(f"no such run folder: {self.path}")
        if not self.path.is_dir():
            raise RunFolderError(f"{self.path} is a file, not a run folder (a folder written by gan-studio train "
                                 "or the studio)")
        self._root = self.path.resolve()
        self.warnings: list[str] = []
        meta_p = self.path / "run.json"
        if not os.path.lexists(meta_p):
            raise RunFolderError(f"{self.path} is not a GAN Studio run folder: it has no run.json")
        self.meta = meta = self._read_meta(meta_p)
        self.config = TrainConfig.from_dict(meta["config"])
        self.static = self._read_static()
        self.index: list[dict] = []
        self.metrics: list[dict] = []
        self._metrics_pos = 0
        self._metrics_line = 0
        self._config_now = dict(meta.get("config_start") or meta["config"])  # with the recorded changes so far
        self._bad: dict[str, str] = {}  # snapshot file → why it cannot be shown
        self.refresh()

    # -- files ----------------------------------------------------------------------------------------
    def _locate(self, p: Path) -> tuple[Path | None, str | None]:
        """(the file, None) if ``p`` is a regular file inside this folder (links followed); (None, None) if
        it does not exist; (None, why) if it must not be read."""
        if not os.path.lexists(p):
            return None, None
        try:
            r = p.resolve(strict=True)
        except (OSError, RuntimeError):
            return None, "is a broken link"
        if not r.is_relative_to(self._root):
            return None, "is a link to a file outside the run folder"
        try:
            mode = r.stat().st_mode
        except OSError as exc:
            return None, f"cannot be read ({exc.strerror or exc})"
        if not stat.S_ISREG(mode):
            return None, "is not a regular file"
        return r, None

    def _read_meta(self, meta_p: Path) -> dict:
        r, why = self._locate(meta_p)
        if r is None:
            raise RunFolderError(f"{meta_p} {why or 'is missing'}")
        text = read_text(r, MAX_RUN_JSON_BYTES, RunFolderError, f"{meta_p} is damaged", name=meta_p)
        try:
            meta = loads(text, "run.json")
        except FileFormatError as exc:
            raise RunFolderError(f"{self.path} is damaged: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise RunFolderError(f"{meta_p} is not a GAN Studio run description")
        v = meta.get("version", 0)
        if isinstance(v, int) and not isinstance(v, bool) and v > VERSION:
            raise RunFolderError(f"{self.path} was written by a newer GAN Studio (run format {v}); update to open it")
        try:
            meta = check(meta, RUN_JSON, "run.json")
            st = meta["data"]
            _need(math.prod(st["shape"]) == st["dim"], "run.json: data", "shape and dim disagree")
            _need(len(st["shape"]) == (1 if st["kind"] == "points" else 3), "run.json: data: shape",
                  "expected (dim,) for points, (channels, height, width) for images")
        except FileFormatError as exc:
            raise RunFolderError(f"{self.path} is damaged: {exc}") from None
        return meta

    def _read_static(self) -> StaticInfo:
        m, loss = self.meta["data"], self.meta.get("loss", {})
        p = self.path / "static.npz"
        r, why = self._locate(p)
        arrays: dict = {}
        try:
            if r is not None:
                arrays = read_npz(r, "static.npz")
            elif why is not None:
                raise FileFormatError(f"static.npz {why}")
            elif m["kind"] == "points":
                raise FileFormatError("static.npz is missing (it holds the real data and the plot's bounds)")
            arrays = check_static(arrays, m, "static.npz")
        except FileFormatError as exc:
            raise RunFolderError(f"{self.path} is damaged: {exc}") from None
        bounds = (arrays["lo"].astype(np.float64), arrays["hi"].astype(np.float64)) if "lo" in arrays else None
        f32 = (lambda k: arrays[k].astype(np.float32) if k in arrays else None)
        f64 = (lambda k: arrays[k].astype(np.float64) if k in arrays else None)
        return StaticInfo(kind=m["kind"], dim=m["dim"], shape=tuple(m["shape"]), name=m["name"],
                          description=m.get("description", ""), bounds=bounds, real=f32("real"),
                          centers=f64("centers"), sigma=m.get("sigma"), x_grid=f64("x_grid"), p_data=f64("p_data"),
                          n_classes=m.get("n_classes", 0), sigmoid=loss.get("sigmoid", True),
                          d_equilibrium=loss.get("d_equilibrium", 0.0), g_equilibrium=loss.get("g_equilibrium", 0.0),
                          loss=loss.get("name", ""))

    def _warn(self, text: str) -> None:
        if text not in self.warnings and len(self.warnings) < 1000:
            self.warnings.append(text)

    def warning_summary(self) -> str | None:
        """The first warning, and how many more (one line), or None."""
        if not self.warnings:
            return None
        more = len(self.warnings) - 1
        return self.warnings[0] + (f" (and {more} more problem{'s' if more > 1 else ''} skipped)" if more else "")

    def _lines(self, name: str, start: int = 0, limit: int | None = None) -> tuple[list[bytes], int, bool]:
        """Complete lines of ``name`` from byte ``start``: (lines, bytes consumed, file shrank). A last line
        without its newline is included when it is complete JSON (else it may still be being written)."""
        r, why = self._locate(self.path / name)
        if r is None:
            if why:
                self._warn(f"{name} {why}: not read")
            return [], 0, False
        try:
            with open(r, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < start:
                    return [], 0, True
                if limit is not None and size - start > limit:
                    self._warn(f"{name} is larger than {limit // 2**20} MB: not read")
                    return [], 0, False
                f.seek(start)
                data = f.read()
        except OSError as exc:
            self._warn(f"{name} cannot be read ({exc.strerror or exc})")
            return [], 0, False
        end = data.rfind(b"\n") + 1
        lines = data[:end].split(b"\n")[:-1]
        tail = data[end:]
        if tail.strip():
            try:
                json.loads(tail)
                lines.append(tail)
                end = len(data)
            except (ValueError, RecursionError):
                pass  # unfinished: read it once its newline is there
        return lines, end, False

    # -- what a running writer adds -------------------------------------------------------------------
    def refresh(self) -> bool:
        """Re-read the snapshot index and new metrics lines; True if anything changed."""
        changed = self._refresh_index()
        return self._refresh_metrics() or changed

    def _refresh_index(self) -> bool:
        idx: list[dict] = []
        seen: set[int] = set()
        lines, _, _ = self._lines("snapshots.jsonl", limit=MAX_INDEX_BYTES)
        for n, line in enumerate(lines, 1):
            where = f"snapshots.jsonl line {n}"
            if not line.strip():
                continue
            try:
                e = check_index_entry(loads(line.decode("utf-8", errors="replace"), where), where)
                _need(e["iteration"] not in seen, where, f"iteration {e['iteration']} listed twice")
            except FileFormatError as exc:
                self._warn(f"{exc} (skipped)")
                continue
            p = self.path / "snapshots" / e["file"]
            r, why = self._locate(p)
            if r is None:
                if why:  # a file that is simply gone was thinned out by a running writer (or deleted): no warning
                    self._warn(f"{where}: snapshots/{e['file']} {why} (skipped)")
                continue
            seen.add(e["iteration"])
            idx.append(e)
        idx.sort(key=lambda e: e["iteration"])
        if [e["iteration"] for e in idx] != [e["iteration"] for e in self.index]:
            self.index = idx
            return True
        self.index = idx
        return False

    def _refresh_metrics(self) -> bool:
        lines, used, shrank = self._lines("metrics.jsonl", self._metrics_pos)
        if shrank:  # rewritten (a resumed run keeps its metrics up to where it resumed): read it again
            self.metrics, self._metrics_pos, self._metrics_line = [], 0, 0
            self._config_now = dict(self.meta.get("config_start") or self.meta["config"])
            lines, used, _ = self._lines("metrics.jsonl", 0)
        changed = shrank
        for line in lines:
            self._metrics_line += 1
            where = f"metrics.jsonl line {self._metrics_line}"
            if not line.strip():
                continue
            try:
                rec = check(loads(line.decode("utf-8", errors="replace"), where, allow_nan=True), METRIC_LINE, where)
                if rec.get("event") == RunEvent.SET:
                    _need("changes" in rec, where, "a settings change without its changes")
                    self._config_now = _config({**self._config_now, **rec["changes"]}, f"{where}: changes")
            except FileFormatError as exc:
                self._warn(f"{exc} (skipped)")
                continue
            self.metrics.append(rec)
            changed = True
        self._metrics_pos += used
        return changed

    # -- what the slider shows ------------------------------------------------------------------------
    @property
    def iterations(self) -> list[int]:
        return [e["iteration"] for e in self.index]

    def load(self, i: int) -> dict:
        """The views of snapshot ``i`` (an index into :attr:`index`), checked against the run's data.
        Raises RunFolderError (and adds a warning) when the snapshot cannot be shown."""
        if not self.index:
            raise RunFolderError(f"{self.path} has no snapshots")
        e = self.index[max(0, min(int(i), len(self.index) - 1))]
        name = e["file"]
        if name not in self._bad:
            where = f"snapshots/{name}"
            r, why = self._locate(self.path / "snapshots" / name)
            try:
                if r is None:
                    raise FileFormatError(f"{where} {why or 'is missing'}")
                return check_snapshot(read_npz(r, where), self.static, where)
            except FileFormatError as exc:
                self._bad[name] = f"{exc} (snapshot skipped)"
                self._warn(self._bad[name])
        raise RunFolderError(self._bad[name])

    def stats_array(self, upto: int | None = None) -> np.ndarray:
        """Metrics as rows of live.STAT_COLUMNS (what the loss panel eats)."""
        from ..protocol import STAT_COLUMNS

        rows = []
        for r in self.metrics:
            if "event" in r:
                continue
            if upto is not None and r["iteration"] > upto:
                break
            rows.append(columns.from_line(r))
        return np.asarray(rows, np.float64).reshape(-1, len(STAT_COLUMNS))

    def events(self) -> list[dict]:
        return [r for r in self.metrics if "event" in r]


#: The columns of a run's metrics as CSV (``gan-studio metrics``, the studio's File → Metrics as CSV): the
#: numbers :class:`RunWriter` logs for each iteration (the statistics columns' on-disk names), in this order.
METRICS_CSV_COLUMNS = columns.DISK_NAMES


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
