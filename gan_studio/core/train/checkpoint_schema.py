"""What a checkpoint may hold (:data:`CHECKPOINT`: every entry's type) and the checks of its networks and
optimisers against the configuration it names (shapes, hyper-parameters, finite numbers). A file that fails
gets one :class:`~gan_studio.core.atomic.CheckpointError` line; nothing in it is run."""
from __future__ import annotations

import contextlib
import math

import torch

from ..atomic import CheckpointError
from ..schema import Custom, FileFormatError, Int, List, Map, Num, Str
from .config import DATASET_KINDS, ConfigError, TrainConfig

# ------------------------------------------------------------------------------ what a checkpoint holds
_KINDS = {torch.bool: "b", torch.uint8: "u", torch.int8: "i", torch.int16: "i", torch.int32: "i",
          torch.int64: "i", torch.float16: "f", torch.bfloat16: "f", torch.float32: "f", torch.float64: "f"}
_KIND_NAMES = {"b": "booleans", "u": "bytes", "i": "whole numbers", "f": "real numbers"}


def _name(k) -> str:
    """A key from the file, fit for a one-line message (quoted when it holds spaces, newlines or oddities)."""
    text = k if isinstance(k, str) and k.isprintable() and " " not in k else repr(k)
    return text if len(text) <= 60 else text[:57] + "..."


def _tensor(kinds: str = "biuf", ndim: int | None = None, max_numel: int = 500_000_000,
            optional: bool = False) -> Custom:
    """A dense tensor of one of ``kinds`` (b bool, u uint8, i signed ints, f floats)."""
    def fn(v, where):
        if not isinstance(v, torch.Tensor):
            raise FileFormatError(f"{where}: expected a tensor, got {type(v).__name__}")
        if v.layout != torch.strided or v.is_quantized or v.device.type == "meta":
            raise FileFormatError(f"{where}: expected a plain tensor, got a {v.layout} one")
        if _KINDS.get(v.dtype, "?") not in kinds:
            want = " or ".join(_KIND_NAMES[k] for k in kinds)
            raise FileFormatError(f"{where}: expected a tensor of {want}, got one of {v.dtype}")
        if ndim is not None and v.dim() != ndim:
            raise FileFormatError(f"{where}: expected {ndim} dimension(s), got shape {list(v.shape)}")
        if v.numel() > max_numel:
            raise FileFormatError(f"{where}: too large ({v.numel():,} values)")
        return v
    return Custom(fn=fn, optional=optional)


def _tensors(kinds: str = "biuf", ndim: int | None = None) -> Custom:
    """A mapping of text keys to tensors (a network's state dict)."""
    spec = _tensor(kinds, ndim)

    def fn(v, where):
        if not isinstance(v, dict):
            raise FileFormatError(f"{where}: expected a mapping of tensors, got {type(v).__name__}")
        for k, t in v.items():
            if not isinstance(k, str):
                raise FileFormatError(f"{where}: keys must be text, got {_name(k)}")
            spec.check(t, f"{where}: {_name(k)}")
        return v
    return Custom(fn=fn)


def _history(v, where):
    _tensors("f", ndim=1).check(v, where)
    lengths = {len(t) for t in v.values()}
    if len(lengths) > 1:
        raise FileFormatError(f"{where}: its series have different lengths ({', '.join(map(str, sorted(lengths)))})")
    return v


_OPTIMIZER = Map(fields={"state": Map(), "param_groups": List(item=Map(fields={"params": List(item=Int(min=0))}),
                                                                min_len=1, max_len=64)})
