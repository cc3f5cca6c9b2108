"""What :func:`gan_studio.watch` needs to know of a user's own loop: its real data (whatever form they come in)
and the pictures a run folder's snapshot holds (samples from a fixed z, D's field and histogram), computed from
the user's G and D — not from a :class:`~gan_studio.core.train.trainer.Trainer`."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from ..views.viewspec import D_HIST, StaticInfo

#: real examples kept for the field's scatter and the histogram (points), and for the doctor's image reference
N_REAL_POINTS = 1024
N_REAL_IMAGES = 2000
FIELD_RES = 48
HIST_N = 256


class WatchError(ConfigError):
    """What ``gan_studio.watch`` was given cannot be watched; the message says why."""


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, (tuple, list)) and x and not isinstance(x[0], (int, float)):
        x = x[0]  # (examples, labels), as a Dataset or a DataLoader gives them
    if isinstance(x, dict):
        raise WatchError("real: a batch must be a tensor or an array (or a tuple starting with one), not a dict")
    try:
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise WatchError(f"real: not a tensor or array of examples ({exc})") from None
    return t.detach()


def real_examples(real, n: int) -> torch.Tensor:
    """Up to ``n`` real examples (on the CPU, as float) from a tensor/array, a Dataset, a DataLoader or any
    iterable of batches, or a callable returning a batch. The caller's random streams are left as they were."""
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            if isinstance(real, (torch.Tensor, np.ndarray)):
                x = _as_tensor(real)
                if len(x) > n:
                    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(4242))[:n]
                    x = x[idx]
            elif hasattr(real, "__len__") and hasattr(real, "__getitem__"):
                m = len(real)
                if m == 0:
                    raise WatchError("real: the dataset is empty")
                idx = torch.randperm(m, generator=torch.Generator().manual_seed(4242))[:n].tolist()
                x = torch.stack([_as_tensor(real[i]) for i in idx])
            elif callable(real):
                parts, got = [], 0
                while got < n and len(parts) < 64:
                    b = _as_tensor(real())
                    parts.append(b)
                    got += len(b)
                x = torch.cat(parts)[:n]
            elif hasattr(real, "__iter__"):
                parts, got = [], 0
                for b in real:
                    parts.append(_as_tensor(b))
                    got += len(parts[-1])
                    if got >= n or len(parts) >= 64:
                        break
                if not parts:
                    raise WatchError("real: the iterable gave no batches")
                x = torch.cat(parts)[:n]
            else:
                raise WatchError(f"real: expected a tensor, an array, a Dataset, a DataLoader or a function "
                                 f"returning a batch, got {type(real).__name__}")
        finally:
            np.random.set_state(np_state)
    if x.ndim < 2 or len(x) == 0:
        raise WatchError(f"real: expected a batch of examples (N×d points or N×C×H×W images), got shape "
                         f"{tuple(x.shape)}")
    if x.ndim == 3:  # N×H×W: one channel
        x = x[:, None]
    if x.ndim not in (2, 4):
        raise WatchError(f"real: expected N×d points or N×C×H×W images, got shape {tuple(x.shape)}")
    x = x.float().cpu()
    if not torch.isfinite(x).all():
        raise WatchError("real: the examples hold NaN or infinite values")
    return x


def value_range(x: torch.Tensor, given=None) -> tuple[float, float]:
    """The images' value range: given, or [-1, 1], [0, 1] or [0, 255] as the data suggest."""
    if given is not None:
        lo, hi = (float(v) for v in given)
        if not hi > lo:
            raise WatchError(f"value_range: expected (low, high) with high > low, got {given!r}")
        return lo, hi
    lo, hi = float(x.min()), float(x.max())
    if lo < -0.01:
        return -1.0, 1.0
    return (0.0, 1.0) if hi <= 1.01 else (0.0, 255.0)


