"""What the studio's panels show, computed from a trainer on request (never every step).

Every function here runs on the training thread between iterations and returns plain numpy data, so the
GUI thread never touches a tensor that training mutates. Views draw noise from the trainer's view RNG
stream, so looking at a run never changes it.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .viewspec import VIEW_NAMES, StaticInfo, ViewRequest  # noqa: F401  (re-exported)


def static_info(trainer) -> StaticInfo:
    ds = trainer.dataset
    loss = trainer.loss
    common = dict(kind=ds.kind, dim=int(ds.dim), shape=tuple(ds.shape), name=ds.name,
                  description=getattr(ds, "description", ""), n_classes=int(ds.n_classes or 0),
                  sigmoid=bool(loss.sigmoid), d_equilibrium=float(loss.d_equilibrium),
                  g_equilibrium=float(loss.g_equilibrium), loss=loss.name)
    if ds.kind != "points":
        return StaticInfo(**common)
    lo, hi = ds.bounds()
    gen = torch.Generator(device=trainer.device).manual_seed(4242)
    real, _ = ds.sample(2000 if ds.dim == 1 else 1024, gen)
    real = real.float().cpu().numpy()
    centers = getattr(ds, "centers", None)
    x_grid = p_data = None
    if ds.dim == 1:
        x_grid = np.linspace(float(lo[0]), float(hi[0]), 400)
        ld = ds.log_density(x_grid[:, None])
        p_data = np.exp(ld) if ld is not None else kde_1d(real[:, 0], x_grid)
    return StaticInfo(**common, bounds=(np.asarray(lo, np.float64), np.asarray(hi, np.float64)), real=real,
                      centers=None if centers is None else np.asarray(centers, np.float64),
                      sigma=getattr(ds, "sigma", None), x_grid=x_grid, p_data=p_data)


def kde_bandwidth(samples: np.ndarray) -> float:
    """Silverman's rule of thumb: 0.9·min(std, IQR/1.34)·n^(−1/5)."""
    s = np.asarray(samples, np.float64).ravel()
    std = s.std()
    iqr = np.subtract(*np.percentile(s, [75, 25]))
    spread = min(std, iqr / 1.349) if iqr > 0 else std
    return 0.9 * spread * len(s) ** (-1 / 5)


