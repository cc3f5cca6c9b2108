"""Datasets by name.

Two kinds:

* :class:`PointDataset` — low-dimensional points (1-D, 2-D).  Mixtures are sampled exactly and
  endlessly from their density (``ring8``, ``grid25``, ``bimodal1d``) and expose their mode centres and
  σ for the mode metrics and for the optimal discriminator D* = p_data / (p_data + p_g).
* :class:`ImageDataset` — images held in memory as uint8 N×C×H×W (values scaled to [0, 1] per batch),
  with optional integer labels.

Every dataset samples with a caller-given ``torch.Generator`` so seeded runs are reproducible and a
checkpoint can restore the exact position of the data stream.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .config import ConfigError, check_dataset_args


class DatasetError(ConfigError):
    """A dataset cannot be built or found; the message says what is expected where."""


# ---------------------------------------------------------------------------------------------
# Points
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------
class ImageDataset:
    """Images held in memory as uint8 N×C×H×W; batches come out as float in [0, 1]."""

    kind = "images"
    centers = None
    sigma = None

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor | None,
                 description: str, class_names: list[str] | None = None) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise DatasetError(f"{name}: images must be uint8 N×C×H×W")
        if len(images) < 2:
            raise DatasetError(f"{name}: need at least 2 images, found {len(images)}")
        self.name = name
        self.images = images.contiguous()
        self.labels = None if labels is None else labels.long()
        self.n_classes = None if labels is None else int(self.labels.max().item()) + 1
        self.class_names = class_names
        self.description = description
        self.shape = tuple(images.shape[1:])
        self.dim = int(np.prod(self.shape))
        self.device = torch.device("cpu")
        self._perm: torch.Tensor | None = None
        self._pos = 0

    def __len__(self) -> int:
        return len(self.images)

    def to(self, device):
        self.device = torch.device(device)
        self.images = self.images.to(self.device)
        if self.labels is not None:
            self.labels = self.labels.to(self.device)
        return self

    def sample(self, n: int, gen: torch.Generator):
        """The next n examples of a shuffled pass over the data (a new shuffle each epoch)."""
        N = len(self.images)
        out = []
        need = n
        while need > 0:
            if self._perm is None or self._pos >= N:
                self._perm = torch.randperm(N, generator=gen, device=self.device)
                self._pos = 0
            take = min(need, N - self._pos)
            out.append(self._perm[self._pos:self._pos + take])
            self._pos += take
            need -= take
        idx = out[0] if len(out) == 1 else torch.cat(out)
        x = self.images[idx].float().div_(255.0)
        y = None if self.labels is None else self.labels[idx]
        return x, y

    def state_dict(self) -> dict:
        return {"perm": None if self._perm is None else self._perm.cpu(), "pos": int(self._pos)}

    def load_state_dict(self, state: dict) -> None:
        perm = state.get("perm")
        self._perm = None if perm is None else perm.to(self.device)
        self._pos = int(state.get("pos", 0))


def default_data_root() -> Path:
    """Where downloadable datasets live: ``$GAN_STUDIO_DATA``; else ``$GAN_STUDIO_CACHE/datasets``; else
    ``~/.cache/gan-studio/datasets`` (``$XDG_CACHE_HOME`` replacing ``~/.cache``)."""
    env = os.environ.get("GAN_STUDIO_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("GAN_STUDIO_CACHE")
    if cache:
        return Path(cache).expanduser() / "datasets"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gan-studio" / "datasets"


def _first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception as one short line (torchvision's and PIL's messages span several)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if len(data) < 4:
        raise DatasetError(f"{path} is not an IDX file (too short)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file")
    if len(data) < 4 + 4 * ndim:
        raise DatasetError(f"{path} is truncated: its header is incomplete")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != math.prod(dims):
        raise DatasetError(f"{path} is truncated: expected {math.prod(dims)} values, found {body.size}")
    return body.reshape(dims)


_MNIST_LIKE = {
    "mnist": ("MNIST", "torchvision.datasets.MNIST"),
    "fashion-mnist": ("FashionMNIST", "torchvision.datasets.FashionMNIST"),
}


def _find(raw: Path, stem: str) -> Path | None:
    for cand in (raw / stem, raw / (stem + ".gz")):
        if cand.is_file():
            return cand
    return None


def _download_torchvision(cls_name: str, root: Path, train: bool) -> None:
    import socket

    import torchvision.datasets as tvd

    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        getattr(tvd, cls_name)(root=str(root), train=train, download=True)
    finally:
        socket.setdefaulttimeout(old)


def mnist_like(name: str, split: str = "train", root: str | None = None, download: bool = False,
               start: int = 0, stop: int | None = None) -> ImageDataset:
    """MNIST or Fashion-MNIST from the torchvision folder layout (``ROOT/MNIST/raw/*-idx*-ubyte[.gz]``).

    ``start``/``stop`` select a slice (the paper trains on train[0:50000] and validates on the rest).
    """
    folder, _ = _MNIST_LIKE[name]
    if split not in ("train", "test"):
        raise DatasetError(f"{name}: split must be 'train' or 'test', got {split!r}")
    root_p = Path(root).expanduser() if root else default_data_root()
    raw = root_p / folder / "raw"
    prefix = "train" if split == "train" else "t10k"
    img_stem, lab_stem = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    img_p, lab_p = _find(raw, img_stem), _find(raw, lab_stem)
    if (img_p is None or lab_p is None) and download:
        try:
            _download_torchvision(folder, root_p, split == "train")
        except Exception as exc:  # noqa: BLE001 - offline, refused, disk full: all become one message
            reason = f"download failed: {type(exc).__name__}: {_first_line(exc, 120)}"
        else:
            reason = "download did not produce the files"
        img_p, lab_p = _find(raw, img_stem), _find(raw, lab_stem)
    else:
        reason = "download not asked for: gan-studio train --download"
    if img_p is None or lab_p is None:
        raise DatasetError(
            f"{name} ({split}) not found: expected {img_stem}[.gz] and {lab_stem}[.gz] in {raw} "
            f"({reason}). Copy the files there, or point --data-root / GAN_STUDIO_DATA at a folder "
            f"holding {folder}/raw/.")
    imgs = _read_idx(img_p)
    labs = _read_idx(lab_p)
    if imgs.ndim != 3 or labs.ndim != 1 or len(imgs) != len(labs):
        raise DatasetError(f"{name}: image and label files in {raw} do not match")
    imgs, labs = imgs[start:stop], labs[start:stop]
    return ImageDataset(name, torch.from_numpy(imgs.copy()).unsqueeze(1), torch.from_numpy(labs.astype(np.int64)),
                        f"{name} {split}[{start}:{stop if stop is not None else ''}] — {len(imgs)} images 28×28")


def cifar10(split: str = "train", root: str | None = None, download: bool = False) -> ImageDataset:
    root_p = Path(root).expanduser() if root else default_data_root()
    folder = root_p / "cifar-10-batches-py"
    import torchvision.datasets as tvd

    try:
        ds = tvd.CIFAR10(root=str(root_p), train=split == "train", download=False)
    except (RuntimeError, OSError, ValueError, EOFError) as exc:
        if not isinstance(exc, RuntimeError):  # present but unreadable (truncated, damaged)
            raise DatasetError(f"cifar10: cannot read the batches in {folder} ({_first_line(exc, 120)})") from None
        if not download:
            raise DatasetError(f"cifar10 not found in {folder} (download not asked for: "
                               f"gan-studio train --download). Copy the python "
                               f"batches there, or point --data-root / GAN_STUDIO_DATA at their folder.") from None
        try:
            old = __import__("socket").getdefaulttimeout()
            __import__("socket").setdefaulttimeout(20)
            try:
                ds = tvd.CIFAR10(root=str(root_p), train=split == "train", download=True)
            finally:
                __import__("socket").setdefaulttimeout(old)
        except Exception as exc:  # noqa: BLE001
            raise DatasetError(f"cifar10 not found in {folder} and download failed ({type(exc).__name__}: "
                               f"{_first_line(exc, 120)}). Copy cifar-10-python's batches there or set "
                               f"GAN_STUDIO_DATA.") from None
    imgs = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
    labs = torch.as_tensor(ds.targets)
    return ImageDataset("cifar10", imgs, labs, f"CIFAR-10 {split} — {len(imgs)} images 32×32×3", ds.classes)


def digits() -> ImageDataset:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = np.rint(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[:, None]
    return ImageDataset("digits", torch.from_numpy(imgs), torch.from_numpy(d.target.astype(np.int64)),
                        "scikit-learn's 8×8 digits — 1,797 images, bundled (no download)")


#: Images larger than this (in pixels) are skipped, not decoded: a 20000×20000 PNG of a few kilobytes would
#: take more than a gigabyte (PIL itself refuses only beyond ~179 million pixels).
MAX_IMAGE_PIXELS = 8192 * 8192


def _read_image(f: Path, mode: str, size: int) -> np.ndarray | None:
    """One image as uint8 H×W(×3), centre-cropped to a square and resized; None if it cannot be read or is
    too large (a decompression bomb, a text chunk over PIL's limit, a truncated or foreign file)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # skip it, do not print it
            with Image.open(f) as im:
                w, h = im.size
                if w < 1 or h < 1 or w * h > MAX_IMAGE_PIXELS:
                    return None
                im = im.convert(mode)
                s = min(w, h)  # centre crop to a square, then resize
                im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
                im = im.resize((size, size), Image.BILINEAR)
                return np.asarray(im, dtype=np.uint8)
    except (Exception, Image.DecompressionBombWarning):  # noqa: BLE001 - PIL raises many kinds
        return None


def image_folder(path: str, size: int = 32, grayscale: bool = False, limit: int = 50000) -> ImageDataset:
    p = Path(path).expanduser()
    if not p.is_dir():
        raise DatasetError(f"image-folder: no such folder: {p}")
    if not (4 <= int(size) <= 256):
        raise DatasetError("image-folder: size must be between 4 and 256 pixels")
    exts = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
    try:
        files = sorted(f for f in p.rglob("*") if f.suffix.lower() in exts and f.is_file())[:limit]
    except OSError as exc:
        raise DatasetError(f"image-folder: cannot list {p}: {exc.strerror or exc}") from None
    mode = "L" if grayscale else "RGB"
    arrs, skipped = [], 0
    for f in files:
        a = _read_image(f, mode, size)
        if a is None:
            skipped += 1
            continue
        arrs.append(a[None] if grayscale else a.transpose(2, 0, 1))
    why = "damaged, not images, or too large to decode safely"
    if len(arrs) < 2:
        raise DatasetError(f"image-folder: found {len(arrs)} readable images in {p} (need at least 2"
                           f"{f'; {skipped} unreadable skipped: {why}' if skipped else ''})")
    imgs = torch.from_numpy(np.stack(arrs))
    note = f", {skipped} unreadable skipped ({why})" if skipped else ""
    return ImageDataset("image-folder", imgs, None, f"{len(arrs)} images from {p} at {size}×{size}{note}")


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


class DataShape:
    """What a checkpoint says its data looked like (name, kind, shape, number of classes), without the data:
    enough to rebuild its networks and sample the generator. Drawing real examples from it is an error."""

    centers = None
    sigma = None
    labels = None
    class_names = None

    def __init__(self, name: str, kind: str, shape: tuple, n_classes: int | None = None) -> None:
        self.name, self.kind = name, kind
        self.shape = tuple(int(s) for s in shape)
        self.dim = int(np.prod(self.shape))
        self.n_classes = n_classes or None
        self.description = f"{name} (not loaded: only its shape {list(self.shape)}, from a checkpoint)"
        self.device = torch.device("cpu")

    @property
    def images(self) -> torch.Tensor:
        """Stands in for the pixel marginals some initialisations read; the checkpoint's weights replace
        whatever they set."""
        return torch.zeros((1, *self.shape), dtype=torch.uint8, device=self.device)

    def __len__(self) -> int:
        return 0

    def to(self, device) -> "DataShape":
        self.device = torch.device(device)
        return self

    def sample(self, n, gen):
        raise DatasetError(f"{self.name}: the data are not loaded (the networks were rebuilt from a checkpoint "
                           f"for sampling only)")

    def bounds(self):
        raise DatasetError(f"{self.name}: the data are not loaded")

    def log_density(self, x):
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass
