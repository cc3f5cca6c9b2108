"""Turn samples into uint8 RGB pictures without a plotting library (for GIFs and exports).

Images become a tiled grid; 2-D points become a scatter over the real data; 1-D points become
overlaid histograms of real and generated values.
"""
from __future__ import annotations

import math

import numpy as np

REAL_RGB = (150, 150, 150)
FAKE_RGB = (230, 85, 13)
BG_RGB = (255, 255, 255)


def image_grid(images: np.ndarray, ncol: int | None = None, pad: int = 1, scale: int | None = None) -> np.ndarray:
    """N×C×H×W floats in [0, 1] → one H'×W'×3 uint8 grid (nearest-neighbour upscaled to ≥ 224 px)."""
    x = np.asarray(images, dtype=np.float32)
    n, c, h, w = x.shape
    ncol = ncol or int(math.ceil(math.sqrt(n)))
    nrow = int(math.ceil(n / ncol))
    if scale is None:
        scale = max(1, int(round(224 / (ncol * (w + pad)))))
    x = np.clip(x, 0, 1)
    if c == 1:
        x = np.repeat(x, 3, axis=1)
    out = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), 40, np.float32)
    for i in range(n):
        r, q = divmod(i, ncol)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = \
            x[i].transpose(1, 2, 0) * 255
    out = out.astype(np.uint8)
    if scale > 1:
        out = out.repeat(scale, 0).repeat(scale, 1)
    return out


def scatter(real: np.ndarray, fake: np.ndarray, lo, hi, size: int = 320, dot: int = 2,
            field: np.ndarray | None = None) -> np.ndarray:
    """Rasterise 2-D points (real grey, generated orange) over an optional D heatmap (values in [0, 1])."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = BG_RGB
    if field is not None:
        f = np.clip(np.nan_to_num(np.asarray(field, np.float32), nan=0.5), 0, 1)  # NaN (a diverged D): neutral
        fy = (np.arange(size) * f.shape[0] // size)
        fx = (np.arange(size) * f.shape[1] // size)
        v = f[fy][:, fx][::-1]  # row 0 is the top of the picture (largest y)
        # white (D=0.5) → blue (D→1, "real") / red (D→0, "fake"), soft
        blue = np.array([70, 130, 220], np.float32)
        red = np.array([220, 80, 80], np.float32)
        t = (v - 0.5)[..., None] * 2
        base = np.array(BG_RGB, np.float32)
        col = np.where(t > 0, base + t * 0.55 * (blue - base), base - t * 0.55 * (red - base))
        img[:] = col.astype(np.uint8)
    lo = np.asarray(lo, np.float64)
    hi = np.asarray(hi, np.float64)

    def put(pts, rgb):
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        u = ((pts - lo) / (hi - lo) * (size - 1))
        ok = np.isfinite(u).all(1) & (u >= 0).all(1) & (u <= size - 1).all(1)
        u = u[ok].astype(int)
        cols, rows = u[:, 0], size - 1 - u[:, 1]
        for dy in range(-dot // 2, dot - dot // 2):
            for dx in range(-dot // 2, dot - dot // 2):
                rr = np.clip(rows + dy, 0, size - 1)
                cc = np.clip(cols + dx, 0, size - 1)
                img[rr, cc] = rgb

    put(real, REAL_RGB)
    put(fake, FAKE_RGB)
    return img


def histogram_1d(real: np.ndarray, fake: np.ndarray, lo: float, hi: float, width: int = 320, height: int = 200,
                 bins: int = 80) -> np.ndarray:
    """Overlaid histograms of 1-D real (grey) and generated (orange) values."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = BG_RGB
    edges = np.linspace(lo, hi, bins + 1)
    hr, _ = np.histogram(np.ravel(real), edges, density=True)
    hf, _ = np.histogram(np.ravel(fake), edges, density=True)
    top = max(hr.max(initial=0), hf.max(initial=0), 1e-9)
    bw = width / bins
    for h, rgb, shrink in ((hr, REAL_RGB, 0), (hf, FAKE_RGB, 0.3)):
        for i, v in enumerate(h):
            if not np.isfinite(v) or v <= 0:
                continue
            x0 = int(i * bw + shrink * bw)
            x1 = max(x0 + 1, int((i + 1) * bw - shrink * bw))
            y0 = height - 1 - int(v / top * (height - 10))
            img[y0:height, x0:x1] = rgb
    return img