def static_info(real: torch.Tensor, name: str, description: str, loss, centers=None, sigma=None) -> StaticInfo:
    """What does not change in a watched run (the same :class:`StaticInfo` a trainer's run folder holds)."""
    from ..views.views import kde_1d

    common = dict(name=name, description=description, sigmoid=bool(loss.sigmoid),
                  d_equilibrium=float(loss.d_equilibrium), g_equilibrium=float(loss.g_equilibrium), loss=loss.name)
    if real.ndim == 4:
        shape = tuple(int(s) for s in real.shape[1:])
        return StaticInfo(kind="images", dim=int(np.prod(shape)), shape=shape, **common)
    pts = real.numpy().astype(np.float32)
    d = pts.shape[1]
    c = None if centers is None else np.asarray(centers, np.float64).reshape(-1, d)
    both = pts if c is None else np.concatenate([pts, c.astype(np.float32)])
    lo, hi = both.min(0).astype(np.float64), both.max(0).astype(np.float64)
    pad = 0.15 * float((hi - lo).max()) + 1e-3
    lo, hi = lo - pad, hi + pad
    x_grid = p_data = None
    if d == 1:
        x_grid = np.linspace(lo[0], hi[0], 400)
        p_data = kde_1d(pts[:, 0], x_grid)
    return StaticInfo(kind="points", dim=d, shape=(d,), bounds=(lo, hi), real=pts[:N_REAL_POINTS], centers=c,
                      sigma=None if sigma is None else float(sigma), x_grid=x_grid, p_data=p_data, **common)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DistributedDataParallel/DataParallel or ``torch.compile`` wrapper."""
    for _ in range(4):
        inner = getattr(model, "_orig_mod", None) or (getattr(model, "module", None)
                                                     if type(model).__name__ in ("DistributedDataParallel",
                                                                                 "DataParallel") else None)
        if inner is None:
            return model
        model = inner
    return model


class SnapshotViews:
    """The pictures of one snapshot from (a copy of) the user's G and D: samples from a fixed z, D's histogram on
    fixed real and generated examples, and for 1-D/2-D points D's field (with gradient arrows in 2-D)."""

    def __init__(self, static: StaticInfo, fixed_z: torch.Tensor, real_model: torch.Tensor, probability,
                 to_unit=None) -> None:
        self.static = static
        self.fixed_z = fixed_z
        self.real = real_model[:HIST_N]
        self.probability = probability
        self.to_unit = to_unit  # images: model space → [0, 1]
        self._grid = None

    def _d(self, D, x: torch.Tensor) -> torch.Tensor:
        return self.probability(D(x).float()).reshape(len(x), -1).mean(1)

    def compute(self, G, D) -> dict:
        st = self.static
        was_g, was_d = G.training, D.training
        G.eval()
        D.eval()
        try:
            with torch.no_grad():
                fake = G(self.fixed_z)
                out: dict = {}
                hist_real = self._d(D, self.real).cpu().numpy()
                hist_fake = self._d(D, fake[:HIST_N]).cpu().numpy()
                out[D_HIST] = (hist_real, hist_fake)
                if st.kind == "images":
                    out["samples"] = self.to_unit(fake.float()).reshape(len(fake), *st.shape).cpu().numpy()
                    return out
                pts = fake.float().reshape(len(fake), -1).cpu().numpy()
                out["samples"] = pts
                dev = self.fixed_z.device
                lo, hi = st.bounds
                if st.dim == 1:
                    from ..views.views import kde_1d

                    x = st.x_grid
                    d = self._d(D, torch.as_tensor(x[:, None], dtype=torch.float32, device=dev)).cpu().numpy()
                    out["field"] = {"x": x, "d": d, "p_g": kde_1d(pts[:, 0], x), "fakes": pts[:300, 0]}
                elif st.dim == 2:
                    xs, ys = np.linspace(lo[0], hi[0], FIELD_RES), np.linspace(lo[1], hi[1], FIELD_RES)
                    if self._grid is None:
                        gx, gy = np.meshgrid(xs, ys)
                        self._grid = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32,
                                                     device=dev)
                    d = self._d(D, self._grid).cpu().numpy().reshape(FIELD_RES, FIELD_RES)
                    out["field"] = {"xs": xs, "ys": ys, "d": d}
            if st.kind == "points" and st.dim == 2:
                p = torch.as_tensor(pts[:48], device=dev).requires_grad_(True)
                with torch.enable_grad():
                    (g,) = torch.autograd.grad(self._d(D, p).sum(), p)
                g = g.cpu().numpy()
                norm = float(np.linalg.norm(g, axis=1).max()) if len(g) else 0.0
                span = float(np.max(np.asarray(hi) - np.asarray(lo)))
                out["field"]["arrows"] = (pts[:48], g * (0.06 * span / max(norm, 1e-12)))
            return out
        finally:
            G.train(was_g)
            D.train(was_d)


__all__ = ["WatchError", "SnapshotViews", "real_examples", "static_info", "unwrap", "value_range"]
