"""Run configuration: one plain, JSON-able dataclass shared by the CLI, the studio and checkpoints."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any


from ..errors import ConfigError, GanStudioError  # noqa: F401 (re-exported: the project's error types)
from ..schema import Bool, Custom, Int, List, Num, Spec, Str


#: Settings that may change on a running trainer (applied at the next iteration).
LIVE_KEYS = ("k", "g_steps", "lr_d", "lr_g", "loss", "optimizer", "batch_size", "momentum",
             "betas", "lr_decay", "lr_min", "momentum_final", "momentum_ramp", "gp_weight",
             "unroll", "pack", "mbstd")

#: Names in the loss and optimiser registries (kept here so validation needs no torch; a test checks
#: that they match ``losses.LOSSES`` and ``optim.OPTIMIZERS``).
LOSS_NAMES = ("minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp", "ns")
OPTIMIZER_NAMES = ("adam", "sgd")
UPDATE_NAMES = ("alternating", "simultaneous")
#: Dataset names and kinds, model names (torch-free copies of the registries, checked by a test).
DATASET_KINDS = {"ring8": "points", "grid25": "points", "bimodal1d": "points", "spiral": "points",
                 "moons": "points", "points": "points", "drawn": "points", "digits": "images", "mnist": "images",
                 "fashion-mnist": "images", "cifar10": "images", "image-folder": "images"}
MODEL_NAMES = ("mlp", "paper-mlp", "dcgan", "cond-mlp", "cond-paper-mlp", "cond-dcgan")

#: Settings that define the networks and the data: a checkpoint cannot be resumed with others.
STRUCTURAL_KEYS = ("dataset", "dataset_args", "model", "model_args", "z_dim", "noise")


def _drawn_points(value, where: str) -> str:
    """The ``drawn`` dataset's points: base64 text of float32 x, y pairs, decoded and checked (drawing.py)."""
    from .drawing import check_points_text  # lazily: numpy is not loaded for `gan-studio --help`

    return check_points_text(value, where)


def _nullable(spec: Spec) -> Custom:
    return Custom(fn=lambda v, where: None if v is None else spec.check(v, where))


_PATH = Str(max_len=4096)
_SPLIT = Str(choices=("train", "test"))
_SIGMA = Num(min=1e-9, max=1e6)
#: Every dataset builder's arguments and their types and ranges (torch-free; a test checks that the names
#: match the builders in ``datasets.DATASETS``). Anything else is refused before a dataset is built.
DATASET_ARGS: dict[str, dict[str, Spec]] = {
    "ring8": {"n_modes": Int(min=1, max=10_000), "radius": Num(min=1e-9, max=1e6), "sigma": _SIGMA},
    "grid25": {"n": Int(min=1, max=100), "spacing": Num(min=1e-9, max=1e6), "sigma": _SIGMA},
    "bimodal1d": {"means": List(item=Num(min=-1e6, max=1e6), min_len=1, max_len=1000), "sigma": _SIGMA},
    "spiral": {"turns": Num(min=0, max=1000), "noise": Num(min=0, max=1e6), "scale": Num(min=1e-9, max=1e6)},
    "moons": {"noise": Num(min=0, max=1e6)},
    "points": {"path": _PATH},
    "drawn": {"points": Custom(fn=lambda v, where: _drawn_points(v, where))},  # the studio's drawing mode
    "digits": {},
    "mnist": {"split": _SPLIT, "root": _nullable(_PATH), "download": Bool(), "start": Int(min=0),
              "stop": _nullable(Int(min=0))},
    "fashion-mnist": {"split": _SPLIT, "root": _nullable(_PATH), "download": Bool(), "start": Int(min=0),
                      "stop": _nullable(Int(min=0))},
    "cifar10": {"split": _SPLIT, "root": _nullable(_PATH), "download": Bool()},
    "image-folder": {"path": _PATH, "size": Int(min=4, max=256), "grayscale": Bool(),
                     "limit": Int(min=2, max=1_000_000)},
}

