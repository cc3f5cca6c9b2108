"""Datasets by name: the registry (:data:`DATASETS`) and :func:`build_dataset`, which checks a dataset's
arguments against the settings table first. The datasets themselves are in :mod:`.data` (points, images, the
drawn points)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .config import ConfigError, check_dataset_args
from .data.images import cifar10, digits, image_folder, mnist_like
from .data.points import bimodal1d, drawn, grid, moons, points_file, ring, spiral
from .data.shape import DatasetError


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str
    summary: str
    build: Callable


DATASETS: dict[str, DatasetSpec] = {
    "ring8": DatasetSpec("ring8", "points", "8 Gaussians on a circle (the embedded default)",
                         lambda n_modes=8, radius=2.0, sigma=0.05: ring(n_modes, radius, sigma)),
    "grid25": DatasetSpec("grid25", "points", "5×5 grid of Gaussians",
                          lambda n=5, spacing=2.0, sigma=0.05: grid(n, spacing, sigma)),
    "bimodal1d": DatasetSpec("bimodal1d", "points", "1-D two-Gaussian mixture (the paper's Figure 1)",
                             lambda means=(-2.0, 2.0), sigma=0.5: bimodal1d(means, sigma)),
    "spiral": DatasetSpec("spiral", "points", "a noisy 2-D spiral",
                          lambda turns=1.5, noise=0.05, scale=2.0: spiral(turns, noise, scale)),
    "moons": DatasetSpec("moons", "points", "two interleaving half circles",
                         lambda noise=0.05: moons(noise)),
    "points": DatasetSpec("points", "points", "your own N×d points from a .npy, .csv or .txt file",
                          lambda path=None: points_file(path) if path else _need("points", "path")),
    "drawn": DatasetSpec("drawn", "points", "points drawn by hand in the studio's drawing mode",
                         lambda points=None: drawn(points)),
    "digits": DatasetSpec("digits", "images", "scikit-learn's 8×8 digits, bundled, no download",
                          lambda: digits()),
    "mnist": DatasetSpec("mnist", "images", "MNIST 28×28 (torchvision; from the data root, or --download)",
                         lambda **kw: mnist_like("mnist", **kw)),
    "fashion-mnist": DatasetSpec("fashion-mnist", "images", "Fashion-MNIST 28×28 (torchvision)",
                                 lambda **kw: mnist_like("fashion-mnist", **kw)),
    "cifar10": DatasetSpec("cifar10", "images", "CIFAR-10 32×32 colour (torchvision)",
                           lambda **kw: cifar10(**kw)),
    "image-folder": DatasetSpec("image-folder", "images", "any folder of images, resized to a square",
                                lambda path=None, **kw: image_folder(path, **kw) if path else _need("image-folder", "path")),
}


def _need(name: str, arg: str):
    raise DatasetError(f"dataset {name!r} needs the argument {arg!r} (e.g. --dataset-arg {arg}=...)")


def build_dataset(name: str, args: dict | None = None):
    """Dataset ``name`` built with ``args``, which are checked against their types and ranges first
    (:data:`~gan_studio.core.train.config.DATASET_ARGS`)."""
    spec = DATASETS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    try:
        args = check_dataset_args(name, args)
    except ConfigError as exc:
        raise DatasetError(str(exc)) from None
    try:
        return spec.build(**args)
    except TypeError as exc:
        raise DatasetError(f"dataset {name!r}: bad argument ({exc})") from None
