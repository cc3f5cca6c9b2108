"""Exports for slides: animated GIFs of a recorded run (the toy field, the sample grid) and of a latent walk.

Frames come from a run folder's snapshots (recorded during training, thinned so that a run of any length
keeps a bounded number), so an export never needs the training to stop. Long exports report progress and
can be cancelled; nothing is written until every frame is ready, and the file appears atomically.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from . import render
from ..train.config import ConfigError

GIF_VIEWS = ("field", "samples")


def write_gif(path: str | Path, frames: list[np.ndarray], duration_ms: int = 100) -> Path:
    """Animated GIF that loops forever, written atomically. Frames: H×W×3 uint8, all the same size.
    (No torch here: the studio's window process writes GIFs without importing it.)

    Pillow writes it into a file this function opens and closes itself: a writer object that failed (a full
    disk) must not try again when it is garbage-collected, after the error was reported."""
    from PIL import Image

    from ..atomic import atomic_path

    if not frames:
        raise ValueError("no frames to write")
    duration_ms = max(20, int(duration_ms))  # viewers clamp shorter frames
    images = [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)) for f in frames]
    with atomic_path(path, suffix=".gif") as tmp:
        with open(tmp, "wb") as fh:
            images[0].save(fh, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return Path(path)


class ExportCancelled(Exception):
    """The user cancelled; no file was written."""


class ExportError(ConfigError):
    """An export that cannot be made (nothing recorded, a view the data do not have, an unwritable file)."""


# ------------------------------------------------------------------------------------------ captions
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the small bitmap font
        return ImageFont.load_default()


def caption(frame: np.ndarray, text: str, size: int = 15) -> np.ndarray:
    """The frame with a white strip above it holding ``text`` (e.g. the iteration and modes covered)."""
    from PIL import Image, ImageDraw

    h, w = frame.shape[:2]
    strip = size + 10
    img = Image.new("RGB", (w, h + strip), (255, 255, 255))
    img.paste(Image.fromarray(np.ascontiguousarray(frame)), (0, strip))
    ImageDraw.Draw(img).text((6, 4), text, fill=(20, 20, 20), font=_font(size))
    return np.asarray(img)


# ------------------------------------------------------------------------------------------ 1-D curves
def _line(img: np.ndarray, xs: np.ndarray, ys: np.ndarray, rgb, width: int = 2, dash: int = 0) -> None:
    h, w = img.shape[:2]
    pts = np.stack([xs, ys], 1)
    for i, ((x0, y0), (x1, y1)) in enumerate(zip(pts[:-1], pts[1:])):
        if dash and (i // dash) % 2:
            continue
        if not (np.isfinite([x0, y0, x1, y1]).all()):
            continue
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        t = np.linspace(0, 1, n)
        cx = np.round(x0 + t * (x1 - x0)).astype(int)
        cy = np.round(y0 + t * (y1 - y0)).astype(int)
        for d in range(-(width // 2), width - width // 2):
            img[np.clip(cy + d, 0, h - 1), np.clip(cx, 0, w - 1)] = rgb


def curves_1d(x: np.ndarray, p_data: np.ndarray | None, p_g: np.ndarray | None, d: np.ndarray | None,
              width: int = 360, height: int = 220) -> np.ndarray:
    """The paper's Figure 1 as a picture: p_data (black, dotted), p_g (green) and D (blue, dashed; 0…1)."""
    img = np.full((height, width, 3), 255, np.uint8)
    x = np.asarray(x, np.float64)
    u = (x - x[0]) / max(x[-1] - x[0], 1e-12) * (width - 1)
    top = max(float(np.nanmax(p_data)) if p_data is not None else 0.0,
              float(np.nanmax(p_g)) if p_g is not None and np.isfinite(p_g).any() else 0.0, 1e-9)
    base = height - 8

    def rows(v, scale):
        return base - np.clip(np.asarray(v, np.float64) / scale, 0, 1.05) * (base - 12)

    img[base:base + 2] = (180, 180, 180)  # the x axis
    if d is not None:
        _line(img, u, rows(d, 1.0), (40, 90, 220), 2, dash=4)
    if p_data is not None:
        _line(img, u, rows(p_data, top), (0, 0, 0), 3, dash=2)
    if p_g is not None:
        _line(img, u, rows(p_g, top), (20, 150, 60), 3)
    return img


# ------------------------------------------------------------------------------------------ frames
def frame_from_views(views: dict, static, view: str, size: int = 360) -> np.ndarray:
    """One GIF frame from recorded views (a run folder snapshot)."""
    if view not in GIF_VIEWS:
        raise ExportError(f"unknown GIF view {view!r}; choose {', '.join(GIF_VIEWS)} (or latent)")
    fakes = views.get("samples")
    if static.kind == "images":
        if view == "field":
            raise ExportError("the field view is for 1-D and 2-D point data; this run has images — use samples")
        if fakes is None:
            raise ExportError("this snapshot has no samples")
        return render.image_grid(np.asarray(fakes)[:64], scale=max(1, size // (8 * (static.shape[-1] + 1))))
    f = views.get("field")
    real = static.real if static.real is not None else np.zeros((0, static.dim))
    lo, hi = static.plane_bounds  # more than 2-D: the real data's first two principal axes
    if static.dim == 1:
        if view == "field" and f is not None:
            return curves_1d(f["x"], static.p_data, f.get("p_g"), f.get("d"), width=size,
                             height=int(size * 0.62))
        return render.histogram_1d(real, fakes if fakes is not None else np.zeros(0), float(lo[0]), float(hi[0]),
                                   width=size, height=int(size * 0.62))
    d = None
    if view == "field" and f is not None:
        d = np.asarray(f["d"], np.float64)
        if not static.sigmoid:  # critic scores: squash for display only
            d = 1 / (1 + np.exp(-(d - np.median(d)) / (d.std() + 1e-8)))
    pts = static.to_plane(fakes if fakes is not None else np.zeros((0, static.dim)))
    return render.scatter(static.to_plane(real), pts, lo, hi, size=size, dot=3, field=d)


def _label(entry: dict) -> str:
    text = f"iteration {entry['iteration']:,}"
    if "modes_covered" in entry:
        text += f"   modes {entry['modes_covered']}/{entry['n_modes']}"
    return text


def _pick(n: int, max_frames: int) -> list[int]:
    if n <= max_frames:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, max_frames)})