def kde_1d(samples: np.ndarray, grid: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate on an evenly spaced grid (Silverman's bandwidth by default).

    Binned: the samples are histogrammed on the grid and convolved with the kernel, O(n + grid²) instead of
    O(n·grid); on a 400-point grid the difference from the exact sum is far below what a plot shows."""
    s = np.asarray(samples, np.float64).ravel()
    grid = np.asarray(grid, np.float64)
    if len(s) == 0 or len(grid) < 2:
        return np.zeros_like(grid, dtype=np.float64)
    step = grid[1] - grid[0]
    h = max(bandwidth if bandwidth is not None else kde_bandwidth(s), step / 2)
    edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    counts, _ = np.histogram(s, bins=edges)
    half = min(len(grid) - 1, int(np.ceil(5 * h / step)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) * step / h) ** 2)
    dens = np.convolve(counts, k, mode="same")[: len(grid)]
    return dens / (len(s) * h * math.sqrt(2 * math.pi))


# --------------------------------------------------------------------------------------------- views
def samples(trainer, req: ViewRequest, frame: int) -> np.ndarray:
    n = req.n_grid if trainer.dataset.kind == "images" else 1024
    if req.fresh_z:
        return trainer.generate(n, seed=frame)
    return trainer.fixed_samples(n)


@torch.no_grad()
def nearest_neighbours(trainer, queries: np.ndarray) -> np.ndarray:
    """The nearest training example (Euclidean, in [0, 1] pixel space) of each query image."""
    ds = trainer.dataset
    q = torch.as_tensor(queries, device=trainer.device).reshape(len(queries), -1).float()
    best_d = torch.full((len(q),), float("inf"), device=trainer.device)
    best_i = torch.zeros(len(q), dtype=torch.long, device=trainer.device)
    qn = (q * q).sum(1, keepdim=True)
    for i in range(0, len(ds.images), 8192):
        x = ds.images[i:i + 8192].reshape(min(8192, len(ds.images) - i), -1).float() / 255.0
        d = qn - 2 * q @ x.T + (x * x).sum(1)[None]
        v, j = d.min(1)
        better = v < best_d
        best_d = torch.where(better, v, best_d)
        best_i = torch.where(better, j + i, best_i)
    return (ds.images[best_i].float() / 255.0).cpu().numpy()


def d_hist(trainer, n: int = 384) -> tuple[np.ndarray, np.ndarray]:
    real, fake = trainer.d_outputs(n)
    return real.reshape(-1), fake.reshape(-1)


def field(trainer, static: StaticInfo, req: ViewRequest, fakes: np.ndarray | None) -> dict:
    """The toy field: D over the data's box; for 2-D also gradient arrows on the fakes; for 1-D p_g."""
    lo, hi = static.bounds
    if static.dim == 1:
        x = static.x_grid
        d = trainer.d_on(x[:, None].astype(np.float32)).reshape(-1)
        gen = trainer.generate(2048, seed=12345).reshape(-1)  # the same z every frame: p_g moves only with G
        return {"x": x, "d": d, "p_g": kde_1d(gen, x), "fakes": gen[:300]}
    res = int(req.field_res)
    xs = np.linspace(lo[0], hi[0], res)
    ys = np.linspace(lo[1], hi[1], res)
    gx, gy = np.meshgrid(xs, ys)  # row = y, column = x
    pts = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    d = trainer.d_on(pts).reshape(res, res)
    out = {"xs": xs, "ys": ys, "d": d}
    if req.arrows and fakes is not None and len(fakes):
        p = np.asarray(fakes[:48], np.float32).reshape(-1, 2)
        g = d_gradient(trainer, p)
        norm = np.linalg.norm(g, axis=1, keepdims=True)
        span = float(np.max(np.asarray(hi) - np.asarray(lo)))
        scale = 0.06 * span / max(float(norm.max()), 1e-12)
        out["arrows"] = (p, g * scale)  # starts and vectors; length ∝ |∇D|, longest 6% of the view
    return out


def d_gradient(trainer, points: np.ndarray) -> np.ndarray:
    """∇ₓ D(x) at the given points: the direction in which D pushes generated samples."""
    x = torch.as_tensor(points, device=trainer.device).reshape(-1, *trainer.dataset.shape).requires_grad_(True)
    was = trainer.D.training
    trainer.D.eval()
    try:
        with torch.enable_grad():
            out = trainer.loss.probability(trainer.D(x))
            (g,) = torch.autograd.grad(out.sum(), x)
    finally:
        trainer.D.train(was)
    return g.reshape(len(points), -1).float().cpu().numpy()


def _directions(trainer, req: ViewRequest) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The latent plane: centre z0 and two directions u, v (orthogonal, unit-variance scale)."""
    zd = trainer.config.z_dim
    fz = trainer.fixed_z
    a, b = (int(i) % len(fz) for i in req.pick)
    g = torch.Generator(device="cpu").manual_seed(int(req.walk_seed))
    r = torch.randn(2, zd, generator=g).to(trainer.device)
    if req.walk_mode == "picked" and zd > 1:
        z0 = (fz[a] + fz[b]) / 2
        u = (fz[b] - fz[a]) / 2
        v = r[0] - (r[0] @ u) / (u @ u + 1e-12) * u
        v = v / (v.norm() + 1e-12) * u.norm()
        return z0, u, v
    if zd == 1:
        return torch.zeros(1, device=trainer.device), torch.ones(1, device=trainer.device), torch.zeros(1, device=trainer.device)
    if zd == 2 and req.walk_mode == "random" and req.walk_seed == 0:
        e = torch.eye(2, device=trainer.device)
        return torch.zeros(2, device=trainer.device), e[0], e[1]
    q, _ = torch.linalg.qr(r.T.cpu())  # two orthonormal directions
    q = q.T.to(trainer.device)
    return fz[a] * 0, q[0], q[1]


def latent(trainer, static: StaticInfo, req: ViewRequest) -> dict:
    """Images: a grid G(z0 + a·u + b·v) and an interpolation between two picked samples (Figure 3).
    2-D points: the generator's image of a latent grid (a warped mesh). 1-D: the curve x = G(z)."""
    zd = trainer.config.z_dim
    fz = trainer.fixed_z
    uniform = trainer.config.noise == "uniform"
    lim = math.sqrt(3) if uniform else 2.5
    if static.kind == "images":
        z0, u, v = _directions(trainer, req)
        n = 7
        t = torch.linspace(-2, 2, n, device=trainer.device) if req.walk_mode != "picked" else \
            torch.linspace(-1.5, 1.5, n, device=trainer.device)
        grid = z0[None, None] + t[:, None, None] * v[None, None] + t[None, :, None] * u[None, None]
        walk = trainer.g_on(grid.reshape(-1, zd).cpu().numpy())
        a, b = (int(i) % len(fz) for i in req.pick)
        s = torch.linspace(0, 1, 10, device=trainer.device)[:, None]
        line = trainer.g_on(((1 - s) * fz[a][None] + s * fz[b][None]).cpu().numpy())
        return {"grid": walk, "n": n, "interp": line}
    if static.dim == 1 or zd == 1:
        z = np.linspace(-lim, lim, 200, dtype=np.float32)[:, None]
        zz = np.zeros((200, zd), np.float32)
        zz[:, 0] = z[:, 0]
        x = trainer.g_on(zz)
        return {"z": z[:, 0], "x": x.reshape(200, -1)}
    z0, u, v = _directions(trainer, req)
    n_lines, n_pts = 15, 48
    a = torch.linspace(-lim, lim, n_lines, device=trainer.device)
    b = torch.linspace(-lim, lim, n_pts, device=trainer.device)
    rows = z0[None, None] + a[:, None, None] * v[None, None] + b[None, :, None] * u[None, None]  # lines of const v
    cols = z0[None, None] + a[:, None, None] * u[None, None] + b[None, :, None] * v[None, None]  # lines of const u
    zz = torch.cat([rows.reshape(-1, zd), cols.reshape(-1, zd)]).cpu().numpy()
    x = trainer.g_on(zz).reshape(2, n_lines, n_pts, -1)[..., :2]
    return {"rows": x[0], "cols": x[1], "lim": lim}


def metrics(trainer, static: StaticInfo, req: ViewRequest, frame: int, n_modes_samples: int = 2500) -> dict:
    """Live evaluation for point data: mode metrics (mixtures) and the theory of Prop. 1 and Thm. 1.

    Returns {"scalars": {...} (kept as a history by the studio), "theory": maps for the toy field}."""
    from ..evaluate import theory
    from ..evaluate.metrics import mode_metrics

    scalars: dict = {"iteration": int(trainer.iteration)}
    maps: dict = {}
    if static.kind != "points":
        return {"scalars": scalars, "theory": maps}
    fake = trainer.generate(4096, seed=10_000 + frame)
    if static.centers is not None and static.sigma is not None:
        m = mode_metrics(fake[:n_modes_samples], static.centers, static.sigma)
        scalars.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"], high_quality=m["high_quality"],
                       kl_modes=m["kl_uniform"], mode_counts=m["counts"])
    ds = trainer.dataset
    gen = torch.Generator(device=trainer.device).manual_seed(777 + frame)
    real = ds.sample(4096, gen)[0].float().cpu().numpy()
    finite = np.isfinite(fake).all(1)
    fake = fake[finite]
    if static.dim == 1:
        from scipy.ndimage import gaussian_filter1d

        x = static.x_grid
        # Silverman's rule reads a two-mode spread as one wide bump: a third of it, at least two grid steps
        dx = float(x[1] - x[0])
        h = max(0.3 * kde_bandwidth(fake[:, 0]), 2 * dx) if len(fake) > 1 else 2 * dx
        p_g = kde_1d(fake[:, 0], x, bandwidth=h)
        p_data = gaussian_filter1d(static.p_data, h / float(x[1] - x[0]), mode="constant")  # the same blur
        th = theory.theory_1d(x, p_data, p_g, real[:, 0], fake[:, 0])
        maps = {"x": x, "d_star": th.pop("d_star")}
    elif static.dim == 2:
        lo, hi = static.bounds
        res = int(req.field_res)
        xs = np.linspace(lo[0], hi[0], res)
        ys = np.linspace(lo[1], hi[1], res)
        gx, gy = np.meshgrid(xs, ys)
        pts = np.stack([gx.ravel(), gy.ravel()], 1)
        if static.centers is not None and static.sigma is not None:
            p_data = theory.mixture_cell_density(static.centers, static.sigma, xs, ys)
        else:
            p_data = theory.kde_grid_2d(real, xs, ys, cells=0.0)  # histogram: theory_2d smooths it
        th = theory.theory_2d(xs, ys, p_data, fake, real)
        d = trainer.d_on(pts.astype(np.float32)).reshape(res, res)
        d_star = th.pop("d_star")
        th.pop("p_g")
        maps = {"xs": xs, "ys": ys, "d_star": d_star, "diff": d - d_star}
    else:
        th = {}
    if static.sigmoid and static.dim <= 2:
        r, f = trainer.d_outputs(1024)
        th["v"] = theory.value_of_game(r, f)
    scalars.update({k: float(v) for k, v in th.items()})
    return {"scalars": scalars, "theory": maps}
