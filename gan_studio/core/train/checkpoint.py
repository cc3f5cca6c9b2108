"""Checkpoints a user can trust, and generator export.

A checkpoint is one ``torch.save`` file of plain data (tensors, numbers, strings, lists, dicts), so it
loads with ``torch.load(weights_only=True)``: nothing in it is unpickled as an arbitrary object, and a
file that would need that is refused without running anything.  Every write goes to a temporary file
in the destination folder and is then renamed over the target, so a crash or a full disk never
leaves a half-written checkpoint where a good one was.
"""
from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..atomic import CheckpointError, atomic_path, atomic_write_bytes, file_mode  # noqa: F401 (re-exported)
from .config import STRUCTURAL_KEYS, ConfigError, TrainConfig

FORMAT = "gan-studio/checkpoint"
VERSION = 1
GEN_FORMAT = "gan-studio/generator"


def save_checkpoint(trainer, path: str | os.PathLike) -> Path:
    payload = {"format": FORMAT, "version": VERSION}
    payload.update(trainer.state_dict())
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a checkpoint. Raises :class:`CheckpointError` with a message a user can act on."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"no such checkpoint: {p}")
    if not p.is_file():
        raise CheckpointError(f"{p} is not a file")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{p} is empty (0 bytes): not a checkpoint")
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols in foreign files
            warnings.simplefilter("ignore", UserWarning)
            data = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        if "Unsupported global" in msg or "allowed global" in msg or "call reduce" in msg.lower():
            raise CheckpointError(
                f"refused to load {p}: it holds Python objects that are not plain data, which could run code "
                f"when unpickled. GAN Studio checkpoints never contain such objects, so this file was not made "
                f"by GAN Studio or was tampered with. Nothing in it was executed.") from None
        raise CheckpointError(f"{p} is corrupt or not a checkpoint: it cannot be read as plain data "
                              f"(nothing in it was executed)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, IndexError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise CheckpointError(f"{p} is corrupt or truncated and cannot be read ({first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not a GAN Studio checkpoint (it is a valid PyTorch file, but of another kind)")
    if int(data.get("version", 0)) > VERSION:
        raise CheckpointError(f"{p} was written by a newer GAN Studio (format {data.get('version')}); "
                              f"this one reads up to {VERSION}")
    missing = [k for k in ("config", "iteration", "G", "D", "opt_G", "opt_D", "rng", "history", "fixed_z", "lr")
               if k not in data]
    if missing:
        raise CheckpointError(f"{p} is incomplete: missing {', '.join(missing)}")
    try:
        TrainConfig.from_dict(data["config"])
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{p} holds an invalid configuration: {exc}") from None
    return data


def structural_differences(ckpt_config: dict, other: dict) -> list[tuple[str, Any, Any]]:
    """``(key, checkpoint's value, other's value)`` for each structural setting (:data:`STRUCTURAL_KEYS` and
    ``seed``) present in both that differs; where dataset files live (``dataset_args.root``) is ignored."""
    out = []
    for key, value in other.items():
        if key in STRUCTURAL_KEYS + ("seed",) and key in ckpt_config:
            have = ckpt_config[key]
            if key == "dataset_args":  # where files live is not what the data is
                have = {k: v for k, v in have.items() if k != "root"}
                value = {k: v for k, v in value.items() if k != "root"}
            if _norm(have) != _norm(value):
                out.append((key, have, value))
    return out


def check_resume_conflicts(ckpt_config: dict, requested: dict) -> None:
    """Refuse a resume whose explicit settings disagree with what the checkpoint was trained with."""
    conflicts = [f"{key}: checkpoint has {have!r}, you asked for {value!r}"
                 for key, have, value in structural_differences(ckpt_config, requested)]
    if conflicts:
        raise CheckpointError("cannot resume with conflicting settings — " + "; ".join(conflicts)
                              + ". Leave them out to use the checkpoint's, or start a new run.")


def _norm(v):
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in sorted(v.items())}
    return v


def trainer_from_checkpoint(path, requested: dict | None = None, device: str | None = None, dataset=None,
                            data_root: str | None = None):
    """Rebuild a trainer exactly where a checkpoint left it.

    ``requested`` holds settings the user gave explicitly: structural ones (dataset, model, z, seed)
    must match the checkpoint; live ones (k, learning rates, loss, …) are applied on top.
    """
    from .config import LIVE_KEYS
    from .trainer import Trainer

    data = load_checkpoint(path)
    requested = dict(requested or {})
    check_resume_conflicts(data["config"], requested)
    cfg_d = dict(data["config"])
    if device is not None:
        cfg_d["device"] = device
    if data_root:
        cfg_d["dataset_args"] = dict(cfg_d.get("dataset_args") or {}, root=data_root)
    live = {k: v for k, v in requested.items() if k in LIVE_KEYS}
    cfg_d.update({k: v for k, v in requested.items() if k in ("steps",)})
    cfg = TrainConfig.from_dict(cfg_d)
    trainer = Trainer(cfg, dataset=dataset)
    info = data.get("data_info") or {}
    if info and list(info.get("shape", [])) != list(trainer.dataset.shape):
        raise CheckpointError(f"{path} was trained on data of shape {info.get('shape')}, but dataset "
                              f"{cfg.dataset!r} now gives {list(trainer.dataset.shape)}")
    try:
        trainer.load_state_dict(data)
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = (str(exc).splitlines() or [""])[0][:300]
        raise CheckpointError(f"{path} does not fit the networks it describes ({first})") from None
    if live:
        trainer.submit(**live)
    return trainer


# ------------------------------------------------------------------------------------ generator only
def export_generator(trainer, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write G's weights as safetensors (config in its metadata) plus a readable JSON beside it."""
    from safetensors.torch import save_file

    target = Path(path)
    if target.suffix != ".safetensors":
        target = target.with_suffix(".safetensors")
    meta = {
        "format": GEN_FORMAT,
        "model": trainer.config.model,
        "model_args": trainer.config.model_args,
        "z_dim": trainer.config.z_dim,
        "noise": trainer.config.noise,
        "data_shape": list(trainer.dataset.shape),
        "n_classes": trainer.G.n_classes or 0,
        "out_range": trainer.G.out_range,
        "dataset": trainer.config.dataset,
        "dataset_args": trainer.config.dataset_args,
        "iteration": trainer.iteration,
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in trainer.G.state_dict().items()}
    with atomic_path(target) as tmp:
        save_file(tensors, str(tmp), metadata={"gan_studio": json.dumps(meta)})
    js = target.with_suffix(".json")
    atomic_write_bytes(js, (json.dumps(meta, indent=2) + "\n").encode())
    return target, js


def load_generator(path: str | os.PathLike, device: str = "cpu"):
    """Rebuild an exported generator: returns (G, meta). ``G(z)`` maps noise to the model's range;
    ``meta['out_range']`` says how to get back to data space (``tanh``: (x + 1) / 2)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from .models import build_models

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"no such generator file: {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("gan_studio", "{}"))
        tensors = load_file(str(p), device=device)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one message
        raise CheckpointError(f"{p} is not a readable safetensors file ({exc})") from None
    if meta.get("format") != GEN_FORMAT:
        raise CheckpointError(f"{p} is a safetensors file but not a GAN Studio generator export")
    n_classes = meta.get("n_classes") or None
    G, _ = build_models(meta["model"], tuple(meta["data_shape"]), int(meta["z_dim"]), n_classes, meta.get("model_args"))
    G.load_state_dict(tensors)
    G.to(device).eval()
    return G, meta
