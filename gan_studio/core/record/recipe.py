"""Recipes: one small, human-readable JSON file that starts exactly the same run elsewhere.

A recipe holds a run's whole configuration (seed and device preference included), the data (for a
dataset of user-given points: the points themselves, or a file beside the recipe), the live changes made
during the run with the iteration after which each was made, which panels and control groups the studio
shows, and an optional title and lesson notes (shown beside the preset's explanation)::

    {
      "format": "gan-studio/recipe",
      "version": 1,
      "title": "Unrolling rescues a collapsed ring",
      "notes": "Watch the field: after iteration 400 G stops hopping between modes.",
      "preset": "ring8-collapse",              (optional: the settings start from this preset)
      "config": {"seed": 0, "device": "cpu", "k": 1, ...},   (TrainConfig settings; all of them when saved)
      "changes": [{"at": 400, "set": {"unroll": 5}}, {"at": 800, "set": {"lr_g": 0.0005}}],
      "points": [[0.1, 2.0], ...],             (dataset "points" only: inline, up to 20,000 points)
      "points_file": "pts.npy",                 (or a .npy/.csv/.txt file, relative to the recipe)
      "view": {"panels": {"latent": false}, "controls": {"remedies": false}}
    }

Only ``format`` and ``version`` are required. ``{"at": N, "set": {...}}`` means: after N iterations, change
these settings — exactly when the studio applies a change made at iteration N (at the start of iteration
N + 1), so the same recipe on the same machine gives the same run (single D-only / G-only steps taken by
hand in the studio are not recorded and so not replayed). Unknown keys, wrong types, a newer format
version and a missing points file are refused with one line naming the key (:class:`RecipeError`).

The one-line form (for chat and slides) is ``ganstudio:1:`` followed by the URL-safe base64 of the
zlib-compressed compact JSON (points always inline); :func:`from_text` reads either form.

Torch-free: the studio's window process reads and writes recipes; the schedule (:class:`ChangeSchedule`)
runs inside the trainer's process.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes
from ..columns import RunEvent
from ..errors import CheckpointError, ConfigError
from ..schema import FileFormatError, inside_folder, loads, read_text
from ..train.config import LIVE_KEYS, TrainConfig, validate_values
from ..views.viewspec import PANEL_KEYS  # noqa: F401 (re-exported: the panels a recipe may show or hide)

FORMAT = "gan-studio/recipe"
VERSION = 1
LINE_PREFIX = "ganstudio"
#: at most this many points are written inline; more go to a ``.points.npy`` file beside the recipe
INLINE_POINTS_MAX = 20_000
MAX_POINTS = 2_000_000
MAX_RECIPE_BYTES = 64 * 2**20
MAX_LINE_CHARS = 32 * 2**20
MAX_CHANGES = 100_000
#: the studio's panels and control groups a recipe may show or hide (torch- and Qt-free names)
CONTROL_KEYS = ("dock", "algorithm", "rates", "remedies", "speed", "run")
TOP_KEYS = ("format", "version", "title", "notes", "preset", "config", "changes", "points", "points_file", "view")
#: dataset arguments that say where data live on one machine: not kept in a recipe
_MACHINE_KEYS = ("root", "download")


class RecipeError(ConfigError):
    """A recipe cannot be read, written or used; the message (one line) names the recipe and the key."""


def _short(v: Any) -> str:
    text = " ".join(repr(v).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass
class Recipe:
    config: dict  # TrainConfig settings (every one, once checked); no points path when ``points`` is set
    changes: list = field(default_factory=list)  # [(iteration, {live key: value}), ...] in order
    title: str = ""
    notes: str = ""
    preset: str | None = None
    points: np.ndarray | None = None  # float32 N×d, for dataset "points"
    panels: dict = field(default_factory=dict)  # panel key -> shown
    controls: dict = field(default_factory=dict)  # control group -> shown

    # ----------------------------------------------------------------------------------- making one
    @classmethod
    def from_run(cls, config, changes=(), *, seed: int | None = None, device: str | None = None,
                 panels: dict | None = None, controls: dict | None = None, title: str = "", notes: str = "",
                 preset: str | None = None, points: np.ndarray | None = None) -> "Recipe":
        """A recipe of a run: its starting ``config`` (a TrainConfig or its dict), the ``changes`` made since
        as ``(iteration, {key: value})``, what the studio shows. ``points``: the run's points, when the caller
        has them; else a points file named by the configuration is read now (the caller's own run: the recipe
        carries the points, not the path). Other paths (an image folder, a data root) are not kept."""
        cfg = dict(config.to_dict() if hasattr(config, "to_dict") else config)
        if seed is not None:
            cfg["seed"] = seed
        if device is not None:
            cfg["device"] = device
        args = dict(cfg.get("dataset_args") or {})
        path = args.pop("path", None)
        if points is None and cfg.get("dataset") == "points" and path is not None:
            points = read_points(Path(path).expanduser(), "the run's points file")
        cfg["dataset_args"] = {k: v for k, v in args.items() if k not in _MACHINE_KEYS}
        d = {"format": FORMAT, "version": VERSION, "config": cfg,
             "changes": [{"at": int(at), "set": dict(ch)} for at, ch in changes]}
        rec = cls.from_dict(d, "recipe", points=points)
        rec.title, rec.notes, rec.preset = title or "", notes or "", preset
        rec.panels = _bools(panels or {}, PANEL_KEYS, "recipe: view: panels")
        rec.controls = _bools(controls or {}, CONTROL_KEYS, "recipe: view: controls")
        return rec

    # ----------------------------------------------------------------------------------- reading
    @classmethod
    def from_dict(cls, d: Any, where: str, base_dir: Path | None = None,
                  points: np.ndarray | None = None) -> "Recipe":
        """A recipe from its parsed JSON, checked; ``base_dir`` is where a ``points_file`` is looked for
        (None: a recipe line or pasted text, which must carry its points inline). ``points``: checked points
        read elsewhere (a run's points file)."""
        if not isinstance(d, dict):
            raise RecipeError(f"{where}: not a GAN Studio recipe (expected a JSON object)")
        if d.get("format") != FORMAT:
            raise RecipeError(f"{where}: not a GAN Studio recipe (\"format\" must be {FORMAT!r})")
        v = d.get("version")
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise RecipeError(f"{where}: version: expected a whole number from 1, got {_short(v)}")
        if v > VERSION:
            raise RecipeError(f"{where} was written by a newer GAN Studio (recipe format {v}; this one reads "
                              f"{VERSION}); update GAN Studio to open it")
        unknown = [str(k) for k in d if k not in TOP_KEYS]
        if unknown:
            raise RecipeError(f"{where}: unknown key {_short(unknown[0])} (a recipe has {', '.join(TOP_KEYS)})")
        title = _text(d, "title", where, 200)
        notes = _text(d, "notes", where, 20_000)
        preset = d.get("preset")
        cfg = _config(d, where)
        changes = _changes(d.get("changes", []), cfg, where)
        if "points" in d and "points_file" in d:
            raise RecipeError(f"{where}: give either points or points_file, not both")
        # a path in the settings is a place on the sender's machine: never read as it stands. For points it
        # is read like points_file (inside the recipe's folder); an image folder is named by the receiver
        path = cfg["dataset_args"].pop("path", None)
        if "points" in d:
            points = _points_array(d["points"], f"{where}: points")
        elif "points_file" in d:
            points = _points_file(d["points_file"], where, base_dir)
        elif path is not None and cfg["dataset"] == "points" and points is None:
            points = _points_file(path, where, base_dir, "config: dataset_args: path")
        if cfg["dataset"] == "points":
            if points is None:
                raise RecipeError(f"{where}: config: dataset 'points' needs the points (a \"points\" list or a "
                                  "\"points_file\" beside the recipe)")
            if points is not None:
                cfg["dataset_args"].pop("path", None)
        elif points is not None:
            raise RecipeError(f"{where}: points: only a recipe of dataset 'points' carries points "
                              f"(this one's dataset is {cfg['dataset']!r})")
        view = d.get("view", {})
        if not isinstance(view, dict):
            raise RecipeError(f"{where}: view: expected a mapping, got {_short(view)}")
        bad = [k for k in view if k not in ("panels", "controls")]
        if bad:
            raise RecipeError(f"{where}: view: unknown key {_short(bad[0])} (it has panels, controls)")
        return cls(config=cfg, changes=changes, title=title, notes=notes, preset=preset, points=points,
                   panels=_bools(view.get("panels", {}), PANEL_KEYS, f"{where}: view: panels"),
                   controls=_bools(view.get("controls", {}), CONTROL_KEYS, f"{where}: view: controls"))

    # ----------------------------------------------------------------------------------- writing
    def to_dict(self, inline_max: int | None = None, points_file: str | None = None) -> dict:
        """The recipe as JSON-able data. Points go inline unless ``points_file`` is given."""
        d: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if self.title:
            d["title"] = self.title
        if self.notes:
            d["notes"] = self.notes
        if self.preset:
            d["preset"] = self.preset
        d["config"] = self.config
        d["changes"] = [{"at": at, "set": ch} for at, ch in self.changes]
        if self.points is not None:
            if points_file is not None:
                d["points_file"] = points_file
            else:
                d["points"] = _points_list(self.points)
        view = {k: v for k, v in (("panels", self.panels), ("controls", self.controls)) if v}
        if view:
            d["view"] = view
        return d

    def save(self, path: str | os.PathLike) -> Path:
        """Write the recipe (atomically). More than :data:`INLINE_POINTS_MAX` points go to
        ``NAME.points.npy`` beside it, referred to by a relative path."""
        p = Path(path).expanduser()
        pf = None
        try:
            if self.points is not None and len(self.points) > INLINE_POINTS_MAX:
                pf = f"{p.stem}.points.npy"
                buf = io.BytesIO()
                np.save(buf, np.ascontiguousarray(self.points, np.float32), allow_pickle=False)
                atomic_write_bytes(p.parent / pf, buf.getvalue())
            atomic_write_bytes(p, _pretty(self.to_dict(points_file=pf)).encode("utf-8"))
        except CheckpointError as exc:
            raise RecipeError(str(exc)) from None
        return p

    def to_line(self) -> str:
        """The compact one-line form (points inline): ``ganstudio:1:`` + base64url(zlib(JSON))."""
        raw = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode("utf-8")
        return f"{LINE_PREFIX}:{VERSION}:" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")

    # ----------------------------------------------------------------------------------- running it
    def train_config(self, points_path: str | os.PathLike | None = None) -> TrainConfig:
        """The configuration to start (``points_path``: where :meth:`write_points` put the points)."""
        cfg = dict(self.config)
        if self.points is not None:
            if points_path is None:
                raise RecipeError("the recipe's points must be written to a file first (write_points)")
            cfg["dataset_args"] = {**cfg.get("dataset_args", {}), "path": str(points_path)}
        return TrainConfig.from_dict(cfg)

    def write_points(self, folder: str | os.PathLike) -> Path | None:
        """Write the points (if any) to ``folder/points-<hash>.npy`` (atomically; kept if already there)."""
        if self.points is None:
            return None
        from ..train.data.points_io import points_file_bytes

        name, data = points_file_bytes(self.points)
        p = Path(folder) / name
        if not p.is_file():
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(p, data)
            except (OSError, CheckpointError) as exc:
                raise RecipeError(f"cannot write the recipe's points to {p}: {_one_line(exc)}") from None
        return p

    def schedule(self) -> "ChangeSchedule":
        return ChangeSchedule(self.changes)


# --------------------------------------------------------------------------------------- checks
def _text(d: dict, key: str, where: str, max_len: int) -> str:
    v = d.get(key, "")
    if not isinstance(v, str):
        raise RecipeError(f"{where}: {key}: expected text, got {_short(v)}")
    if len(v) > max_len:
        raise RecipeError(f"{where}: {key}: longer than {max_len:,} characters")
    return v


def _config(d: dict, where: str) -> dict:
    raw = d.get("config", {})
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: config: expected a mapping of settings, got {_short(raw)}")
    base: dict = TrainConfig().to_dict()
    preset = d.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise RecipeError(f"{where}: preset: expected a preset name, got {_short(preset)}")
        from ..train.presets import get_preset

        try:
            base = get_preset(preset).config.to_dict()
        except ConfigError as exc:
            raise RecipeError(f"{where}: preset: {exc}") from None
        if "dataset" in raw and raw["dataset"] != base["dataset"] and "dataset_args" not in raw:
            base["dataset_args"] = {}
        if "model" in raw and raw["model"] != base["model"] and "model_args" not in raw:
            base["model_args"] = {}
    unknown = [str(k) for k in raw if k not in base]
    if unknown:
        raise RecipeError(f"{where}: config: unknown setting {_short(unknown[0])}")
    for key in ("dataset_args", "model_args"):
        if key in raw and not isinstance(raw[key], dict):
            raise RecipeError(f"{where}: config: {key}: expected a mapping, got {_short(raw[key])}")
    cfg = {**base, **raw}
    cfg["dataset_args"] = {k: v for k, v in (cfg.get("dataset_args") or {}).items() if k not in _MACHINE_KEYS}
    try:
        return TrainConfig.from_dict(cfg).to_dict()
    except (ConfigError, TypeError, ValueError, OverflowError) as exc:
        raise RecipeError(f"{where}: config: {_one_line(exc)}") from None


def _changes(raw: Any, cfg: dict, where: str) -> list:
    if not isinstance(raw, list):
        raise RecipeError(f"{where}: changes: expected a list of {{\"at\": ITERATION, \"set\": {{...}}}}, "
                          f"got {_short(raw)}")
    if len(raw) > MAX_CHANGES:
        raise RecipeError(f"{where}: changes: more than {MAX_CHANGES:,}")
    out, now, last = [], dict(cfg), 0
    for i, item in enumerate(raw):
        w = f"{where}: changes[{i}]"
        if not isinstance(item, dict):
            raise RecipeError(f"{w}: expected {{\"at\": ITERATION, \"set\": {{...}}}}, got {_short(item)}")
        bad = [k for k in item if k not in ("at", "set")]
        if bad:
            raise RecipeError(f"{w}: unknown key {_short(bad[0])} (a change has at, set)")
        at, ch = item.get("at"), item.get("set")
        if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= 2**53:
            raise RecipeError(f"{w}: at: expected an iteration (a whole number from 0), got {_short(at)}")
        if at < last:
            raise RecipeError(f"{w}: at: changes must be in order of iteration ({at} comes after {last})")
        if not isinstance(ch, dict) or not ch:
            raise RecipeError(f"{w}: set: expected a mapping of live settings to values, got {_short(ch)}")
        unknown = [str(k) for k in ch if k not in LIVE_KEYS]
        if unknown:
            raise RecipeError(f"{w}: set: {_short(unknown[0])} cannot change during a run (live settings: "
                              f"{', '.join(LIVE_KEYS)})")
        try:
            validate_values(ch)
            now = TrainConfig.from_dict({**now, **ch}).to_dict()  # the rules that tie settings together
        except (ConfigError, TypeError, ValueError, OverflowError) as exc:
            raise RecipeError(f"{w}: set: {_one_line(exc)}") from None
        out.append((at, dict(ch)))
        last = at
    return out


def _bools(raw: Any, keys: tuple, where: str) -> dict:
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: expected a mapping of names to true/false, got {_short(raw)}")
    out = {}
    for k, v in raw.items():
        if k not in keys:
            raise RecipeError(f"{where}: unknown name {_short(k)} (one of {', '.join(keys)})")
        if not isinstance(v, bool):
            raise RecipeError(f"{where}: {k}: expected true or false, got {_short(v)}")
        out[k] = v
    return out


def _points_array(raw: Any, where: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) < 2:
        raise RecipeError(f"{where}: expected a list of at least 2 points (each a list of numbers)")
    if len(raw) > MAX_POINTS:
        raise RecipeError(f"{where}: more than {MAX_POINTS:,} points")
    first = raw[0]
    dim = len(first) if isinstance(first, list) else 0
    if not 1 <= dim <= 64:
        raise RecipeError(f"{where}[0]: expected a list of 1 to 64 numbers, got {_short(first)}")
    for i, p in enumerate(raw):
        if not isinstance(p, list) or len(p) != dim or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in p):
            raise RecipeError(f"{where}[{i}]: expected {dim} numbers like the first point, got {_short(p)}")
    return _checked_points(np.asarray(raw, np.float64), where)


