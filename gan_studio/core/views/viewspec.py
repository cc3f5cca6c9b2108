"""What the studio asks the training thread for, and what a run's data look like (no torch needed)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

#: The view names the studio can ask for (each declared here once; everything else imports them).
SAMPLES, NN, D_HIST, FIELD, LATENT, METRICS = "samples", "nn", "d_hist", "field", "latent", "metrics"
VIEW_NAMES = (SAMPLES, NN, D_HIST, FIELD, LATENT, METRICS)
#: The studio's panels (the View menu's toggles, a recipe's ``view.panels``): four show a view of the same name,
#: the losses draw the statistics, the evaluation the metrics.
LOSSES, EVALUATION = "losses", "evaluation"
PANEL_KEYS = (FIELD, SAMPLES, LATENT, LOSSES, D_HIST, EVALUATION)


@dataclass(frozen=True)
class ViewRequest:
    """Which views are wanted (panels that are visible) and their options."""

    names: frozenset = frozenset()
    fresh_z: bool = False  # samples from fresh noise instead of the fixed z
    arrows: bool = True  # gradient arrows on the fakes (2-D field)
    field_res: int = 48  # D heatmap resolution (2-D)
    walk_seed: int = 0  # random latent directions for the latent walk
    pick: tuple = (0, 1)  # indices into the fixed z of the two picked samples (interpolation, walk plane)
    walk_mode: str = "random"  # "random" directions, or the plane through the two "picked" samples
    n_grid: int = 64  # sample grid size (images)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.names) - set(VIEW_NAMES))
        if unknown:
            raise ValueError(f"unknown view(s) {', '.join(map(repr, unknown))} (the views: {', '.join(VIEW_NAMES)})")


@dataclass(frozen=True)
class StaticInfo:
    """What does not change during a run: the data's kind, bounds and known density."""

    kind: str  # "points" or "images"
    dim: int
    shape: tuple
    name: str
    description: str
    bounds: tuple | None = None  # (lo, hi) arrays for points
    real: np.ndarray | None = None  # real points for scatter plots
    centers: np.ndarray | None = None
    sigma: float | None = None
    x_grid: np.ndarray | None = None  # 1-D: evaluation grid
    p_data: np.ndarray | None = None  # 1-D: known density on x_grid
    n_classes: int = 0
    sigmoid: bool = True  # D's output is a probability (else a critic score)
    d_equilibrium: float = 0.0
    g_equilibrium: float = 0.0
    loss: str = ""
    extra: dict = field(default_factory=dict)

    # -- points of more than 2 dimensions: shown on the real data's first two principal axes -------------
    @cached_property
    def plane(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean, axes 2×d) of the real points when they have more than 2 dimensions, else None."""
        if self.kind != "points" or self.dim <= 2 or self.real is None or len(self.real) < 2:
            return None
        return principal_plane(self.real)

    def to_plane(self, x) -> np.ndarray:
        """Points as they are drawn: N×2 (their first two principal coordinates when d > 2), N×1 for 1-D."""
        x = np.asarray(x, np.float64)
        # (no points at all, as a damaged snapshot may hold: none drawn, in the data's dimensions)
        x = x.reshape(len(x), -1) if x.size else np.zeros((0, max(1, int(self.dim))))
        pl = self.plane
        return x if pl is None else (x - pl[0]) @ pl[1].T

    @cached_property
    def plane_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The drawn box: ``bounds`` for 1-D and 2-D points; for more dimensions, one around the projected real
        points with the same margin as the data's own box."""
        if self.plane is None:
            return self.bounds
        p = self.to_plane(self.real)
        p = p[np.isfinite(p).all(1)]
        lo, hi = p.min(0), p.max(0)
        pad = 0.15 * float((hi - lo).max()) + 1e-3
        return lo - pad, hi + pad


def principal_plane(points) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the first two principal axes (2×d, unit length) of N×d points; each axis's sign is fixed
    (its largest component positive), so samples of the same data give the same picture."""
    x = np.asarray(points, np.float64).reshape(len(points), -1)
    x = x[np.isfinite(x).all(1)]
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = vt[:2].copy()
    if len(axes) < 2:  # fewer than 2 distinct directions: any second axis orthogonal to the first
        axes = np.eye(x.shape[1])[:2]
    axes *= np.where(axes[np.arange(2), np.abs(axes).argmax(1)] < 0, -1.0, 1.0)[:, None]
    return mean, axes
