"""What the studio's panels show, computed from a trainer on request (never every step).

Every function here runs on the training thread between iterations and returns plain numpy data, so the
GUI thread never touches a tensor that training mutates. Views draw noise from the trainer's view RNG
stream, so looking at a run never changes it.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .latent import directions, first_linear, g_with_plane, latent, lerp_matrix
from .queries import d_on, d_outputs
from .viewspec import D_HIST, VIEW_NAMES, StaticInfo, ViewRequest  # noqa: F401  (re-exported)


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
    real, fake = d_outputs(trainer, n)
    return real.reshape(-1), fake.reshape(-1)


def field(trainer, static: StaticInfo, req: ViewRequest, fakes: np.ndarray | None) -> dict:
    """The toy field: D over the data's box; for 2-D also gradient arrows on the fakes; for 1-D p_g."""
    lo, hi = static.bounds
    if static.dim == 1:
        x = static.x_grid
        d = d_on(trainer, x[:, None].astype(np.float32)).reshape(-1)
        gen = trainer.generate(2048, seed=12345).reshape(-1)  # the same z every frame: p_g moves only with G
        return {"x": x, "d": d, "p_g": kde_1d(gen, x), "fakes": gen[:300]}
    res = int(req.field_res)
    xs = np.linspace(lo[0], hi[0], res)
    ys = np.linspace(lo[1], hi[1], res)
    gx, gy = np.meshgrid(xs, ys)  # row = y, column = x
    pts = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    d = d_on(trainer, pts).reshape(res, res)
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


class LiveViews:
    """The per-frame views of a live run (samples, D's histogram, the field, the latent view), computed
    together at display rate (up to 30 times a second, on the training thread, so every millisecond here is
    a millisecond less of training):

    * one forward pass of G for everything generated (the fixed-z samples, the latent mesh or grid, the
      fixed-z curve of a 1-D field) and one of D for everything scored (the field's grid, the histogram's
      real and generated examples), in eval mode under ``torch.inference_mode``;
    * the inputs that do not change between frames (grid points, latent vectors, the histogram's real
      examples and noise) are built once per request, not every frame;
    * the histogram scores D on the fixed-z samples the panels already show (and a fixed set of real
      examples), so it moves only when D or G do, not with the draw of noise;
    * the 2-D field is evaluated on a grid ``field_coarse`` times coarser than ``req.field_res`` and
      interpolated (bilinearly) to it: D is piecewise linear at this scale, the panel gets the same grid.

    The functions above (:func:`samples`, :func:`field`, :func:`d_hist`, :func:`latent`) compute the same
    views one at a time (the recorder, exports); conditional models go through them too.
    """

    def __init__(self, static: StaticInfo, field_coarse: int = 2, hist_n: int = 256) -> None:
        self.static = static
        self.field_coarse = max(1, int(field_coarse))
        self.hist_n = int(hist_n)
        self._key = None
        self._fixed_z = None  # the trainer's fixed noise the inputs were built from (a checkpoint replaces it)
        self._in: dict = {}

    # -- inputs, built once per request ---------------------------------------------------------------
    def _inputs(self, trainer, req: ViewRequest) -> dict:
        key = (req.field_res, req.walk_seed, req.walk_mode, tuple(req.pick), req.n_grid, self.field_coarse,
               trainer.config.z_dim, trainer.config.noise)
        if key == self._key and trainer.fixed_z is self._fixed_z:
            return self._in
        st, dev = self.static, trainer.device
        zd = trainer.config.z_dim
        inp: dict = {}
        with torch.no_grad():
            n = req.n_grid if st.kind == "images" else 1024
            inp["samples_z"] = trainer.fixed_z[:n]
            if st.kind == "points":
                real = np.asarray(st.real, np.float32)[: self.hist_n]
                inp["real"] = trainer.to_model_space(torch.as_tensor(real, device=dev).reshape(-1, *st.shape))
            else:
                g = torch.Generator(device=dev).manual_seed(4243)
                idx = torch.randint(len(trainer.dataset.images), (self.hist_n,), generator=g, device=dev)
                inp["real"] = trainer.to_model_space(trainer.dataset.images[idx].float() / 255.0)
                inp["hist_z"] = trainer.noise(self.hist_n, g)
            if st.kind == "points" and st.dim == 1:
                g = torch.Generator(device=dev).manual_seed(12345)  # as field(): the same z every frame
                inp["pg_z"] = torch.cat([trainer.noise(min(1000, 2048 - i), g) for i in range(0, 2048, 1000)])
                inp["grid"] = torch.as_tensor(st.x_grid[:, None].astype(np.float32), device=dev)
            elif st.kind == "points" and st.dim == 2:
                lo, hi = st.bounds
                res = int(req.field_res)
                rc = max(2, -(-res // self.field_coarse))
                gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], rc), np.linspace(lo[1], hi[1], rc))
                inp["grid"] = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32), device=dev)
                inp["grid_res"] = (rc, res)
                inp["lerp"] = None if rc == res else lerp_matrix(res, rc)
                inp["xs"], inp["ys"] = np.linspace(lo[0], hi[0], res), np.linspace(lo[1], hi[1], res)
            # the latent view's vectors
            uniform = trainer.config.noise == "uniform"
            lim = math.sqrt(3) if uniform else 2.5
            if st.kind == "images":
                z0, u, v = directions(trainer, req)
                t = torch.linspace(-2, 2, 7, device=dev) if req.walk_mode != "picked" else \
                    torch.linspace(-1.5, 1.5, 7, device=dev)
                grid = (z0[None, None] + t[:, None, None] * v[None, None] + t[None, :, None] * u[None, None])
                fz = trainer.fixed_z
                a, b = (int(i) % len(fz) for i in req.pick)
                s = torch.linspace(0, 1, 10, device=dev)[:, None]
                inp["latent_z"] = torch.cat([grid.reshape(-1, zd), (1 - s) * fz[a][None] + s * fz[b][None]])
                inp["latent"] = {"n": 7, "split": 49}
            elif st.dim == 1 or zd == 1:
                zz = torch.zeros(200, zd, device=dev)
                zz[:, 0] = torch.linspace(-lim, lim, 200, device=dev)
                inp["latent_z"] = zz
                inp["latent"] = {"z": np.linspace(-lim, lim, 200, dtype=np.float32)}
            else:
                z0, u, v = directions(trainer, req)
                n_lines, n_pts = 15, 48
                a = torch.linspace(-lim, lim, n_lines, device=dev)
                b = torch.linspace(-lim, lim, n_pts, device=dev)
                rows = z0[None, None] + a[:, None, None] * v[None, None] + b[None, :, None] * u[None, None]
                cols = z0[None, None] + a[:, None, None] * u[None, None] + b[None, :, None] * v[None, None]
                inp["latent_z"] = torch.cat([rows.reshape(-1, zd), cols.reshape(-1, zd)])
                inp["latent"] = {"lines": (n_lines, n_pts), "lim": lim}
                # the same points as z0 + c_v·v + c_u·u: with a linear first layer, G's first activations
                # on the plane are W·z0 + b + c_v·(W·v) + c_u·(W·u), whatever the noise's dimension
                av, bu = torch.meshgrid(a, b, indexing="ij")
                inp["plane"] = (z0, torch.stack([v, u]),
                                torch.cat([torch.stack([av.reshape(-1), bu.reshape(-1)], 1),
                                           torch.stack([bu.reshape(-1), av.reshape(-1)], 1)]))
        self._key, self._in, self._fixed_z = key, inp, trainer.fixed_z
        return inp

    # -- one frame ------------------------------------------------------------------------------------
    def compute(self, trainer, req: ViewRequest, frame: int, names) -> dict:
        """The views among ``names`` (samples, d_hist, field, latent) for the trainer's current weights."""
        st = self.static
        field_2d = "field" in names and st.kind == "points" and st.dim == 2
        field_1d = "field" in names and st.kind == "points" and st.dim == 1
        want_samples = "samples" in names or "nn" in names or field_2d
        if trainer.conditional or (req.fresh_z and want_samples):
            return self._separately(trainer, req, frame, names)
        inp = self._inputs(trainer, req)
        g_parts: list = []  # (name, z)
        if want_samples:
            g_parts.append(("samples", inp["samples_z"]))
        if field_1d:
            g_parts.append(("pg", inp["pg_z"]))
        if "latent" in names:
            g_parts.append(("latent", inp["latent_z"]))
        hist = D_HIST in names
        hist_from = None
        if hist:  # the histogram's generated examples: ones already generated, if there are enough
            hist_from = next((k for k, z in g_parts if k in ("samples", "pg") and len(z) >= self.hist_n), None)
            if hist_from is None:
                z = inp.get("hist_z")
                if z is None:
                    z = inp["samples_z"][: self.hist_n]
                g_parts.append(("hist", z))
                hist_from = "hist"
        out: dict = {}
        G, D, loss = trainer.G, trainer.D, trainer.loss
        was_g, was_d = G.training, D.training
        G.eval()
        D.eval()
        try:
            with torch.inference_mode():
                g_out = {}
                if g_parts:
                    zs = [z for _, z in g_parts]
                    lens = [len(z) for z in zs]
                    x = None
                    if "plane" in inp and first_linear(G) is not None and trainer.config.z_dim > 16:
                        x = g_with_plane(G, g_parts, inp["plane"])
                    if x is None:
                        x = G(torch.cat(zs) if len(zs) > 1 else zs[0], None)
                    for (k, _), part in zip(g_parts, torch.split(x, lens)):
                        g_out[k] = part
                d_parts = []
                if "field" in names and "grid" in inp:
                    d_parts.append(("grid", inp["grid"]))
                if hist:
                    d_parts.append(("real", inp["real"]))
                    d_parts.append(("fake", g_out[hist_from][: self.hist_n]))
                d_out = {}
                if d_parts:
                    xs = [x for _, x in d_parts]
                    p = loss.probability(D(torch.cat(xs) if len(xs) > 1 else xs[0])).float()
                    for (k, _), part in zip(d_parts, torch.split(p, [len(x) for x in xs])):
                        d_out[k] = part.cpu().numpy()
                data = {k: trainer.to_data_space(v).float().cpu().numpy() for k, v in g_out.items()
                        if k in ("samples", "pg", "latent")}
        finally:
            G.train(was_g)
            D.train(was_d)
        if "samples" in data:
            out["samples"] = data["samples"]
        if hist:
            out[D_HIST] = (d_out["real"].reshape(-1), d_out["fake"].reshape(-1))
        if field_2d:
            rc, res = inp["grid_res"]
            d = d_out["grid"].reshape(rc, rc)
            if inp["lerp"] is not None:
                a = inp["lerp"]
                d = a @ d @ a.T
            f = {"xs": inp["xs"], "ys": inp["ys"], "d": d}
            fakes = data["samples"]
            if req.arrows and len(fakes):
                lo, hi = st.bounds
                p = np.asarray(fakes[:48], np.float32).reshape(-1, 2)
                g = d_gradient(trainer, p)
                norm = np.linalg.norm(g, axis=1, keepdims=True)
                span = float(np.max(np.asarray(hi) - np.asarray(lo)))
                f["arrows"] = (p, g * (0.06 * span / max(float(norm.max()), 1e-12)))
            out["field"] = f
        elif field_1d:
            x = st.x_grid
            gen = data["pg"].reshape(-1)
            out["field"] = {"x": x, "d": d_out["grid"].reshape(-1), "p_g": kde_1d(gen, x), "fakes": gen[:300]}
        if "latent" in data:
            lat, info = data["latent"], inp["latent"]
            if st.kind == "images":
                out["latent"] = {"grid": lat[: info["split"]], "n": info["n"], "interp": lat[info["split"]:]}
            elif "z" in info:
                out["latent"] = {"z": info["z"], "x": lat.reshape(len(info["z"]), -1)}
            else:
                n_lines, n_pts = info["lines"]
                x = lat.reshape(2, n_lines, n_pts, -1)[..., :2]
                out["latent"] = {"rows": x[0], "cols": x[1], "lim": info["lim"]}
        return out

    def _separately(self, trainer, req: ViewRequest, frame: int, names) -> dict:
        st = self.static
        out: dict = {}
        fakes = None
        if "samples" in names or "field" in names or "nn" in names:
            fakes = samples(trainer, req, frame)
            out["samples"] = fakes
        if D_HIST in names:
            out[D_HIST] = d_hist(trainer, self.hist_n)
        if "field" in names and st.kind == "points" and st.dim <= 2:
            out["field"] = field(trainer, st, req, fakes)
        if "latent" in names:
            out["latent"] = latent(trainer, st, req)
        return out


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
        d = d_on(trainer, pts.astype(np.float32)).reshape(res, res)
        d_star = th.pop("d_star")
        th.pop("p_g")
        maps = {"xs": xs, "ys": ys, "d_star": d_star, "diff": d - d_star}
    else:
        th = {}
    if static.sigmoid and static.dim <= 2:
        r, f = d_outputs(trainer, 1024)
        th["v"] = theory.value_of_game(r, f)
    scalars.update({k: float(v) for k, v in th.items()})
    return {"scalars": scalars, "theory": maps}