def _checked_points(a: np.ndarray, where: str) -> np.ndarray:
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
    return _checked_points(read_points_array(p, RecipeError, where), f"{where} {p.name}")


def _points_file(raw: Any, where: str, base_dir: Path | None, key: str = "points_file") -> np.ndarray:
    w = f"{where}: {key}"
    if not isinstance(raw, str) or not raw or len(raw) > 1000:
        raise RecipeError(f"{w}: expected a file name relative to the recipe, got {_short(raw)}")
    if base_dir is None:
        raise RecipeError(f"{w}: a pasted recipe cannot refer to a file; it must carry its points inline")
    p = inside_folder(raw, base_dir, w, RecipeError, "recipe")
    if not p.is_file():
        raise RecipeError(f"{w}: the points file {raw!r} is missing (looked for {p})")
    return read_points(p, w)


def _points_list(a: np.ndarray) -> list:
    """float32 points as the shortest decimals that read back as the same float32 values."""
    return [[float(str(x)) for x in row] for row in np.asarray(a, np.float32)]


def _pretty(d: dict) -> str:
    """The recipe's JSON for people: one setting, change or point a line."""
    def one(v) -> str:
        return json.dumps(v, allow_nan=False, ensure_ascii=False, separators=(", ", ": "))

    out = []
    for key, v in d.items():
        if isinstance(v, dict) and key == "config" and v:
            body = ",\n".join(f"    {one(k)}: {one(x)}" for k, x in v.items())
            out.append(f"  {one(key)}: {{\n{body}\n  }}")
        elif isinstance(v, list) and v:
            body = ",\n".join(f"    {one(x)}" for x in v)
            out.append(f"  {one(key)}: [\n{body}\n  ]")
        else:
            out.append(f"  {one(key)}: {one(v)}")
    return "{\n" + ",\n".join(out) + "\n}\n"


