"""The latent view: G over a plane of its noise space (a centre z0 and two directions), as a warped grid for
points or an image grid, and the shortcut that adds the plane to G's first linear layer once."""
from __future__ import annotations

import math

import numpy as np
import torch

from .viewspec import StaticInfo, ViewRequest


def directions(trainer, req: ViewRequest) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
        z0, u, v = directions(trainer, req)
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
    z0, u, v = directions(trainer, req)
    n_lines, n_pts = 15, 48
    a = torch.linspace(-lim, lim, n_lines, device=trainer.device)
    b = torch.linspace(-lim, lim, n_pts, device=trainer.device)
    rows = z0[None, None] + a[:, None, None] * v[None, None] + b[None, :, None] * u[None, None]  # lines of const v
    cols = z0[None, None] + a[:, None, None] * u[None, None] + b[None, :, None] * v[None, None]  # lines of const u
    zz = torch.cat([rows.reshape(-1, zd), cols.reshape(-1, zd)]).cpu().numpy()
    x = trainer.g_on(zz).reshape(2, n_lines, n_pts, -1)[..., :2]
    return {"rows": x[0], "cols": x[1], "lim": lim}


def lerp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Linear interpolation from ``n_in`` evenly spaced values to ``n_out`` over the same span, as a matrix."""
    t = np.linspace(0.0, n_in - 1, n_out)
    j = np.minimum(np.floor(t).astype(int), n_in - 2)
    w = (t - j).astype(np.float32)
    a = np.zeros((n_out, n_in), np.float32)
    a[np.arange(n_out), j] = 1 - w
    a[np.arange(n_out), j + 1] = w
    return a


def first_linear(G):
    """G's first layer when G is the plain generator of an MLP (body = Linear, …), else None."""
    from ..train.models import Generator

    body = getattr(G, "body", None)
    if (type(G).forward is Generator.forward and not G.n_classes and isinstance(body, torch.nn.Sequential)
            and len(body) > 1 and isinstance(body[0], torch.nn.Linear)):
        return body[0]
    return None


def g_with_plane(G, parts: list, plane: tuple) -> torch.Tensor:
    """G on the concatenated ``parts`` (name, z), the part named "latent" being a plane of z (see
    LiveViews._inputs): its first layer as z0's activations plus a combination of two directions'."""
    lin = first_linear(G)
    z0, dirs, coef = plane
    hs = []
    for k, z in parts:
        if k == "latent":
            base = lin(z0[None])  # W·z0 + b
            hs.append(torch.addmm(base, coef, torch.nn.functional.linear(dirs, lin.weight)))
        else:
            hs.append(lin(z))
    out = G.body[1:](torch.cat(hs) if len(hs) > 1 else hs[0])
    return out.view(out.shape[0], *G.out_shape)
