"""Reading a run folder (:class:`RunFolder`), also while a writer is still adding to it."""
from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np

from .. import columns
from ..columns import RunEvent
from ..schema import FileFormatError, check, loads, read_text
from ..train.config import TrainConfig
from ..views.viewspec import StaticInfo
from .runfiles import FORMAT, VERSION, RunFolderError
from .runschema import (MAX_INDEX_BYTES, MAX_RUN_JSON_BYTES, METRIC_LINE, RUN_JSON, _config, _need,
                        check_index_entry, check_snapshot, check_static, read_npz)


#: bytes of metrics.jsonl read at a time
METRICS_CHUNK = 4 * 2**20


class RunFolder:
    """A run folder opened for reading. ``refresh()`` picks up what a running writer added since.

    ``warnings`` lists what was skipped (a bad line of metrics.jsonl or snapshots.jsonl, a damaged snapshot),
    one line each; the studio shows the first in its banner, the commands print it on stderr."""

    def __init__(self, path: str | os.PathLike, keep_metrics: bool = True) -> None:
        """``keep_metrics=False``: :attr:`metrics` stays empty; the reader takes what metrics.jsonl holds with
        :meth:`metric_batches`, a bounded piece at a time (memory does not grow with the file)."""
        self.path = Path(path).expanduser()
        self.keep_metrics = bool(keep_metrics)
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

    def _lines(self, name: str, start: int = 0, limit: int | None = None,
               chunk: int | None = None) -> tuple[list[bytes], int, bool]:
        """Complete lines of ``name`` from byte ``start``: (lines, bytes consumed, file shrank). A last line
        without its newline is included when it is complete JSON (else it may still be being written).
        ``chunk``: read at most that many bytes (the caller reads on from where this stopped)."""
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
                data = f.read() if chunk is None else f.read(chunk)
                if chunk is not None and len(data) == chunk and start + chunk < size:
                    cut = data.rfind(b"\n") + 1
                    if cut:  # (more follows: the unfinished last line is read with the next chunk)
                        return data[:cut].split(b"\n")[:-1], cut, False
                    self._warn(f"{name}: a line longer than {chunk // 2**20} MB (skipped)")
                    return [], len(data), False  # (its rest is skipped as a bad line)
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
        """Re-read the snapshot index and new metrics lines (kept in :attr:`metrics`, unless the folder was
        opened with ``keep_metrics=False``); True if anything changed."""
        changed = self._refresh_index()
        if not self.keep_metrics:
            return changed
        for batch in self.metric_batches():
            self.metrics.extend(batch)
            changed = True
        return changed

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

    def metric_batches(self):
        """What metrics.jsonl gained since the last call, as lists of checked records, :data:`METRICS_CHUNK`
        bytes of the file at a time (a long run's file is never read into memory at once; a follower reads only
        the new tail). A file rewritten shorter (a resumed run keeps its metrics up to where it resumed) is read
        again from its start (:attr:`metrics` starts over)."""
        while True:
            lines, used, shrank = self._lines("metrics.jsonl", self._metrics_pos, chunk=METRICS_CHUNK)
            if shrank:
                self.metrics, self._metrics_pos, self._metrics_line = [], 0, 0
                self._config_now = dict(self.meta.get("config_start") or self.meta["config"])
                continue
            batch = self._parse_metrics(lines)
            self._metrics_pos += used
            if batch:
                yield batch
            if not used:
                return

    def _parse_metrics(self, lines: list[bytes]) -> list[dict]:
        out = []
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
            out.append(rec)
        return out

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

