"""The paper's Figures 2 and 3 from a trained image model (Goodfellow et al. 2014).

* :func:`figure2` — a grid of samples from G; beside its last column, framed in yellow, the nearest
  training example (Euclidean distance in pixel space over train[0:50000]) of each of that column's
  samples, showing that G does not merely recall training images.
* :func:`figure3` — rows of images from linear interpolations in z between two random z's.

Both return ``(png_bytes, svg_text)``: the PNG drawn at 2× with nearest-neighbour upscaling (crisp
pixels) and light separators; the SVG embeds the same pixels as a base64 PNG and draws the yellow frames
as vectors (each frame carries ``data-train-index``, the index of its training example).
:func:`write_figure` makes either figure from a checkpoint and writes it atomically.  No Qt here.
"""
from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..train.config import ConfigError

N_TRAIN = 50000  # the paper's training set: train[0:50000]
SCALE = 2
SEP_RGB = (228, 228, 228)  # light separators and margins
FRAME_RGB = (255, 215, 0)  # the paper's yellow frames
KINDS = ("figure2", "figure3")


class FigureError(ConfigError):
    """A figure cannot be made; the message says why."""


# ------------------------------------------------------------------------------------ helpers
def _as_images(x: np.ndarray) -> np.ndarray:
    """N×C×H×W float in [0, 1] (C 1 or 3) → N×H×W×3 uint8 (exact for values that came from uint8)."""
    x = np.clip(np.nan_to_num(np.asarray(x, np.float64)), 0.0, 1.0)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise FigureError(f"figures need images (N×1×H×W or N×3×H×W), got an array of shape {x.shape}")
    u = np.rint(x * 255.0).astype(np.uint8).transpose(0, 2, 3, 1)
    return np.repeat(u, 3, axis=3) if u.shape[3] == 1 else u


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _svg(width: int, height: int, png: bytes, title: str, desc: str, extra: list[str] = ()) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
          f'viewBox="0 0 {width} {height}">',
          f"<title>{_esc(title)}</title>", f"<desc>{_esc(desc)}</desc>",
          f'<image x="0" y="0" width="{width}" height="{height}" image-rendering="pixelated" '
          f'style="image-rendering:pixelated;image-rendering:crisp-edges" href="data:image/png;base64,{b64}"/>',
          *extra, "</svg>"]
    return "\n".join(el) + "\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _flat(train_images) -> tuple[np.ndarray, bool]:
    """Training images as an N×d array (uint8 or float) and whether they are uint8 (0–255)."""
    t = train_images
    if hasattr(t, "detach"):  # a torch tensor
        t = t.detach().cpu().numpy()
    t = np.asarray(t)
    if t.ndim < 2:
        raise FigureError(f"training images must be N×d or N×C×H×W, got shape {t.shape}")
    return t.reshape(len(t), -1), t.dtype == np.uint8