# --------------------------------------------------------------------------------------- files and lines
def load(path: str | os.PathLike) -> Recipe:
    """Read and check a recipe file; raises :class:`RecipeError` (one line) when it cannot be used."""
    p = Path(path).expanduser()
    if not p.exists():
        raise RecipeError(f"no such recipe: {p}")
    if not p.is_file():
        raise RecipeError(f"{p} is not a recipe file")
    text = read_text(p, MAX_RECIPE_BYTES, RecipeError, f"recipe {p}")
    if text.lstrip().startswith(f"{LINE_PREFIX}:"):
        return from_line(text)
    if not text.lstrip().startswith("{"):
        raise RecipeError(f"recipe {p.name}: not a GAN Studio recipe (expected its JSON, or a line starting "
                          f"with {LINE_PREFIX}:{VERSION}:)")
    return Recipe.from_dict(_json(text, f"recipe {p.name}"), f"recipe {p.name}", base_dir=p.parent)


def _json(text: str, where: str) -> Any:
    try:
        return loads(text, where)
    except FileFormatError as exc:
        raise RecipeError(str(exc)) from None


def from_line(line: str) -> Recipe:
    """A recipe from its one-line form (see :meth:`Recipe.to_line`)."""
    where = "recipe line"
    s = "".join(line.split())  # chat programs wrap long lines
    if len(s) > MAX_LINE_CHARS:
        raise RecipeError(f"{where}: too long")
    parts = s.split(":", 2)
    if len(parts) != 3 or parts[0] != LINE_PREFIX:
        raise RecipeError(f"{where}: not a GAN Studio recipe (it should start with {LINE_PREFIX}:{VERSION}:)")
    if not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= 6):  # ASCII digits only: int() takes "٣"
        raise RecipeError(f"{where}: bad version {parts[1][:20]!r} (it should start with {LINE_PREFIX}:{VERSION}:)")
    if int(parts[1]) > VERSION:
        raise RecipeError(f"{where} was written by a newer GAN Studio (recipe format {int(parts[1])}; this one "
                          f"reads {VERSION}); update GAN Studio to open it")
    try:
        packed = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        d = zlib.decompressobj()
        raw = d.decompress(packed, MAX_RECIPE_BYTES + 1)
        if len(raw) > MAX_RECIPE_BYTES or d.unconsumed_tail:
            raise RecipeError(f"{where}: larger than {MAX_RECIPE_BYTES // 2**20} MB unpacked")
        if not d.eof:
            raise zlib.error("incomplete")
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, zlib.error) as exc:
        if isinstance(exc, RecipeError):
            raise
        raise RecipeError(f"{where}: damaged or incomplete (copy the whole line, from {LINE_PREFIX}: to its "
                          "end)") from None
    return Recipe.from_dict(_json(text, where), where, base_dir=None)


