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

Torch-free: the studio's window process reads and writes recipes; the schedule
(:class:`~.recipe_schedule.ChangeSchedule`) runs inside the trainer's process. The checks of the settings and
changes are in :mod:`.recipe_checks`, the points and the safety of reading them in :mod:`.recipe_points`.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes
from ..columns import RunEvent
from ..errors import CheckpointError
from ..schema import FileFormatError, loads, read_text
from ..train.config import LIVE_KEYS, TrainConfig
from ..views.viewspec import PANEL_KEYS  # noqa: F401 (re-exported: the panels a recipe may show or hide)
from .recipe_checks import (MACHINE_KEYS, MAX_RECIPE_BYTES, RecipeError, check_bools, check_changes,
                            check_config, check_text, one_line, short)
from .recipe_points import points_array, points_file_at, points_list, read_points, recorded_points
from .recipe_schedule import ChangeSchedule

FORMAT = "gan-studio/recipe"
VERSION = 1
LINE_PREFIX = "ganstudio"
#: at most this many points are written inline; more go to a ``.points.npy`` file beside the recipe
INLINE_POINTS_MAX = 20_000
MAX_LINE_CHARS = 32 * 2**20
#: the studio's panels and control groups a recipe may show or hide (torch- and Qt-free names)
CONTROL_KEYS = ("dock", "algorithm", "rates", "remedies", "speed", "run")
TOP_KEYS = ("format", "version", "title", "notes", "preset", "config", "changes", "points", "points_file", "view")


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
        cfg["dataset_args"] = {k: v for k, v in args.items() if k not in MACHINE_KEYS}
        d = {"format": FORMAT, "version": VERSION, "config": cfg,
             "changes": [{"at": int(at), "set": dict(ch)} for at, ch in changes]}
        rec = cls.from_dict(d, "recipe", points=points)
        rec.title, rec.notes, rec.preset = title or "", notes or "", preset
        rec.panels = check_bools(panels or {}, PANEL_KEYS, "recipe: view: panels")
        rec.controls = check_bools(controls or {}, CONTROL_KEYS, "recipe: view: controls")
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
            raise RecipeError(f"{where}: version: expected a whole number from 1, got {short(v)}")
        if v > VERSION:
            raise RecipeError(f"{where} was written by a newer GAN Studio (recipe format {v}; this one reads "
                              f"{VERSION}); update GAN Studio to open it")
        unknown = [str(k) for k in d if k not in TOP_KEYS]
        if unknown:
            raise RecipeError(f"{where}: unknown key {short(unknown[0])} (a recipe has {', '.join(TOP_KEYS)})")
        title = check_text(d, "title", where, 200)
        notes = check_text(d, "notes", where, 20_000)
        preset = d.get("preset")
        cfg = check_config(d, where)
        changes = check_changes(d.get("changes", []), cfg, where)
        if "points" in d and "points_file" in d:
            raise RecipeError(f"{where}: give either points or points_file, not both")
        # a path in the settings is a place on the sender's machine: never read as it stands. For points it
        # is read like points_file (inside the recipe's folder); an image folder is named by the receiver
        path = cfg["dataset_args"].pop("path", None)
        if "points" in d:
            points = points_array(d["points"], f"{where}: points")
        elif "points_file" in d:
            points = points_file_at(d["points_file"], where, base_dir)
        elif path is not None and cfg["dataset"] == "points" and points is None:
            points = points_file_at(path, where, base_dir, "config: dataset_args: path")
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
            raise RecipeError(f"{where}: view: expected a mapping, got {short(view)}")
        bad = [k for k in view if k not in ("panels", "controls")]
        if bad:
            raise RecipeError(f"{where}: view: unknown key {short(bad[0])} (it has panels, controls)")
        return cls(config=cfg, changes=changes, title=title, notes=notes, preset=preset, points=points,
                   panels=check_bools(view.get("panels", {}), PANEL_KEYS, f"{where}: view: panels"),
                   controls=check_bools(view.get("controls", {}), CONTROL_KEYS, f"{where}: view: controls"))

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
                d["points"] = points_list(self.points)
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
                raise RecipeError(f"cannot write the recipe's points to {p}: {one_line(exc)}") from None
        return p

    def schedule(self) -> ChangeSchedule:
        return ChangeSchedule(self.changes)


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
        kw["points"] = recorded_points(run.path, cfg)
    try:
        return Recipe.from_run(cfg, changes, **kw)
    except RecipeError as exc:
        raise RecipeError(f"{run.path}: {exc}") from None