_BYTES = _tensor("u", ndim=1, max_numel=1_000_000)
_BYTES_OR_NONE = _tensor("u", ndim=1, max_numel=1_000_000, optional=True)
#: The checkpoint's entries and their types (shapes are checked against the networks the configuration
#: describes, by :func:`check_networks`).
CHECKPOINT = {
    "format": Str(),
    "version": Int(min=0),
    "config": Map(),
    "iteration": Int(min=0),
    "G": _tensors(), "D": _tensors(),
    "opt_G": _OPTIMIZER, "opt_D": _OPTIMIZER,
    "lr": Map(fields={"d": Num(min=0), "g": Num(min=0)}),
    "rng": Map(fields={"gen": _BYTES, "view_gen": _BYTES, "torch_cpu": _BYTES, "cuda": _BYTES_OR_NONE,
                       "device_type": Str(choices=("cpu", "cuda", "mps"))}),
    "data": Map(fields={"perm": _tensor("i", ndim=1, optional=True),
                        "pos": Int(min=0, optional=True)}, optional=True),
    "fixed_z": _tensor("f", ndim=2),
    "history": Custom(fn=_history),
    "diverged": Str(optional=True),
    "data_info": Map(fields={"name": Str(max_len=200), "kind": Str(choices=("points", "images")),
                             "shape": List(item=Int(min=1, max=65536), min_len=1, max_len=3),
                             "n_classes": Int(min=0, max=100_000)}),
}


def _check_data_info(data: dict, cfg: TrainConfig, p) -> None:
    info = data["data_info"]
    kind, shape = info["kind"], info["shape"]
    if cfg.plugin is None and kind != DATASET_KINDS[cfg.dataset]:  # a plug-in's kind is its data's
        raise CheckpointError(f"{p}: data_info says {kind}, but dataset {cfg.dataset!r} gives "
                              f"{DATASET_KINDS[cfg.dataset]}")
    if (kind == "points" and len(shape) != 1) or (kind == "images" and (len(shape) != 3 or shape[0] > 4)):
        raise CheckpointError(f"{p}: data_info: shape {shape} is not the shape of {kind}")
    if math.prod(shape) > 2**24:
        raise CheckpointError(f"{p}: data_info: shape {shape} is too large")
    fz = data["fixed_z"]
    if fz.shape[1] != cfg.z_dim or not 1 <= fz.shape[0] <= 65536:
        raise CheckpointError(f"{p}: fixed_z has shape {list(fz.shape)}, but the noise has {cfg.z_dim} dimensions")


def _same_tensors(have: dict, want: dict, where: str) -> None:
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or extra:
        listed = "; ".join(x for x in (f"missing {', '.join(map(_name, missing[:4]))}" if missing else "",
                                       f"unexpected {', '.join(map(_name, extra[:4]))}" if extra else "") if x)
        raise CheckpointError(f"{where} does not fit the networks the configuration describes ({listed})"[:400])
    for k, ref in want.items():
        t = have[k]
        if tuple(t.shape) != tuple(ref.shape) or t.is_floating_point() != ref.is_floating_point():
            raise CheckpointError(f"{where}: {k} has shape {list(t.shape)} ({t.dtype}), but the configuration's "
                                  f"networks need {list(ref.shape)} ({ref.dtype})")


_HYPER_RANGES = {"lr": (0, math.inf), "eps": (0, 1), "weight_decay": (0, math.inf), "momentum": (0, 1),
                 "dampening": (0, 1)}


def _hyper_ok(v, ref, key: str) -> bool:
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if isinstance(ref, bool) or ref is None:
        return v is None or isinstance(v, bool)
    if isinstance(ref, (int, float)):
        lo, hi = _HYPER_RANGES.get(key, (-math.inf, math.inf))
        return number(v) and lo <= v <= hi
    if isinstance(ref, (list, tuple)):
        return (isinstance(v, (list, tuple)) and len(v) == len(ref) and all(number(x) for x in v)
                and (key != "betas" or all(0 <= x < 1 for x in v)))
    if isinstance(ref, str):
        return isinstance(v, str)
    return True


