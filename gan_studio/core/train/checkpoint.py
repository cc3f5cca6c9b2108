"""Checkpoints a user can trust, and generator export.

A checkpoint is one ``torch.save`` file of plain data (tensors, numbers, strings, lists, dicts), so it
loads with ``torch.load(weights_only=True)``: nothing in it is unpickled as an arbitrary object, and a
file that would need that is refused without running anything.  Every write goes to a temporary file
in the destination folder and is then renamed over the target, so a crash or a full disk never
leaves a half-written checkpoint where a good one was.
"""
from __future__ import annotations

import os
import pickle
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from ..atomic import (CheckpointError, atomic_path, atomic_paths, atomic_write_bytes, file_mode,  # noqa: F401
                      remove_stale_temps)  # (re-exported)
from ..schema import FileFormatError, Int, List, Map, Str, check, dumps
from .checkpoint_schema import (CHECKPOINT, _check_data_info, _name, _same_tensors, _tensor,  # noqa: F401
                                check_finite_state,
                                check_networks)  # (check_networks is re-exported)
from .config import (DATASET_ARGS, LOCATION_KEYS, MODEL_NAMES, STRUCTURAL_KEYS, ConfigError,
                     TrainConfig, data_location)

FORMAT = "gan-studio/checkpoint"
VERSION = 1
GEN_FORMAT = "gan-studio/generator"


def _write_failure(exc: BaseException, target: Path) -> str:
    """Why a write failed, in one line: torch's and safetensors' writers report a full disk as a generic
    error ("file write failed"), so the free space is looked at too."""
    text = " ".join(str(exc).split())[:160] or type(exc).__name__
    try:
        full = shutil.disk_usage(target.parent if str(target.parent) else ".").free < 64 * 2**20
    except OSError:
        full = False
    if full or "No space left" in text or "StorageFull" in text:
        return "No space left on device"
    return text


def save_checkpoint(trainer, path: str | os.PathLike, history: bool = True) -> Path:
    """Write ``trainer``'s full state atomically: the previous file stays until the new one is complete;
    a failure (a full disk) raises :class:`CheckpointError` and leaves no temp file. ``history=False`` leaves
    the loss history out (a run folder's training states: their size does not grow with the run).
    The same as :func:`write_checkpoint` of :func:`capture_checkpoint`."""
    return write_checkpoint(capture_checkpoint(trainer, history), path)


def capture_checkpoint(trainer, history: bool = True) -> dict:
    """``trainer``'s state as a checkpoint's payload, copied to the CPU (training may go on at once: nothing in
    it is shared with the trainer), ready for :func:`write_checkpoint` (on another thread, say)."""
    payload = {"format": FORMAT, "version": VERSION}
    if history:
        payload.update(trainer.state_dict())
    else:  # not even copied (it grows with the run)
        kept, trainer.history = trainer.history, {}
        try:
            payload.update(trainer.state_dict())
        finally:
            trainer.history = kept
    return detached_copy(payload)


def detached_copy(obj):
    """A copy of nested dicts, lists and tuples of tensors and plain values whose tensors are new CPU tensors
    (the live parameters and optimiser moments keep changing after this returns)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: detached_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(detached_copy(v) for v in obj)
    return obj


def write_checkpoint(payload: dict, path: str | os.PathLike) -> Path:
    """Write a captured checkpoint (:func:`capture_checkpoint`) to ``path`` atomically (see
    :func:`save_checkpoint`)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        try:
            torch.save(payload, tmp)
        except RuntimeError as exc:  # torch's zip writer: "PytorchStreamWriter failed writing file ..."
            raise CheckpointError(f"cannot write {target}: {_write_failure(exc, target)}") from None
    return target



def _looks_like_safetensors(p: Path) -> bool:
    """A safetensors file: an 8-byte little-endian header length, then the JSON header itself."""
    try:
        with open(p, "rb") as f:
            head = f.read(10)
    except OSError:
        return False
    return len(head) == 10 and 0 < int.from_bytes(head[:8], "little") < p.stat().st_size and head[8:9] == b"{"


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a checkpoint: every entry's type (:data:`CHECKPOINT`) and the configuration. Raises
    :class:`CheckpointError` with a message a user can act on. Nothing named inside the file is touched."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"no such checkpoint: {p}")
    if not p.is_file():
        raise CheckpointError(f"{p} is not a file")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{p} is empty (0 bytes): not a checkpoint")
    from .sizes import ArchiveSizeError, check_torch_archive

    if _looks_like_safetensors(p):
        raise CheckpointError(f"{p} is a generator export (safetensors: G's weights alone, for use outside GAN "
                              "Studio), not a checkpoint: give the run's checkpoint.pt (or its run folder)")
    try:
        check_torch_archive(p, map_location)
    except ArchiveSizeError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols in foreign files
            warnings.simplefilter("ignore")
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
    except MemoryError:
        raise CheckpointError(f"{p} is too large to load") from None
    except Exception as exc:  # noqa: BLE001 - a damaged zip or pickle can raise nearly anything
        first = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise CheckpointError(f"{p} is corrupt or truncated and cannot be read ({first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{p} is not a GAN Studio checkpoint (it is a valid PyTorch file, but of another kind)")
    version = data.get("version", 0)
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise CheckpointError(f"{p} was written by a newer GAN Studio (format {version}); "
                              f"this one reads up to {VERSION}")
    missing = [k for k in ("config", "iteration", "G", "D", "opt_G", "opt_D", "rng", "history", "fixed_z", "lr",
                           "data_info") if k not in data]
    if missing:
        raise CheckpointError(f"{p} is incomplete: missing {', '.join(missing)}")
    try:
        data = check(data, CHECKPOINT, where=str(p))
    except FileFormatError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        cfg = TrainConfig.from_dict(data["config"])
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{p} holds an invalid configuration: {exc}") from None
    _check_data_info(data, cfg, p)
    return data


