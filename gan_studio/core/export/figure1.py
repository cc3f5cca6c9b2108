"""The paper's Figure 1 from a recorded 1-D run: four moments side by side, panels (a)–(d), each with
p_data (black, dotted), p_g (green, solid), D (blue, dashed) and, below, the mapping x = G(z) drawn as
lines from the noise line z up to the data line x — as in Goodfellow et al. (2014), Figure 1.

Torch-free (a lecture machine can draw it from a recording). The z of each line: the recording's own
fixed z when it holds it (``static.npz`` key ``latent_z``); otherwise the quantiles of the noise
distribution matched to the sorted samples (exact when G is monotone in z, as it is in 1-D runs).
"""
from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from ..errors import ConfigError

COLORS = {"p_data": (0, 0, 0), "p_g": (30, 150, 60), "d": (40, 90, 220), "map": (120, 120, 120)}
LETTERS = "abcd"
LEGEND = "black dotted: p_data · green: p_g · blue dashed: D · grey lines: x = G(z)"


class Figure1Error(ConfigError):
    """The recording cannot give Figure 1; the message says why."""


def pick_moments(iterations: list[int], at: list[int] | None = None, n: int = 4) -> list[int]:
    """Indices of the snapshots nearest to ``at`` (default: the start, two in between, the end)."""
    its = np.asarray(iterations)
    if len(its) == 0:
        raise Figure1Error("the recording has no snapshots yet")
    if at is None:
        targets = [its[0] + (its[-1] - its[0]) * t for t in np.linspace(0, 1, n)]
    else:
        if len(at) != n:
            raise Figure1Error(f"--at needs {n} iterations (one per panel), got {len(at)}")
        targets = at
    return [int(np.abs(its - t).argmin()) for t in targets]


def _field(views: dict) -> dict:
    f = views.get("field")
    if isinstance(f, dict):
        return f
    return {k.split(".", 1)[1]: v for k, v in views.items() if k.startswith("field.")}


def _z_for(samples: np.ndarray, noise: str, static_extra: dict) -> np.ndarray:
    z = static_extra.get("latent_z") if isinstance(static_extra, dict) else None
    if z is not None and len(z) == len(samples):
        return np.asarray(z, np.float64).reshape(-1)
    from scipy.special import ndtri

    n = len(samples)
    q = (np.arange(n) + 0.5) / n
    zq = (q * 2 - 1) * math.sqrt(3) if noise == "uniform" else ndtri(q)
    out = np.empty(n)
    out[np.argsort(samples, kind="stable")] = zq
    return out


def moments(run, at: list[int] | None = None) -> list[dict]:
    """The four panels' data: iteration, x grid, p_data, p_g, D, samples and their z."""
    st = run.static
    if st.kind != "points" or st.dim != 1 or st.x_grid is None:
        raise Figure1Error("Figure 1 needs a 1-D run (such as the figure1 preset); this recording has "
                           f"{'images' if st.kind == 'images' else f'{st.dim}-D points'}")
    out = []
    for i in pick_moments(run.iterations, at):
        views = run.load(i)
        f = _field(views)
        x = np.asarray(f.get("x", st.x_grid), np.float64)
        samples = np.asarray(views.get("samples", f.get("fakes", np.zeros(0))), np.float64).reshape(-1)
        out.append({"iteration": run.iterations[i], "x": x, "p_data": np.asarray(st.p_data, np.float64),
                    "p_g": np.asarray(f["p_g"], np.float64) if "p_g" in f else None,
                    "d": np.asarray(f["d"], np.float64) if "d" in f else None,
                    "samples": samples, "z": _z_for(samples, run.config.noise, st.extra)})
    return out


def _geometry(m: dict, w: float, h: float):
    """Coordinates of one panel: curves in the top 62 %, the x line, the z line at the bottom."""
    x = m["x"]
    lo, hi = float(x[0]), float(x[-1])
    # heights relative to p_data's peak (a collapsed p_g spikes off the top, as a point mass should)
    top = max(float(np.nanmax(m["p_data"])) * 1.25, 1e-9)
    cy0, cy1 = 0.10 * h, 0.62 * h  # curve area
    xline, zline = 0.70 * h, 0.93 * h
    zs = m["z"]
    zlo, zhi = (float(np.min(zs)), float(np.max(zs))) if len(zs) else (-1.0, 1.0)
    zpad = (zhi - zlo) * 0.05 + 1e-9

    def px(v):
        return (np.asarray(v, np.float64) - lo) / max(hi - lo, 1e-12) * w

    def py(v, scale):
        return cy1 - np.clip(np.asarray(v, np.float64) / scale, 0, 1.05) * (cy1 - cy0)

    def pz(v):  # the z line spans the middle of the panel, as in the paper
        return w * 0.15 + (np.asarray(v, np.float64) - zlo + zpad) / (zhi - zlo + 2 * zpad) * w * 0.7

    return px, py, pz, top, xline, zline


def _mapping_subset(m: dict, n: int = 24) -> np.ndarray:
    order = np.argsort(m["z"])
    return order[np.linspace(0, len(order) - 1, min(n, len(order))).astype(int)] if len(order) else order


def figure1_svg(ms: list[dict], panel_w: int = 300, panel_h: int = 260) -> str:
    W, H = panel_w * len(ms), panel_h + 52
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
          f'font-family="serif" font-size="14">', f'<rect width="{W}" height="{H}" fill="white"/>']
    for k, m in enumerate(ms):
        ox = k * panel_w + 10
        w = panel_w - 20
        px, py, pz, top, xline, zline = _geometry(m, w, panel_h)

        def poly(xs, ys, color, dash="", width=2):
            pts = " ".join(f"{ox + a:.1f},{b:.1f}" for a, b in zip(xs, ys) if np.isfinite(a) and np.isfinite(b))
            d = f' stroke-dasharray="{dash}"' if dash else ""
            return (f'<polyline points="{pts}" fill="none" stroke="rgb{color}" stroke-width="{width}"{d}/>')

        for i in _mapping_subset(m):
            x0, x1 = pz(m["z"][i]), px(m["samples"][i])
            el.append(f'<line x1="{ox + x0:.1f}" y1="{zline:.1f}" x2="{ox + x1:.1f}" y2="{xline:.1f}" '
                      f'stroke="rgb{COLORS["map"]}" stroke-width="1"/>')
        el.append(f'<line x1="{ox}" x2="{ox + w}" y1="{xline}" y2="{xline}" stroke="black"/>')
        el.append(f'<line x1="{ox + w * 0.15}" x2="{ox + w * 0.85}" y1="{zline}" y2="{zline}" stroke="black"/>')
        el.append(f'<text x="{ox + w + 2}" y="{xline + 4}" font-style="italic">x</text>')
        el.append(f'<text x="{ox + w * 0.85 + 4}" y="{zline + 4}" font-style="italic">z</text>')
        el.append(poly(px(m["x"]), py(m["p_data"], top), COLORS["p_data"], "2,3"))
        if m["p_g"] is not None:
            el.append(poly(px(m["x"]), py(m["p_g"], top), COLORS["p_g"]))
        if m["d"] is not None:
            el.append(poly(px(m["x"]), py(m["d"], 1.0), COLORS["d"], "6,4"))
        el.append(f'<text x="{ox + w / 2}" y="{panel_h + 20}" text-anchor="middle">({LETTERS[k]}) iteration '
                  f'{m["iteration"]:,}</text>')
    el.append(f'<text x="{W / 2}" y="{panel_h + 44}" text-anchor="middle" fill="#444">{LEGEND}</text>')
    el.append("</svg>")
    return "\n".join(el) + "\n"


def figure1_png(ms: list[dict], panel_w: int = 300, panel_h: int = 260, scale: int = 2) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    s = scale
    W, H = panel_w * len(ms), panel_h + 52
    img = Image.new("RGB", (W * s, H * s), "white")
    d = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=14 * s)
    except TypeError:
        font = ImageFont.load_default()

    def line(pts, color, width=2, dash=0):
        pts = [(a * s, b * s) for a, b in pts if np.isfinite(a) and np.isfinite(b)]
        if dash:
            for j in range(0, len(pts) - 1, 2 * dash):
                seg = pts[j:j + dash + 1]
                if len(seg) > 1:
                    d.line(seg, fill=color, width=width * s)
        elif len(pts) > 1:
            d.line(pts, fill=color, width=width * s)

    for k, m in enumerate(ms):
        ox = k * panel_w + 10
        w = panel_w - 20
        px, py, pz, top, xline, zline = _geometry(m, w, panel_h)
        for i in _mapping_subset(m):
            line([(ox + pz(m["z"][i]), zline), (ox + px(m["samples"][i]), xline)], COLORS["map"], 1)
        line([(ox, xline), (ox + w, xline)], (0, 0, 0), 1)
        line([(ox + w * 0.15, zline), (ox + w * 0.85, zline)], (0, 0, 0), 1)
        d.text(((ox + w + 2) * s, (xline - 8) * s), "x", fill=(0, 0, 0), font=font)
        d.text(((ox + w * 0.85 + 4) * s, (zline - 8) * s), "z", fill=(0, 0, 0), font=font)
        xs = ox + px(m["x"])
        line(list(zip(xs, py(m["p_data"], top))), COLORS["p_data"], 2, dash=3)
        if m["p_g"] is not None:
            line(list(zip(xs, py(m["p_g"], top))), COLORS["p_g"], 2)
        if m["d"] is not None:
            line(list(zip(xs, py(m["d"], 1.0))), COLORS["d"], 2, dash=6)
        d.text(((ox + w / 2) * s, (panel_h + 12) * s), f"({LETTERS[k]}) iteration {m['iteration']:,}",
               fill=(0, 0, 0), font=font, anchor="mt")
    d.text((W / 2 * s, (panel_h + 34) * s), LEGEND, fill=(68, 68, 68), font=font, anchor="mt")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_figure1(run_dir: str | os.PathLike, out_path: str | os.PathLike, at: list[int] | None = None) -> Path:
    """Figure 1 from a run folder, as PNG (2×) or SVG by the file name; written atomically."""
    from ..record.runfolder import RunFolder

    out = Path(out_path).expanduser()
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise Figure1Error(f"cannot write {out}: the file name must end in .png or .svg (got {suffix or 'none'})")
    run = run_dir if hasattr(run_dir, "iterations") else RunFolder(run_dir)
    ms = moments(run, at)
    atomic_write_bytes(out, figure1_png(ms) if suffix == ".png" else figure1_svg(ms).encode("utf-8"))
    return out
