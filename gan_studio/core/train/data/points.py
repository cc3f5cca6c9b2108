"""Point datasets: low-dimensional points (1-D, 2-D). Mixtures are sampled exactly and endlessly from their
density (``ring8``, ``grid25``, ``bimodal1d``) and expose their mode centres and σ for the mode metrics and for
the optimal discriminator D* = p_data / (p_data + p_g); the user's points come from a file or a drawing.
Every dataset samples with a caller-given ``torch.Generator``, so seeded runs are reproducible and a checkpoint
can restore the exact position of the data stream."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .shape import DatasetError


class PointDataset:
    kind = "points"
    n_classes = None

    def __init__(self, name: str, dim: int, description: str) -> None:
        self.name = name
        self.dim = dim
        self.description = description
        self.shape = (dim,)
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> "PointDataset":
        self.device = torch.device(device)
        return self

    # A mixture of Gaussians has modes; other point sets return None.
    centers: np.ndarray | None = None
    sigma: float | None = None

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, None]:
        raise NotImplementedError

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """A box that holds nearly all the data, with a margin (for plots and grids)."""
        x, _ = self.sample(4096, torch.Generator(device=self.device).manual_seed(1234))
        x = x.cpu().numpy()
        lo, hi = x.min(0), x.max(0)
        pad = 0.15 * (hi - lo).max() + 1e-3
        return lo - pad, hi + pad

    def log_density(self, x: np.ndarray) -> np.ndarray | None:
        """log p_data(x) where the density is known in closed form, else None."""
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class GaussianMixture(PointDataset):
    """Equal-weight isotropic Gaussian mixture with given centres and a shared σ."""

    def __init__(self, name: str, centers: np.ndarray, sigma: float, description: str) -> None:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim == 1:
            centers = centers[:, None]
        super().__init__(name, centers.shape[1], description)
        if not (sigma > 0 and math.isfinite(sigma)):
            raise DatasetError(f"{name}: sigma must be a positive number, got {sigma}")
        self.centers = centers
        self.sigma = float(sigma)
        self._centers_t = torch.as_tensor(centers, dtype=torch.float32)

    def to(self, device):
        super().to(device)
        self._centers_t = self._centers_t.to(self.device)
        return self

    def sample(self, n, gen):
        idx = torch.randint(len(self.centers), (n,), generator=gen, device=self.device)
        noise = torch.randn(n, self.dim, generator=gen, device=self.device)
        return self._centers_t[idx] + self.sigma * noise, None

    def bounds(self):
        lo = self.centers.min(0) - 4 * self.sigma
        hi = self.centers.max(0) + 4 * self.sigma
        pad = 0.25 * max(float((hi - lo).max()), 1e-3)
        return lo - pad, hi + pad

    def log_density(self, x):
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.dim)
        d2 = ((x[:, None, :] - self.centers[None]) ** 2).sum(-1)
        s2 = self.sigma ** 2
        log_comp = -d2 / (2 * s2) - 0.5 * self.dim * math.log(2 * math.pi * s2)
        m = log_comp.max(1, keepdims=True)
        return (m[:, 0] + np.log(np.exp(log_comp - m).mean(1)))


class FunctionPoints(PointDataset):
    """Points from a sampling function f(n, gen, device) -> tensor."""

    def __init__(self, name, dim, fn: Callable, description):
        super().__init__(name, dim, description)
        self._fn = fn

    def sample(self, n, gen):
        return self._fn(n, gen, self.device), None


class ArrayPoints(PointDataset):
    """A user-given N×d array of points, sampled uniformly with replacement."""

    def __init__(self, array: np.ndarray, name: str = "points") -> None:
        a = np.asarray(array)
        if a.dtype.kind not in "biuf":  # complex (the imaginary part would be dropped), dates, text, objects
            raise DatasetError(f"points: expected real numbers, got an array of {a.dtype}")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
            raise DatasetError(f"points: expected an N×d array with N ≥ 2, got shape {a.shape}")
        if a.size > 200_000_000:
            raise DatasetError(f"points: too many values ({a.size:,})")
        # finite *after* the cast to float32: 1e300 is a finite float64 but becomes inf
        with np.errstate(over="ignore", invalid="ignore"):
            a32 = a.astype(np.float32)
        if not np.isfinite(a32).all():
            bad = "NaN or infinite values" if not np.isfinite(a).all() else "values beyond float32's range (±3.4e38)"
            raise DatasetError(f"points: the array must hold finite numbers only; it has {bad}")
        super().__init__(name, a.shape[1], f"{a.shape[0]} user-given points in {a.shape[1]}-D")
        self.array = torch.from_numpy(np.ascontiguousarray(a32))

    def to(self, device):
        super().to(device)
        self.array = self.array.to(self.device)
        return self

    def sample(self, n, gen):
        idx = torch.randint(len(self.array), (n,), generator=gen, device=self.device)
        return self.array[idx], None


def ring(n_modes: int = 8, radius: float = 2.0, sigma: float = 0.05) -> GaussianMixture:
    if int(n_modes) < 1:
        raise DatasetError("ring: n_modes must be at least 1")
    if not radius > 0:
        raise DatasetError("ring: radius must be positive")
    t = 2 * np.pi * np.arange(int(n_modes)) / int(n_modes)
    c = radius * np.stack([np.cos(t), np.sin(t)], 1)
    return GaussianMixture("ring8", c, sigma, f"{n_modes} Gaussians (σ={sigma}) on a circle of radius {radius}")


def grid(n: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> GaussianMixture:
    if int(n) < 1:
        raise DatasetError("grid: n must be at least 1")
    if not spacing > 0:
        raise DatasetError("grid: spacing must be positive")
    ax = (np.arange(int(n)) - (int(n) - 1) / 2) * spacing
    c = np.stack(np.meshgrid(ax, ax, indexing="ij"), -1).reshape(-1, 2)
    return GaussianMixture("grid25", c, sigma, f"{n}×{n} Gaussians (σ={sigma}) spaced {spacing} apart")


def bimodal1d(means=(-2.0, 2.0), sigma: float = 0.5) -> GaussianMixture:
    m = np.asarray(means, dtype=np.float64).reshape(-1, 1)
    return GaussianMixture("bimodal1d", m, sigma, f"1-D mixture of {len(m)} Gaussians (σ={sigma})")


def spiral(turns: float = 1.5, noise: float = 0.05, scale: float = 2.0) -> FunctionPoints:
    def fn(n, gen, device):
        t = torch.rand(n, generator=gen, device=device)
        ang = 2 * math.pi * turns * t
        r = scale * (0.15 + 0.85 * t)
        x = torch.stack([r * torch.cos(ang), r * torch.sin(ang)], 1)
        return x + noise * torch.randn(n, 2, generator=gen, device=device)

    return FunctionPoints("spiral", 2, fn, f"a {turns}-turn spiral with noise {noise}")


def moons(noise: float = 0.05) -> FunctionPoints:
    def fn(n, gen, device):
        t = math.pi * torch.rand(n, generator=gen, device=device)
        upper = torch.rand(n, generator=gen, device=device) < 0.5
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.5
        return pts + noise * torch.randn(n, 2, generator=gen, device=device)

    return FunctionPoints("moons", 2, fn, f"two interleaving moons with noise {noise}")


def points_file(path: str) -> ArrayPoints:
    from .points_io import read_points_array

    return ArrayPoints(read_points_array(path, DatasetError, "points"), name="points")


def drawn(points: str | None = None) -> ArrayPoints:
    """Points drawn in the studio's drawing mode (``points``: their text form, see :mod:`.drawing`)."""
    from .drawing import decode_points

    if points is None:
        raise DatasetError("dataset 'drawn' has no points: draw them in the studio (Run → Draw your own data…); "
                           "a drawn run's configuration carries its points")
    a = decode_points(points)
    ds = ArrayPoints(a, name="drawn")
    ds.description = f"{len(a):,} points drawn by hand"
    return ds
