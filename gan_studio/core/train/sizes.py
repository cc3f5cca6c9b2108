"""Sizes checked before memory is spent: a configuration's networks are counted on PyTorch's "meta" device
(shapes only, no memory) and refused with one line when their training state cannot fit the machine."""
from __future__ import annotations

import os

from .config import ConfigError

#: bytes a parameter costs while training: float32 weights, gradients and up to two optimiser moments
BYTES_PER_PARAM = 16
#: the networks may use at most this share of the memory available now
SHARE = 0.8
#: an upper bound the user sets for the memory the networks may use (a shared machine): bytes, or 512M / 4G
LIMIT_ENV = "GAN_STUDIO_MAX_MEMORY"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class ModelSizeError(ConfigError):
    """The networks a configuration describes need more memory than the machine has."""


def memory_limit() -> int | None:
    """The user's bound from ``$GAN_STUDIO_MAX_MEMORY`` (None when unset); one line when it is not a size."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text:
        return None
    num, unit = text.rstrip("KMGTkmgtBb").strip(), text[len(text.rstrip("KMGTkmgtBb")):].upper().rstrip("B")
    if not (num.isascii() and num.isdigit() and len(num) <= 15 and unit in _UNITS):
        raise ModelSizeError(f"{LIMIT_ENV}={text[:40]!r} is not a memory size (bytes, or a number with K, M, G, T)")
    return int(num) * _UNITS[unit]


def available_bytes(device) -> int | None:
    """Memory free for the networks on ``device``: the GPU's free memory, else the system's available RAM;
    never more than ``$GAN_STUDIO_MAX_MEMORY``."""
    found, cap = _found_bytes(device), memory_limit()
    return found if cap is None else cap if found is None else min(found, cap)


def _found_bytes(device) -> int | None:
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        try:
            return int(torch.cuda.mem_get_info(dev)[0])
        except (RuntimeError, AssertionError):
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def model_args_of(cfg) -> dict:
    """The arguments the model builders get: the configuration's, plus PacGAN's ``pack`` when on."""
    return dict(cfg.model_args, pack=cfg.pack) if cfg.pack > 1 else dict(cfg.model_args)


def parameter_count(config, shape: tuple, n_classes) -> int:
    """How many parameters G and D of ``config`` have, counted without allocating them."""
    import torch

    from .models import build_models

    with torch.device("meta"):
        G, D = build_models(config.model, tuple(shape), config.z_dim, n_classes, model_args_of(config))
    return sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())


def check_model_size(config, dataset, device, available: int | None = None) -> int:
    """The parameter count of ``config``'s networks on ``dataset``; raises :class:`ModelSizeError` (one line,
    naming the memory needed and the memory there is) when they cannot be trained in it."""
    n = parameter_count(config, dataset.shape, dataset.n_classes)
    need = n * BYTES_PER_PARAM
    have = available_bytes(device) if available is None else available
    if have is not None and need > SHARE * have:
        args = ", ".join(f"{k}={v}" for k, v in (config.model_args or {}).items())
        raise ModelSizeError(f"model {config.model}{f' ({args})' if args else ''} has {n:,} parameters and needs "
                             f"about {_gb(need)} to train (weights, gradients, optimiser state); {device} has "
                             f"{_gb(have)} available{_limited(have)}. Choose smaller hidden/layers")
    return n


def _limited(have: int) -> str:
    cap = memory_limit()
    return f" ({LIMIT_ENV})" if cap is not None and have >= cap else ""


def _gb(b: float) -> str:
    return f"{b / 2**30:,.1f} GB" if b >= 2**30 else f"{b / 2**20:,.0f} MB"


class ArchiveSizeError(ValueError):
    """A PyTorch file that would unpack to more than it holds, or to more memory than there is."""


def check_torch_archive(path, device="cpu") -> None:
    """Check a received PyTorch file before ``torch.load`` spends memory on it, from its zip directory alone:
    it must be a zip archive (the format torch has written since 1.6; the older format allocates what its
    header claims before reading it), its entries stored uncompressed (torch never compresses, so what it
    unpacks to is never larger than the file: no zip bomb), and the file must fit the memory available
    (``$GAN_STUDIO_MAX_MEMORY`` included). Raises :class:`ArchiveSizeError` in one line."""
    import zipfile

    size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveSizeError(f"{path} is corrupt or truncated, or not a PyTorch zip archive "
                               f"({' '.join(str(exc).split())[:120]}; the older format is not read, as it "
                               "allocates what its header claims)") from None
    unpacked = sum(i.file_size for i in infos)
    packed = [i.filename for i in infos if i.compress_type != zipfile.ZIP_STORED]
    if packed:
        raise ArchiveSizeError(f"{path} holds compressed entries ({packed[0][:80]}), which PyTorch never writes: "
                               "refused before unpacking")
    if unpacked > size:
        raise ArchiveSizeError(f"{path} claims {unpacked:,} bytes of contents in a file of {size:,}: refused")
    free = available_bytes(device)
    if free is not None and size > free:
        raise ArchiveSizeError(f"{path} is {size / 2**20:,.0f} MB, more than the {free / 2**20:,.0f} MB of memory "
                               f"available{' (' + LIMIT_ENV + ')' if memory_limit() is not None else ''}")