def _check_state(trainer, data: dict, path) -> None:
    """What can only be checked against the built trainer and its data."""
    if tuple(data["fixed_z"].shape) != tuple(trainer.fixed_z.shape):
        raise CheckpointError(f"{path}: fixed_z has shape {list(data['fixed_z'].shape)}, expected "
                              f"{list(trainer.fixed_z.shape)}")
    state, ds = data.get("data") or {}, trainer.dataset
    if state.get("perm") is not None and getattr(ds, "kind", None) == "images" and len(ds):
        perm, n = state["perm"], len(ds)
        if len(perm) != n or int(perm.min()) < 0 or int(perm.max()) >= n or state.get("pos", 0) > n:
            raise CheckpointError(f"{path}: its position in the data (a shuffle of {len(perm)}) does not fit the "
                                  f"{n} examples of {trainer.config.dataset!r}")


def _load_into(trainer, data: dict, path) -> None:
    try:
        trainer.load_state_dict(data)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        first = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{path} does not fit the networks it describes ({first})") from None


def structural_differences(ckpt_config: dict, other: dict) -> list[tuple[str, Any, Any]]:
    """``(key, checkpoint's value, other's value)`` for each structural setting (:data:`STRUCTURAL_KEYS` and
    ``seed``) present in both that differs; where dataset files live (:data:`LOCATION_KEYS`) is ignored."""
    out = []
    for key, value in other.items():
        if key in STRUCTURAL_KEYS + ("seed",) and key in ckpt_config:
            have = ckpt_config[key]
            if key == "dataset_args":  # where files live (or whether to fetch them) is not what the data are
                given = value
                have = {k: v for k, v in (have or {}).items() if k not in LOCATION_KEYS}
                value = {k: v for k, v in (value or {}).items() if k not in LOCATION_KEYS}
                if given and not value:
                    continue  # only locations given (--dataset-arg path=...): nothing to compare
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
    """Rebuild a trainer exactly where a checkpoint left it, with its data (to train on).

    ``requested`` holds settings the user gave explicitly: structural ones (dataset, model, z, seed)
    must match the checkpoint; live ones (k, learning rates, loss, …) are applied on top. The data are
    found only where the user says (:func:`~gan_studio.core.train.config.data_location`): ``data_root``
    (``--data-root``) or the default data root, and ``path``/``download`` from ``requested["dataset_args"]``;
    the checkpoint's own ``root``, ``path`` and ``download`` are never used.
    """
    from .config import LIVE_KEYS
    from .trainer import Trainer

    data = load_checkpoint(path)
    requested = dict(requested or {})
    check_resume_conflicts(data["config"], requested)
    cfg_d = TrainConfig.from_dict(data["config"]).to_dict()  # complete: a setting left out has its default
    if device is not None:
        cfg_d["device"] = device
    given = {k: v for k, v in (requested.get("dataset_args") or {}).items() if k in LOCATION_KEYS}
    file_args = cfg_d.get("dataset_args") or {}
    cfg_d["dataset_args"] = data_location(cfg_d["dataset"], file_args, given, data_root)
    if dataset is None and "path" in DATASET_ARGS.get(cfg_d["dataset"], {}) and "path" not in given:
        what = "folder" if cfg_d["dataset"] == "image-folder" else "file"
        raise CheckpointError(
            f"{path} was trained on {cfg_d['dataset']} data from {str(file_args.get('path', '?'))[:200]!r}; "
            f"a checkpoint's paths are never read: name the {what} yourself with --dataset-arg path=...")
    live = {k: v for k, v in requested.items() if k in LIVE_KEYS}
    cfg_d.update({k: v for k, v in requested.items() if k in ("steps",)})
    try:
        cfg = TrainConfig.from_dict(cfg_d)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    check_networks(data, cfg, path)
    trainer = Trainer(cfg, dataset=dataset)
    info = data["data_info"]
    if list(info["shape"]) != list(trainer.dataset.shape):
        raise CheckpointError(f"{path} was trained on data of shape {info['shape']}, but dataset "
                              f"{cfg.dataset!r} now gives {list(trainer.dataset.shape)}")
    if (info["n_classes"] or None) != (trainer.dataset.n_classes or None) and trainer.conditional:
        raise CheckpointError(f"{path} was trained on {info['n_classes']} classes, but dataset {cfg.dataset!r} "
                              f"now has {trainer.dataset.n_classes or 0}")
    _check_state(trainer, data, path)
    _load_into(trainer, data, path)
    if live:
        trainer.submit(**live)
    return trainer