#: Dataset arguments that say where the data live or whether to fetch them, not what they are: a file
#: (checkpoint, run folder) names them, but only the user's own command line may use them.
LOCATION_KEYS = ("root", "path", "download")

#: Model arguments and their types and ranges (the builders ignore names they do not take).
MODEL_ARGS: dict[str, Spec] = {
    "hidden": Int(min=1, max=16384), "layers": Int(min=0, max=64), "out_range": Str(choices=("data", "unit", "tanh")),
    "g_hidden": Int(min=1, max=16384), "d_units": Int(min=1, max=16384), "pieces": Int(min=1, max=64),
    "input_dropout": Num(min=0, max=1), "hidden_dropout": Num(min=0, max=1), "init": Str(choices=("default", "paper")),
    "g_irange": Num(min=0, max=10), "d_irange": Num(min=0, max=10), "width": Int(min=1, max=1024),
}


def check_dataset_args(name: str, args) -> dict:
    """``args`` for dataset ``name``, checked against :data:`DATASET_ARGS`: a new dict, or a ConfigError
    naming the dataset and the argument."""
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise ConfigError(f"dataset_args must be a mapping of argument names to values, got {_short(args)}")
    specs = DATASET_ARGS.get(name)
    if specs is None:  # an unknown dataset: building it says what the names are
        return dict(args)
    out = {}
    for key, value in args.items():
        if key not in specs:
            takes = ", ".join(specs) or "no arguments"
            raise ConfigError(f"dataset {name!r}: bad argument {_short(key)} (it takes {takes})")
        out[key] = specs[key].check(value, f"dataset {name!r}: argument {key!r}")
    return out


def check_model_args(args) -> dict:
    if not isinstance(args, dict):
        raise ConfigError(f"model_args must be a mapping of argument names to values, got {_short(args)}")
    out = {}
    for key, value in args.items():
        if not isinstance(key, str):
            raise ConfigError(f"model_args: argument names must be text, got {_short(key)}")
        out[key] = MODEL_ARGS[key].check(value, f"model argument {key!r}") if key in MODEL_ARGS else value
    return out


def data_location(name: str, file_args: dict, given: dict | None = None, data_root: str | None = None,
                  download: bool = False) -> dict:
    """The dataset arguments to load a file's (a checkpoint's) data with: the file's own arguments less
    :data:`LOCATION_KEYS` (a file never decides which folder is read, created or downloaded into), plus the
    locations the user gave (``given``: ``path``/``root``/``download``; ``data_root``: ``--data-root``).
    Datasets that can download get ``download=False`` unless the user asked for it."""
    given = dict(given or {})
    args = {k: v for k, v in (file_args or {}).items() if k not in LOCATION_KEYS}
    args.update({k: v for k, v in given.items() if k in LOCATION_KEYS})
    if data_root:
        args["root"] = data_root
    if "download" in DATASET_ARGS.get(name, {}):
        args["download"] = bool(given.get("download", download))
    return args


def _short(v) -> str:
    text = " ".join(repr(v).split())  # one line: a tensor's repr spans several
    return text if len(text) <= 60 else text[:57] + "..."

#: The model a run starts with when only its data are chosen, by kind of data: a small MLP pair with a
#: 2-D latent for points; a wider one with a 32-D latent and outputs in [0, 1] for images.
_KIND_DEFAULTS = {
    "points": {"model": "mlp", "model_args": {}, "z_dim": 2, "noise": "normal"},
    "images": {"model": "mlp", "model_args": {"hidden": 256, "layers": 2, "out_range": "unit"}, "z_dim": 32,
               "noise": "normal"},
}


def defaults_for_dataset(name: str) -> dict[str, Any]:
    """Model settings (``model``, ``model_args``, ``z_dim``, ``noise``) to pair with dataset ``name`` when the
    user picks the data but not the model (``gan-studio train --dataset mnist``, the studio's data picker).
    An unknown name gives ``{}`` (building the dataset then says what the names are)."""
    kind = DATASET_KINDS.get(name)
    if kind is None:
        return {}
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in _KIND_DEFAULTS[kind].items()}