def _same_optimizer(have: dict, want: dict, shapes: list, where: str) -> None:
    groups, ref_groups = have["param_groups"], want["param_groups"]
    if len(groups) != len(ref_groups) or any(len(g["params"]) != len(r["params"]) for g, r in zip(groups, ref_groups)):
        raise CheckpointError(f"{where} does not fit the networks the configuration describes (parameter groups)")
    ids = [i for g in groups for i in g["params"]]
    if sorted(ids) != list(range(len(shapes))):
        raise CheckpointError(f"{where}: its parameter numbers do not match the networks")
    for g, r in zip(groups, ref_groups):
        for key, ref in r.items():
            if key == "params":
                continue
            if key not in g:
                if key in ("lr", "betas", "eps", "momentum", "weight_decay", "dampening", "nesterov", "amsgrad"):
                    raise CheckpointError(f"{where}: param_groups: missing {key!r}")
                continue
            if not _hyper_ok(g[key], ref, key):
                raise CheckpointError(f"{where}: param_groups: {key} = {g[key]!r} is not a valid value"[:300])
    for pid, st in have["state"].items():
        if not isinstance(pid, int) or isinstance(pid, bool) or not 0 <= pid < len(shapes):
            raise CheckpointError(f"{where}: state: {_name(pid)} is not a parameter of the networks")
        if not isinstance(st, dict):
            raise CheckpointError(f"{where}: state {pid}: expected a mapping, got {type(st).__name__}")
        for key, v in st.items():
            if isinstance(v, torch.Tensor):
                _tensor("f").check(v, f"{where}: state {pid}: {_name(key)}")
                want_shape = () if key == "step" else tuple(shapes[pid])
                if tuple(v.shape) != want_shape and not (key == "step" and v.numel() == 1):
                    raise CheckpointError(f"{where}: state {pid}: {_name(key)} has shape {list(v.shape)}, the "
                                          f"parameter {list(shapes[pid])}")
            elif not (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))):
                raise CheckpointError(f"{where}: state {pid}: {_name(key)} is {type(v).__name__}, not a tensor or "
                                      f"number")


def check_networks(data: dict, cfg: TrainConfig, path, finite: bool = True) -> None:
    """Do the checkpoint's weights and optimiser states have the shapes of the networks ``cfg`` describes?
    The networks are built on PyTorch's "meta" device (shapes only, no memory), so a configuration that
    names enormous networks costs nothing unless the file really holds their weights."""
    from . import optim as optim_mod
    from .models import build_models
    from .plugins import PluginError, plugin_networks
    from .trainer import Trainer

    info = data["data_info"]
    try:
        with torch.device("meta") if cfg.plugin is None else contextlib.nullcontext():  # a plug-in: real, with consent
            G, D = build_models(cfg.model, tuple(info["shape"]), cfg.z_dim, info["n_classes"] or None,
                                Trainer._model_args(cfg)) if cfg.plugin is None else plugin_networks(cfg, path)
            opts = {"G": optim_mod.build_optimizer(cfg.optimizer, G.parameters(), cfg.lr_g, cfg),
                    "D": optim_mod.build_optimizer(cfg.optimizer, D.parameters(), cfg.lr_d, cfg)}
    except PluginError:
        raise
    except ConfigError as exc:
        raise CheckpointError(f"{path}: its configuration cannot be built ({exc})") from None
    for name, net in (("G", G), ("D", D)):
        _same_tensors(data[name], net.state_dict(), f"{path}: {name}")
        _same_optimizer(data[f"opt_{name}"], opts[name].state_dict(), [p.shape for p in net.parameters()],
                        f"{path}: opt_{name}")
        if finite:  # to continue training (not to sample a generator, whose NaN outputs are reported)
            check_finite_state(data, name, path)


#: an optimiser's step count beyond this is not from a real run (and overflows the bias corrections)
MAX_OPT_STEP = 2**53


def check_finite_state(data: dict, name: str, path) -> None:
    """Network ``name``'s weights and optimiser state are finite numbers and its optimiser steps are whole
    numbers in [0, 2**53]: a state with NaN weights is refused, not continued as if it were a fresh start."""
    for k, t in data[name].items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: {name}: {_name(k)} holds NaN or infinite weights; this state cannot "
                                  "be continued (an earlier state or checkpoint can)")
    for pid, st in data[f"opt_{name}"]["state"].items():
        for key, v in st.items():
            if key == "step":
                x = float(v.reshape(-1)[0]) if isinstance(v, torch.Tensor) and v.numel() == 1 else v
                if x is not None and not (isinstance(x, (int, float)) and math.isfinite(x) and 0 <= x <= MAX_OPT_STEP
                                          and float(x).is_integer()):
                    raise CheckpointError(f"{path}: opt_{name}: state {pid}: step must be a whole number from 0 to "
                                          f"2**53, got {_name(x)}")
            elif isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all()):
                raise CheckpointError(f"{path}: opt_{name}: state {pid}: {_name(key)} holds NaN or infinite values")