def from_text(text: str, base_dir: Path | None = None) -> Recipe:
    """A recipe pasted as text: the one-line form, or the JSON of a recipe file."""
    s = text.strip()
    if s.startswith(f"{LINE_PREFIX}:"):
        return from_line(s)
    if s.startswith("{"):
        return Recipe.from_dict(_json(s, "pasted recipe"), "pasted recipe", base_dir=base_dir)
    raise RecipeError(f"not a GAN Studio recipe: expected a line starting with {LINE_PREFIX}:{VERSION}: or a "
                      "recipe's JSON")


def from_run_folder(path: str | os.PathLike, trusted: bool = False, **kw) -> Recipe:
    """A recipe of a recorded run: its starting configuration (run.json) and the settings changed during
    it (the ``set`` events of metrics.jsonl, at their iterations). ``kw`` go to :meth:`Recipe.from_run`.

    A run folder may come from anyone: the recipe holds only what the run recorded itself — a points run's
    points are read from the copy the run keeps in its folder (``points-<hash>.npy``, checked against its
    hash), never from a path in run.json. ``trusted``: the studio's own recording of the run it shows, whose
    points file is the user's own."""
    from .runfolder import RunFolder

    run = RunFolder(path)
    cfg = run.meta.get("config_start") or run.meta["config"]
    changes = [(int(e["iteration"]), {k: v for k, v in e["changes"].items() if k in LIVE_KEYS})
               for e in run.events() if e.get("event") == RunEvent.SET and isinstance(e.get("changes"), dict)]
    changes = [(at, ch) for at, ch in changes if ch]
    if not trusted and isinstance(cfg, dict) and cfg.get("dataset") == "points" and "points" not in kw:
        kw["points"] = _recorded_points(run.path, cfg)
    try:
        return Recipe.from_run(cfg, changes, **kw)
    except RecipeError as exc:
        raise RecipeError(f"{run.path}: {exc}") from None