@dataclass
class TrainConfig:
    """Everything that defines a run.

    ``k`` is the paper's number of discriminator steps per iteration, ``g_steps`` the number of
    generator steps (the paper uses one).  Learning-rate schedules follow the original MNIST code:
    ``lr_decay`` divides the learning rate after every update (floor ``lr_min``), and the momentum
    rises linearly from ``momentum`` to ``momentum_final`` over ``momentum_ramp`` iterations.
    """

    dataset: str = "ring8"
    dataset_args: dict = field(default_factory=dict)
    model: str = "mlp"
    model_args: dict = field(default_factory=dict)
    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    betas: tuple = (0.5, 0.999)
    momentum: float = 0.5
    momentum_final: float | None = None
    momentum_ramp: int = 0
    lr_decay: float = 1.0
    lr_min: float = 0.0
    k: int = 1
    g_steps: int = 1
    batch_size: int = 256
    z_dim: int = 2
    noise: str = "normal"
    gp_weight: float = 10.0
    # remedies for mode collapse, all switchable on a running trainer
    unroll: int = 0  # unrolled D (Metz et al. 2016): G's step sees D after this many extra D updates
    pack: int = 1  # PacGAN (Lin et al. 2018): D judges this many samples at once
    mbstd: bool = False  # minibatch standard deviation feature in D (Karras et al. 2018)
    # "alternating": Algorithm 1 as printed (D steps, then G steps on fresh noise against the updated D);
    # "simultaneous": the paper's code (goodfeli/adversarial): one batch, D and G gradients from the same
    # forward pass, both networks updated at once (needs k = 1 and g_steps = 1)
    update: str = "alternating"
    seed: int = 0
    device: str = "auto"
    steps: int = 2000

    def __post_init__(self) -> None:
        if self.dataset_args is None:
            self.dataset_args = {}
        if self.model_args is None:
            self.model_args = {}
        validate_values({f.name: getattr(self, f.name) for f in fields(self)})  # before anything is converted
        self.betas = tuple(float(b) for b in self.betas)
        self.dataset_args = check_dataset_args(self.dataset, self.dataset_args)
        self.model_args = check_model_args(self.model_args)

    # -- plain data -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        if not isinstance(data, dict):
            raise ConfigError("configuration must be a mapping of setting names to values")
        known = {f.name for f in fields(cls)}
        unknown = sorted(k if isinstance(k, str) and k.isidentifier() else _short(k) for k in set(data) - known)
        if unknown:
            listed = ", ".join(unknown)
            raise ConfigError(f"unknown setting(s): {listed if len(listed) <= 200 else listed[:197] + '...'}")
        return cls(**data)

    def replace(self, **changes: Any) -> "TrainConfig":
        d = self.to_dict()
        d.update(changes)
        return TrainConfig.from_dict(d)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def validate_values(d: dict[str, Any]) -> None:
    """Check the values present in ``d`` (a full config or a partial set of live changes): types first
    (a file may hold anything), then ranges; every number must be finite."""
    def num(key: str) -> float:
        v = d[key]
        _check(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
               f"{key} must be a finite number, got {_short(v)}")
        return float(v)

    def integer(key: str) -> int:
        v = d[key]
        _check(isinstance(v, int) and not isinstance(v, bool), f"{key} must be a whole number, got {_short(v)}")
        _check(abs(v) <= 2**53, f"{key} is out of range, got {v}")
        return int(v)

    def text(key: str) -> str:
        v = d[key]
        _check(isinstance(v, str) and len(v) <= 200, f"{key} must be a name, got {_short(v)}")
        return v

    if "dataset" in d:
        _check(text("dataset") in DATASET_KINDS,
               f"unknown dataset {d['dataset']!r}; choose one of {', '.join(DATASET_KINDS)}")
    if "model" in d:
        _check(text("model") in MODEL_NAMES, f"unknown model {d['model']!r}; choose one of {', '.join(MODEL_NAMES)}")
    if "dataset_args" in d:
        check_dataset_args(d.get("dataset", ""), d["dataset_args"])
    if "model_args" in d:
        check_model_args(d["model_args"])
    for key in ("loss", "optimizer", "noise", "update", "device"):
        if key in d:
            text(key)
    if "k" in d:
        _check(1 <= integer("k") <= 10_000, f"k (discriminator steps per iteration) must be at least 1, got {d['k']}")
    if "g_steps" in d:
        _check(1 <= integer("g_steps") <= 10_000, f"g_steps must be at least 1, got {d['g_steps']}")
    if "batch_size" in d:
        _check(1 <= integer("batch_size") <= 65536, f"batch_size must be between 1 and 65536, got {d['batch_size']}")
    for key in ("lr_d", "lr_g"):
        if key in d:
            v = num(key)
            _check(0 < v <= 10, f"{key} must be a learning rate in (0, 10], got {d[key]}")
    if "lr_min" in d:
        _check(0 <= num("lr_min") <= 10, f"lr_min (the decayed rate's floor) must be in [0, 10], got {d['lr_min']}")
    if "lr_decay" in d:
        _check(1.0 <= num("lr_decay") <= 10, f"lr_decay divides the rate after each update and must be in [1, 10], got {d['lr_decay']}")
    for key in ("momentum", "momentum_final"):
        if key in d and d[key] is not None:
            _check(0 <= num(key) < 1, f"{key} must be in [0, 1), got {d[key]}")
    if "momentum_ramp" in d:
        _check(0 <= integer("momentum_ramp") <= 2**31, "momentum_ramp must be between 0 and 2**31 iterations")
    if "betas" in d:
        b = d["betas"]
        _check(isinstance(b, (list, tuple)) and len(b) == 2
               and all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x < 1 for x in b),
               f"betas must be two numbers in [0, 1), got {_short(b)}")
    if "gp_weight" in d:
        _check(0 <= num("gp_weight") <= 1e6, f"gp_weight must be in [0, 1e6], got {d['gp_weight']}")
    if "unroll" in d:
        _check(0 <= integer("unroll") <= 50, f"unroll must be between 0 (off) and 50 D steps, got {d['unroll']}")
    if "pack" in d:
        _check(1 <= integer("pack") <= 16, f"pack must be between 1 (off) and 16 samples, got {d['pack']}")
    if "mbstd" in d:
        _check(isinstance(d["mbstd"], bool), f"mbstd must be true or false, got {_short(d['mbstd'])}")
    if "loss" in d:
        _check(d["loss"] in LOSS_NAMES, f"unknown loss {d['loss']!r}; choose one of {', '.join(LOSS_NAMES)}")
    if "optimizer" in d:
        _check(d["optimizer"] in OPTIMIZER_NAMES,
               f"unknown optimizer {d['optimizer']!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    if "z_dim" in d:
        _check(1 <= integer("z_dim") <= 4096, f"z_dim must be between 1 and 4096, got {d['z_dim']}")
    if "noise" in d:
        _check(d["noise"] in ("normal", "uniform"), f"noise must be 'normal' or 'uniform', got {d['noise']!r}")
    if "seed" in d:
        _check(0 <= integer("seed") < 2**63, f"seed must be a whole number from 0 to 2**63 - 1, got {d['seed']}")
    if "update" in d:
        _check(d["update"] in UPDATE_NAMES,
               f"update must be {' or '.join(repr(u) for u in UPDATE_NAMES)}, got {d['update']!r}")
        if d["update"] == "simultaneous":
            _check(d.get("k", 1) == 1 and d.get("g_steps", 1) == 1 and d.get("unroll", 0) == 0,
                   "update 'simultaneous' (the original code's joint step) needs k = 1, g_steps = 1 and no unrolling")
    if "steps" in d:
        _check(0 <= integer("steps") <= 2**40, f"steps must be between 0 and 2**40, got {d['steps']}")
    if "device" in d:
        kind, _, index = d["device"].partition(":")
        _check(kind in ("auto", "cpu", "cuda", "mps") and (not index or (kind != "auto" and index.isdigit()
                                                                          and len(index) <= 3)),
               f"device must be auto, cpu, cuda or mps, got {_short(d['device'])}")