def trainer_for_sampling(path, device: str = "cpu"):
    """A trainer rebuilt from a checkpoint to draw samples from (``sample``, ``export``, ``eval``): its networks
    come from the configuration and ``data_info`` (shape, classes), and NO dataset is built: nothing named
    in the file is read, created or downloaded. Its ``dataset`` is a :class:`~.datasets.DataShape`."""
    from .data.shape import DataShape
    from .trainer import Trainer

    data = load_checkpoint(path)
    cfg_d = dict(data["config"], device=device)
    try:
        cfg = TrainConfig.from_dict(cfg_d)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    check_networks(data, cfg, path, finite=False)
    info = data["data_info"]
    shape = DataShape(cfg.dataset, info["kind"], tuple(info["shape"]), info["n_classes"] or None)
    trainer = Trainer(cfg, dataset=shape)
    _check_state(trainer, data, path)
    _load_into(trainer, data, path)
    return trainer


#: What ``train`` writes in its run folder (their temp files ``.NAME.*.tmp`` are its own to clean up).
RUN_FILES = ("checkpoint.pt", "config.json", "samples.gif", "run.json", "static.npz", "snapshots.jsonl",
             "metrics.jsonl")


# ------------------------------------------------------------------------------------ generator only
def export_generator(trainer, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write G's weights as safetensors (config in its metadata) plus a readable JSON beside it. The two
    files appear together or not at all (a full disk leaves the previous pair, or nothing)."""
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
        "dataset_args": {k: v for k, v in trainer.config.dataset_args.items() if k not in LOCATION_KEYS},
        "iteration": trainer.iteration,
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in trainer.G.state_dict().items()}
    js = target.with_suffix(".json")
    with atomic_paths(target, js, suffixes=(".safetensors", ".json")) as (tmp_st, tmp_js):
        try:
            save_file(tensors, str(tmp_st), metadata={"gan_studio": dumps(meta)})
        except (OSError, CheckpointError):
            raise
        except Exception as exc:  # noqa: BLE001 - safetensors reports a full disk as its own error type
            raise CheckpointError(f"cannot write {target}: {_write_failure(exc, target)}") from None
        tmp_js.write_bytes((dumps(meta, indent=2) + "\n").encode())
    return target, js


GENERATOR_META = {
    "format": Str(), "model": Str(choices=MODEL_NAMES), "model_args": Map(), "z_dim": Int(min=1, max=4096),
    "data_shape": List(item=Int(min=1, max=65536), min_len=1, max_len=3), "n_classes": Int(min=0, max=100_000),
}


def load_generator(path: str | os.PathLike, device: str = "cpu"):
    """Rebuild an exported generator: returns (G, meta). ``G(z)`` maps noise to the model's range;
    ``meta['out_range']`` says how to get back to data space (``tanh``: (x + 1) / 2)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from .config import check_model_args
    from .models import build_models

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"no such generator file: {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            text = (f.metadata() or {}).get("gan_studio", "{}")
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one message
        raise CheckpointError(f"{p} is not a readable safetensors file ({' '.join(str(exc).split())[:200]})") from None
    try:
        from ..schema import loads

        meta = loads(text, f"{p}: metadata")
        if not isinstance(meta, dict) or meta.get("format") != GEN_FORMAT:
            raise CheckpointError(f"{p} is a safetensors file but not a GAN Studio generator export")
        meta = check(meta, GENERATOR_META, where=f"{p}: metadata")
        model_args = check_model_args(meta["model_args"])
    except ConfigError as exc:
        raise CheckpointError(str(exc) if str(exc).startswith(str(p)) else f"{p}: {exc}") from None
    n_classes = meta.get("n_classes") or None
    shape = tuple(meta["data_shape"])
    try:
        with torch.device("meta"):
            G_meta, _ = build_models(meta["model"], shape, int(meta["z_dim"]), n_classes, model_args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tensors = load_file(str(p), device="cpu")
        for k, t in tensors.items():
            _tensor().check(t, f"{p}: {k}")
        _same_tensors(tensors, G_meta.state_dict(), str(p))
        G, _ = build_models(meta["model"], shape, int(meta["z_dim"]), n_classes, model_args)
        G.load_state_dict(tensors)
    except ConfigError as exc:
        raise CheckpointError(str(exc) if str(exc).startswith(str(p)) else f"{p}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - safetensors and torch parse errors become one message
        raise CheckpointError(f"{p} is not a readable generator ({' '.join(str(exc).split())[:200]})") from None
    G.to(device).eval()
    return G, meta