def nearest_training(queries: np.ndarray, train_images, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Index and Euclidean distance of each query's nearest training example (pixel space, [0, 1]).

    ``train_images``: N×d (or N×C×H×W) floats in [0, 1], or uint8 0–255. Computed as
    ‖a‖² + ‖b‖² − 2ab in float64, ``chunk`` training images at a time."""
    import torch

    q = torch.as_tensor(np.asarray(queries, np.float64).reshape(len(queries), -1))
    t, is_u8 = _flat(train_images)
    if t.shape[1] != q.shape[1]:
        raise FigureError(f"samples have {q.shape[1]} values each but training images {t.shape[1]}")
    if len(t) == 0:
        raise FigureError("no training images to search")
    qq = (q * q).sum(1, keepdim=True)
    best_d = torch.full((len(q),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(q), dtype=torch.int64)
    for i in range(0, len(t), chunk):
        b = torch.as_tensor(np.asarray(t[i:i + chunk], np.float64))
        if is_u8:
            b = b / 255.0
        d = qq + (b * b).sum(1)[None, :] - 2.0 * (q @ b.T)
        m, j = d.min(1)
        better = m < best_d
        best_d = torch.where(better, m, best_d)
        best_i = torch.where(better, j + i, best_i)
    return best_i.numpy(), best_d.clamp_min(0).sqrt().numpy()


def _grid_geometry(rows: int, cols: int, h: int, w: int, s: int):
    cell_h, cell_w, sep, margin = h * s, w * s, s, 2 * s
    grid_w = cols * cell_w + (cols - 1) * sep
    grid_h = rows * cell_h + (rows - 1) * sep

    def origin(r: int, c: int) -> tuple[int, int]:
        return margin + r * (cell_h + sep), margin + c * (cell_w + sep)

    return cell_h, cell_w, sep, margin, grid_w, grid_h, origin


def _draw_grid(canvas: np.ndarray, tiles: np.ndarray, rows: int, cols: int, s: int, origin) -> None:
    for i, tile in enumerate(tiles[: rows * cols]):
        r, c = divmod(i, cols)
        y, x = origin(r, c)
        big = tile.repeat(s, 0).repeat(s, 1)
        canvas[y:y + big.shape[0], x:x + big.shape[1]] = big


def _check_rows_cols(rows: int, cols: int) -> None:
    if int(rows) < 1 or int(cols) < 1 or int(rows) * int(cols) > 10000:
        raise FigureError(f"rows and columns must be at least 1 (and at most 10,000 images), got {rows}×{cols}")


def _check_images(trainer) -> None:
    ds = trainer.dataset
    if getattr(ds, "kind", None) != "images" or len(ds.shape) != 3 or ds.shape[0] not in (1, 3):
        raise FigureError(f"figures 2 and 3 need a model of images; this run's dataset "
                          f"{trainer.config.dataset!r} gives {getattr(ds, 'kind', 'other')} of shape "
                          f"{tuple(getattr(ds, 'shape', ()))}")


# ------------------------------------------------------------------------------------ figure 2
def figure2(trainer, train_images, rows: int = 6, cols: int = 5, seed: int = 0,
            scale: int = SCALE) -> tuple[bytes, str]:
    """Samples from G (rows × cols) and, beside the last column framed in yellow, the nearest of
    ``train_images[0:50000]`` to each of that column's samples. Returns ``(png_bytes, svg_text)``."""
    _check_images(trainer)
    _check_rows_cols(rows, cols)
    s = max(1, int(scale))
    n = rows * cols
    samples = np.clip(trainer.generate(n, seed=int(seed)), 0.0, 1.0)
    c_, h, w = trainer.dataset.shape
    train_flat, is_u8 = _flat(train_images)
    train_flat = train_flat[:N_TRAIN]
    if train_flat.shape[1] != c_ * h * w:
        raise FigureError(f"training images have {train_flat.shape[1]} values each, the model makes "
                          f"{c_}×{h}×{w}")
    last = samples[[r * cols + cols - 1 for r in range(rows)]].reshape(rows, -1)
    idx, dist = nearest_training(last, train_flat)
    nn = train_flat[idx].astype(np.float64)
    nn = (nn / 255.0 if is_u8 else nn).reshape(rows, c_, h, w)

    cell_h, cell_w, sep, margin, grid_w, grid_h, origin = _grid_geometry(rows, cols, h, w, s)
    gap, fw = 4 * s, s  # space between the samples and the framed column; frame width
    nn_x = margin + grid_w + gap + fw
    width = nn_x + cell_w + fw + margin
    height = 2 * margin + grid_h
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = SEP_RGB
    _draw_grid(canvas, _as_images(samples), rows, cols, s, origin)
    nn_tiles = _as_images(nn)
    plain = canvas.copy()  # the SVG draws the frames itself, as vectors
    frames = []
    for r in range(rows):
        y, _ = origin(r, 0)
        big = nn_tiles[r].repeat(s, 0).repeat(s, 1)
        for img in (canvas, plain):
            img[y:y + cell_h, nn_x:nn_x + cell_w] = big
        canvas[y - fw:y + cell_h + fw, nn_x - fw:nn_x + cell_w + fw] = FRAME_RGB
        canvas[y:y + cell_h, nn_x:nn_x + cell_w] = big
        frames.append(f'<rect class="nearest" data-row="{r}" data-train-index="{int(idx[r])}" '
                      f'data-distance="{float(dist[r]):.4f}" x="{nn_x - fw / 2}" y="{y - fw / 2}" '
                      f'width="{cell_w + fw}" height="{cell_h + fw}" fill="none" '
                      f'stroke="rgb{FRAME_RGB}" stroke-width="{fw}"><title>nearest training example: '
                      f'train[{int(idx[r])}], distance {float(dist[r]):.3f}</title></rect>')
    desc = (f"{rows}×{cols} samples from G at iteration {trainer.iteration:,} (seed {seed}); framed in yellow "
            f"beside the last column: the nearest training example (Euclidean, pixel space, over "
            f"train[0:{len(train_flat)}]) of that column's sample — train indices "
            f"{', '.join(str(int(i)) for i in idx)}")
    svg = _svg(width, height, _png(plain), "Figure 2: samples from the model and nearest training examples",
               desc, frames)
    return _png(canvas), svg


# ------------------------------------------------------------------------------------ figure 3
def figure3(trainer, rows: int = 8, cols: int = 10, seed: int = 0, scale: int = SCALE) -> tuple[bytes, str]:
    """Each row: G on ``cols`` points evenly spaced on the line between two random z's (the ends
    included). Returns ``(png_bytes, svg_text)``."""
    import torch

    _check_images(trainer)
    _check_rows_cols(rows, cols)
    s = max(1, int(scale))
    gen = torch.Generator(device=trainer.device).manual_seed(int(seed))
    ends = trainer.noise(2 * rows, gen).double().cpu().numpy().reshape(rows, 2, -1)
    t = np.linspace(0.0, 1.0, cols)[None, :, None]
    z = (1 - t) * ends[:, :1] + t * ends[:, 1:]  # rows × cols × z_dim
    imgs = np.clip(trainer.g_on(z.reshape(rows * cols, -1).astype(np.float32)), 0.0, 1.0)
    _, h, w = trainer.dataset.shape
    cell_h, cell_w, sep, margin, grid_w, grid_h, origin = _grid_geometry(rows, cols, h, w, s)
    canvas = np.empty((2 * margin + grid_h, 2 * margin + grid_w, 3), np.uint8)
    canvas[:] = SEP_RGB
    _draw_grid(canvas, _as_images(imgs.reshape(rows * cols, *trainer.dataset.shape)), rows, cols, s, origin)
    png = _png(canvas)
    desc = (f"{rows} rows of {cols} images from G at iteration {trainer.iteration:,}: each row linearly "
            f"interpolates z between two random noise vectors (seed {seed}), ends included")
    return png, _svg(canvas.shape[1], canvas.shape[0], png, "Figure 3: linear interpolations in z", desc)


# ------------------------------------------------------------------------------------ files
def _suffix(out_path) -> str:
    suf = Path(out_path).suffix.lower()
    if suf not in (".png", ".svg"):
        raise FigureError(f"cannot write {out_path}: the file name must end in .png or .svg "
                          f"(got {suf or 'no suffix'})")
    return suf


def training_images(trainer) -> np.ndarray:
    """The paper's training set for the nearest-neighbour search: train[0:50000] (uint8, N×C×H×W).

    For MNIST and Fashion-MNIST it is read with the dataset machinery from the checkpoint's data folder;
    other image datasets use the first 50,000 of the images the run trained on."""
    from ..train.datasets import build_dataset

    cfg, ds = trainer.config, trainer.dataset
    args = dict(cfg.dataset_args or {})
    if cfg.dataset in ("mnist", "fashion-mnist"):
        same = (args.get("split", "train") == "train" and int(args.get("start", 0) or 0) == 0
                and args.get("stop") is not None and int(args["stop"]) == N_TRAIN)
        if not same:
            ds = build_dataset(cfg.dataset, dict(args, split="train", start=0, stop=N_TRAIN))
    return ds.images[:N_TRAIN].cpu().numpy()


def write_figure(kind: str, ckpt_path: str | os.PathLike, out_path: str | os.PathLike,
                 data_root: str | None = None, rows: int | None = None, cols: int | None = None,
                 seed: int = 0) -> Path:
    """Make ``kind`` ("figure2" or "figure3") from a checkpoint and write it as PNG or SVG (by
    ``out_path``'s suffix), atomically. Returns the path written."""
    from ..train.checkpoint import trainer_from_checkpoint

    if kind not in KINDS:
        raise FigureError(f"unknown figure {kind!r}; choose one of {', '.join(KINDS)}")
    suf = _suffix(out_path)
    defaults = {"figure2": (6, 5), "figure3": (8, 10)}[kind]
    rows = defaults[0] if rows is None else int(rows)
    cols = defaults[1] if cols is None else int(cols)
    _check_rows_cols(rows, cols)
    trainer = trainer_from_checkpoint(ckpt_path, device="cpu", data_root=data_root)
    _check_images(trainer)
    if kind == "figure2":
        png, svg = figure2(trainer, training_images(trainer), rows=rows, cols=cols, seed=seed)
    else:
        png, svg = figure3(trainer, rows=rows, cols=cols, seed=seed)
    out = Path(out_path).expanduser()
    atomic_write_bytes(out, png if suf == ".png" else svg.encode("utf-8"))
    return out


def figure_call(kind: str, out_path: str, trainer) -> str:
    """For the studio's ``run.call``: the figure from G now, made in the training process (which has the
    trainer and its data), written atomically. Returns the path written (errors become one-line events)."""
    if kind not in KINDS:
        raise FigureError(f"unknown figure {kind!r}; choose one of {', '.join(KINDS)}")
    suf = _suffix(out_path)
    _check_images(trainer)
    if kind == "figure2":
        png, svg = figure2(trainer, training_images(trainer))
    else:
        png, svg = figure3(trainer)
    out = Path(out_path).expanduser()
    atomic_write_bytes(out, png if suf == ".png" else svg.encode("utf-8"))
    return str(out)