def _frame(run, i: int, view: str, size: int, captions: bool) -> np.ndarray | None:
    """Snapshot ``i``'s frame, or None (with a warning in ``run.warnings``) when it cannot be shown."""
    from ..record.runfolder import RunFolderError

    try:
        views = run.load(i)  # checked against the run's data; a damaged one raises (and is in run.warnings)
        with np.errstate(all="ignore"):  # e.g. every generated point outside the plot: empty histograms
            fr = frame_from_views(views, run.static, view, size)
            return caption(fr, _label(run.index[i])) if captions else fr
    except RunFolderError:
        return None
    except ExportError as exc:  # e.g. an image run's snapshot without samples
        run.warnings.append(f"snapshots/{run.index[i]['file']}: {exc} (snapshot skipped)")
        return None


def run_gif(run, view: str, out: str | Path, *, size: int = 360, duration_ms: int = 120, max_frames: int = 240,
            captions: bool = True, progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None, report: dict | None = None) -> Path:
    """A looping GIF of a recorded run (a :class:`RunFolder` or its path). Raises ExportCancelled, ExportError.

    A snapshot that cannot be shown (damaged) is left out, with a warning in ``run.warnings``; ``report``, if
    given, receives ``frames`` (written) and ``skipped``."""
    from ..record.runfolder import RunFolder

    if not isinstance(run, RunFolder):
        run = RunFolder(run)
    if view not in GIF_VIEWS:
        raise ExportError(f"unknown GIF view {view!r}; choose {', '.join(GIF_VIEWS)} (or latent)")
    if not run.index:
        raise ExportError(f"{run.path} has no recorded snapshots to animate"
                          + (f" ({run.warnings[0]})" if run.warnings else ""))
    if view == "field" and run.static.kind == "images":
        raise ExportError("the field view is for 1-D and 2-D point data; this run has images — use samples")
    idx = _pick(len(run.index), max_frames)
    frames = []
    for j, i in enumerate(idx):
        if cancelled is not None and cancelled():
            raise ExportCancelled()
        fr = _frame(run, i, view, size, captions)
        if fr is not None and frames and fr.shape != frames[0].shape:  # e.g. fewer samples than the others
            run.warnings.append(f"snapshots/{run.index[i]['file']}: its picture is not the size of the first one "
                                "(snapshot skipped)")
        elif fr is not None:
            frames.append(fr)
        if progress is not None:
            progress(j + 1, len(idx))
    if cancelled is not None and cancelled():
        raise ExportCancelled()
    if not frames:
        raise ExportError(f"none of the recorded snapshots of {run.path} can be shown: {run.warnings[0]}"
                          if run.warnings else f"{run.path} has no recorded snapshots to animate")
    if report is not None:
        report.update(frames=len(frames), skipped=len(idx) - len(frames))
    return _write_gif_told(out, frames, duration_ms)


