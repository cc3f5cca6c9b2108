"""What the studio asks the training thread for, and what a run's data look like (no torch needed)."""
from __future__ import annotations

from dataclasses import dataclass, field

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
