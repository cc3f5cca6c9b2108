"""Image datasets: images held in memory as uint8 N×C×H×W (values scaled to [0, 1] per batch), with optional
integer labels: MNIST-like files, CIFAR-10, scikit-learn's digits, a folder of images."""
from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np
import torch

from .shape import DatasetError


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
