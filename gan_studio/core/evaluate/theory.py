"""The paper's theory, measured on toy data: the optimal D, divergences between p_data and p_g, C(G).

Prop. 1: for a fixed G the optimal discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)).
Thm. 1: at D*, the value of the game is C(G) = −log 4 + 2·JSD(p_data ‖ p_g), minimal (−log 4) iff p_g = p_data.

p_data is known in closed form for the mixtures (a kernel estimate of fresh real samples otherwise); p_g is
only known through samples, so it is a Gaussian kernel density estimate (binned on the evaluation grid; in
2-D a kernel one grid cell wide, in 1-D a third of Silverman's bandwidth), and p_data is convolved with the same
kernel so that the blur is common to both. Two versions of each divergence, in nats:

* **density** — the integrals ∫ p log(p/q) evaluated numerically on the grid from the two densities
  (each renormalised to integrate to 1 over the grid box). Smooth, biased towards wider p_g by the
  kernel's width. C(G) is estimated from this JS.
* **histogram** — real and generated samples counted in the grid's cells; JS of the two histograms, and KL
  with a pseudo-count of 0.5 per cell (so a mode that p_g misses gives a large but finite KL). Noisier
  with few samples, free of the kernel.

V(D, G) = E log D(x) + E log(1 − D(G(z))) is measured on a batch with the *current* D; when D is close to
optimal, V ≈ C(G). Both are shown side by side.
"""
from __future__ import annotations

import math

import numpy as np

LOG4 = math.log(4.0)


def _kl(p: np.ndarray, q: np.ndarray, cell: float) -> float:
    m = p > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(p[m] * np.log(p[m] / np.maximum(q[m], 1e-300))) * cell)


def divergences(p: np.ndarray, q: np.ndarray, cell: float) -> dict:
    """KL(p‖q), KL(q‖p) and JS(p, q) in nats for densities on a regular grid with cell volume `cell`."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    p = p / max(p.sum() * cell, 1e-300)
    q = q / max(q.sum() * cell, 1e-300)
    m = 0.5 * (p + q)
    js = 0.5 * _kl(p, m, cell) + 0.5 * _kl(q, m, cell)
    return {"kl_data_g": _kl(p, q, cell), "kl_g_data": _kl(q, p, cell), "js": max(0.0, js)}


def histogram_divergences(real: np.ndarray, fake: np.ndarray, edges: list[np.ndarray]) -> dict:
    r, _ = np.histogramdd(real, bins=edges)
    f, _ = np.histogramdd(fake, bins=edges)
    r = r.ravel() / max(r.sum(), 1)
    f = f.ravel() / max(f.sum(), 1)
    m = 0.5 * (r + f)
    js = 0.5 * _kl(r, m, 1.0) + 0.5 * _kl(f, m, 1.0)
    rs = np.histogramdd(real, bins=edges)[0].ravel() + 0.5
    fs = np.histogramdd(fake, bins=edges)[0].ravel() + 0.5
    rs, fs = rs / rs.sum(), fs / fs.sum()
    return {"js_hist": max(0.0, js), "kl_data_g_hist": _kl(rs, fs, 1.0), "kl_g_data_hist": _kl(fs, rs, 1.0)}


def smooth_2d(dens: np.ndarray, cells: float = 1.0) -> np.ndarray:
    """Convolve a gridded density with a Gaussian kernel `cells` grid cells wide."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.asarray(dens, np.float64), sigma=cells, mode="constant", truncate=4.0)


def kde_grid_2d(samples: np.ndarray, xs: np.ndarray, ys: np.ndarray, cells: float = 1.0) -> np.ndarray:
    """Gaussian KDE of 2-D samples on the grid (rows = y, columns = x): binned, then smoothed by a kernel
    `cells` grid cells wide. A fixed, narrow kernel: rules of thumb (Scott, Silverman) take the spread of
    a multi-modal set for the width of one bump and smear eight tight modes into a ring."""
    s = np.asarray(samples, np.float64)
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ex = np.concatenate([xs - dx / 2, [xs[-1] + dx / 2]])
    ey = np.concatenate([ys - dy / 2, [ys[-1] + dy / 2]])
    counts, _, _ = np.histogram2d(s[:, 1], s[:, 0], bins=[ey, ex])
    return smooth_2d(counts, cells) / (max(len(s), 1) * dx * dy)


def mixture_cell_density(centers: np.ndarray, sigma: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """An isotropic Gaussian mixture's probability mass in each grid cell (exact, via the normal CDF),
    divided by the cell's area: the density a histogram of infinitely many samples would show. Point
    values would miss modes narrower than a cell."""
    from scipy.special import ndtr

    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ex = np.concatenate([xs - dx / 2, [xs[-1] + dx / 2]])
    ey = np.concatenate([ys - dy / 2, [ys[-1] + dy / 2]])
    c = np.asarray(centers, np.float64)
    px = np.diff(ndtr((ex[None, :] - c[:, :1]) / sigma), axis=1)  # K × nx
    py = np.diff(ndtr((ey[None, :] - c[:, 1:2]) / sigma), axis=1)  # K × ny
    mass = np.einsum("ky,kx->yx", py, px) / len(c)
    return mass / (dx * dy)


def theory_1d(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, real: np.ndarray, fake: np.ndarray) -> dict:
    dx = float(x[1] - x[0])
    d_star = p_data / np.maximum(p_data + p_g, 1e-300)
    # where neither density has mass D* is 0/0: leave a gap rather than draw noise
    d_star[(p_data + p_g) < 0.01 * max(float(p_data.max()), 1e-300)] = np.nan
    out = divergences(p_data, p_g, dx)
    edges = [np.concatenate([x - dx / 2, [x[-1] + dx / 2]])[::4]]  # coarser cells for the histogram version
    out.update(histogram_divergences(real.reshape(-1, 1), fake.reshape(-1, 1), edges))
    out["c_g"] = -LOG4 + 2.0 * out["js"]
    out["d_star"] = d_star
    return out


def theory_2d(xs: np.ndarray, ys: np.ndarray, p_data: np.ndarray, fake: np.ndarray, real: np.ndarray) -> dict:
    """`p_data` is the data's density on the grid (cell averages); it is smoothed by the same kernel as the
    estimate of p_g, so that the kernel's blur is common to both and cancels out of the comparison."""
    cell = float((xs[1] - xs[0]) * (ys[1] - ys[0]))
    p_g = kde_grid_2d(fake, xs, ys)
    p_data = smooth_2d(p_data)
    d_star = p_data / np.maximum(p_data + p_g, 1e-300)
    d_star[(p_data + p_g) <= 1e-12] = 0.5  # neither density reaches here: D* is undefined, show "can't tell"
    out = divergences(p_data, p_g, cell)
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ex = np.concatenate([xs - dx / 2, [xs[-1] + dx / 2]])[::2]
    ey = np.concatenate([ys - dy / 2, [ys[-1] + dy / 2]])[::2]
    out.update(histogram_divergences(real[:, :2], fake[:, :2], [ex, ey]))
    out["c_g"] = -LOG4 + 2.0 * out["js"]
    out["d_star"] = d_star
    out["p_g"] = p_g
    return out


def value_of_game(d_real: np.ndarray, d_fake: np.ndarray) -> float:
    """V(D, G) = E log D(x) + E log(1 − D(G(z))) from D's probabilities on a real and a generated batch."""
    eps = 1e-7
    r = np.clip(np.asarray(d_real, np.float64), eps, 1 - eps)
    f = np.clip(np.asarray(d_fake, np.float64), eps, 1 - eps)
    return float(np.log(r).mean() + np.log1p(-f).mean())