def _recorded_points(folder: Path, cfg: dict) -> np.ndarray:
    """A points run's points as its folder keeps them (see :meth:`Recipe.write_points`), or RecipeError."""
    import re

    args = cfg.get("dataset_args") if isinstance(cfg.get("dataset_args"), dict) else {}
    raw = args.get("path")
    name = PurePosixPath(str(raw).replace("\\", "/")).name if isinstance(raw, str) else ""
    m = re.fullmatch(r"points-([0-9a-f]{16})\.npy", name)
    where = f"{folder}: the run's points"
    p = Path(folder) / name if m else None
    if p is None or p.is_symlink() or not p.is_file():
        raise RecipeError(f"{where} are not kept in its folder (run.json names {_short(raw)}); a recipe of a "
                          "run folder holds only what the run recorded: make it where the points are, with "
                          "gan-studio train --recipe, or from the studio")
    if p.stat().st_size > MAX_RECIPE_BYTES * 4:
        raise RecipeError(f"{where}: {name} is larger than {MAX_RECIPE_BYTES * 4 // 2**20} MB")
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest()[:16] != m.group(1):
        raise RecipeError(f"{where}: {name} does not match its hash (changed since the run wrote it)")
    return read_points(p, where)


# --------------------------------------------------------------------------------------- replaying changes
class ChangeSchedule:
    """A trainer observer that makes a recipe's changes at their iterations: a change ``at`` N is submitted
    once N iterations are done, so it applies at the start of iteration N + 1 — exactly as a change made in
    the studio at iteration N. Each is also noted in the run folder being written (a ``set`` event), so a
    recipe of that run has the same changes. Changes before the trainer's iteration when it starts (a
    resumed run) are not made again. A change the trainer refuses is skipped (as the studio did) and kept
    in ``skipped``."""

    def __init__(self, changes) -> None:
        self.changes = [(int(at), dict(ch)) for at, ch in changes]
        self._next: int | None = None
        self.made: list = []
        self.skipped: list[str] = []

    def install(self, trainer) -> "ChangeSchedule":
        if self not in trainer.observers:
            trainer.add_observer(self)
        self._due(trainer)
        return self

    def _due(self, trainer) -> None:
        it = int(trainer.iteration)
        if self._next is None:
            self._next = next((i for i, (at, _) in enumerate(self.changes) if at >= it), len(self.changes))
        while self._next < len(self.changes) and self.changes[self._next][0] <= it:
            at, ch = self.changes[self._next]
            self._next += 1
            if at != it:
                continue
            try:
                trainer.submit(**ch)
            except ConfigError as exc:
                self.skipped.append(f"iteration {at}: {exc}")
                continue
            self.made.append((at, ch))
            for obs in trainer.observers:
                if type(obs).__name__ == "RunWriter":
                    obs.note(trainer, RunEvent.SET, changes=ch)

    @property
    def remaining(self) -> int:
        return len(self.changes) - (self._next or 0)

    def on_run_start(self, trainer) -> None:
        self._due(trainer)

    def on_iteration(self, trainer, stats) -> None:
        self._due(trainer)

    def on_diverged(self, trainer, message) -> None:
        pass

    def on_run_end(self, trainer, reason) -> None:
        pass


class InstallSchedule:
    """A picklable ``fn(trainer)`` for a live run handle's ``call``: install the schedule in the training
    process, and apply a change due now at once (a paused run then shows it)."""

    def __init__(self, changes) -> None:
        self.changes = [(int(at), dict(ch)) for at, ch in changes]

    def __call__(self, trainer) -> int:
        sched = ChangeSchedule(self.changes).install(trainer)
        if trainer.pending_changes():
            trainer.apply_changes()
        return sched.remaining