# ------------------------------------------------------------------------------------------ latent walk
def latent_loop_frames(trainer, n_frames: int = 48, size: int = 360) -> list[np.ndarray]:
    """A looping latent walk: every fixed z travels once around a circle in a random latent plane
    (z(t) = z·cos t + u·sin t, so the noise keeps its distribution); G of it, frame by frame.

    Runs wherever the trainer lives (the studio sends it to the training process)."""
    import torch

    from ..views import views as V

    st = V.static_info(trainer)
    zd = trainer.config.z_dim
    n = 64 if st.kind == "images" else min(len(trainer.fixed_z), 1024)
    z = trainer.fixed_z[:n].detach().cpu().numpy().astype(np.float32)
    g = torch.Generator().manual_seed(7)
    u = torch.randn(n, zd, generator=g).numpy() * float(z.std() or 1.0)
    frames = []
    lo, hi = st.plane_bounds if st.bounds is not None else (None, None)
    for t in np.linspace(0, 2 * math.pi, n_frames, endpoint=False):
        zt = z * math.cos(t) + u * math.sin(t)
        x = trainer.g_on(zt)
        if st.kind == "images":
            fr = render.image_grid(np.asarray(x), scale=max(1, size // (8 * (st.shape[-1] + 1))))
        elif st.dim == 1:
            fr = render.histogram_1d(st.real, x.reshape(-1), float(lo[0]), float(hi[0]), width=size,
                                     height=int(size * 0.62))
        else:
            fr = render.scatter(st.to_plane(st.real), st.to_plane(x), lo, hi, size=size, dot=3)
        frames.append(fr)
    return frames


def write_frames_gif(frames: list[np.ndarray], out: str | Path, duration_ms: int = 80) -> Path:
    return _write_gif_told(out, frames, duration_ms)


def export_generator_call(path: str, trainer) -> str:
    """For ``run.call``: write G alone (safetensors + JSON) from the training process."""
    from ..train.checkpoint import export_generator

    weights, _ = export_generator(trainer, path)
    return str(weights)


__all__ = ["export_generator_call", "run_gif", "latent_loop_frames", "write_frames_gif", "frame_from_views", "caption", "curves_1d",
           "ExportCancelled", "ExportError", "GIF_VIEWS"]


def _write_gif_told(out, frames, duration_ms: int) -> Path:
    """:func:`write_gif`, with a failure said in one line (an :class:`ExportError`)."""
    from ..atomic import CheckpointError

    try:
        return write_gif(out, frames, duration_ms)
    except CheckpointError as exc:  # says "cannot write OUT: why"
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
