"""Run configuration: one plain, JSON-able dataclass shared by the CLI, the studio and checkpoints."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any


from ..errors import ConfigError, GanStudioError  # noqa: F401 (re-exported: the project's error types)
from ..schema import Bool, Custom, Int, List, Num, Spec, Str
from .plugin_spec import PLUGIN, check_record


# The settings table is the one home of every setting's type, range, choices and role; these names are
# kept here (derived from it) for the modules that import them from the configuration.
from ..settings import (DATASET_KINDS, LIVE_KEYS, LOSS_NAMES, MODEL_NAMES, OPTIMIZER_NAMES,  # noqa: F401
                        STRUCTURAL_KEYS, UPDATE_NAMES)
from .. import settings as _settings


def _drawn_points(value, where: str) -> str:
    """The ``drawn`` dataset's points: base64 text of float32 x, y pairs, decoded and checked (drawing.py)."""
    from .data.drawing import check_points_text  # lazily: numpy is not loaded for `gan-studio --help`

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
    "g_irange": Num(min=0, max=10), "d_irange": Num(min=0, max=10), "width": Int(min=1, max=1024), "extra": Int(min=0, max=8),
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


from ..settings import _short  # noqa: E402 (one way to quote a bad value in a message)

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


_D = _settings.defaults()  # each setting's default, from the table


@dataclass
class TrainConfig:
    """Everything that defines a run.

    ``k`` is the paper's number of discriminator steps per iteration, ``g_steps`` the number of
    generator steps (the paper uses one).  Learning-rate schedules follow the original MNIST code:
    ``lr_decay`` divides the learning rate after every update (floor ``lr_min``), and the momentum
    rises linearly from ``momentum`` to ``momentum_final`` over ``momentum_ramp`` iterations.
    """

    dataset: str = _D["dataset"]
    dataset_args: dict = field(default_factory=dict)
    model: str = _D["model"]
    model_args: dict = field(default_factory=dict)
    loss: str = _D["loss"]
    optimizer: str = _D["optimizer"]
    lr_d: float = _D["lr_d"]
    lr_g: float = _D["lr_g"]
    betas: tuple = _D["betas"]
    momentum: float = _D["momentum"]
    momentum_final: float | None = _D["momentum_final"]
    momentum_ramp: int = _D["momentum_ramp"]
    lr_decay: float = _D["lr_decay"]
    lr_min: float = _D["lr_min"]
    k: int = _D["k"]
    g_steps: int = _D["g_steps"]
    batch_size: int = _D["batch_size"]
    z_dim: int = _D["z_dim"]
    noise: str = _D["noise"]
    gp_weight: float = _D["gp_weight"]
    # remedies for mode collapse, all switchable on a running trainer
    unroll: int = _D["unroll"]  # unrolled D (Metz et al. 2016): G's step sees D after this many extra D updates
    pack: int = _D["pack"]  # PacGAN (Lin et al. 2018): D judges this many samples at once
    mbstd: bool = _D["mbstd"]  # minibatch standard deviation feature in D (Karras et al. 2018)
    # "alternating": Algorithm 1 as printed (D steps, then G steps on fresh noise against the updated D);
    # "simultaneous": the paper's code (goodfeli/adversarial): one batch, D and G gradients from the same
    # forward pass, both networks updated at once (needs k = 1 and g_steps = 1)
    update: str = _D["update"]
    seed: int = _D["seed"]
    device: str = _D["device"]
    steps: int = _D["steps"]
    # the user's own networks and data (plugin_spec.py): where the plug-in is, its function, arguments and
    # SHA-256; dataset and model are then "plugin". Naming it never runs it (the user's --plugin does)
    plugin: dict | None = _D["plugin"]

    def __post_init__(self) -> None:
        if self.dataset_args is None:
            self.dataset_args = {}
        if self.model_args is None:
            self.model_args = {}
        validate_values({f.name: getattr(self, f.name) for f in fields(self)})  # before anything is converted
        self.betas = tuple(float(b) for b in self.betas)
        self.dataset_args = check_dataset_args(self.dataset, self.dataset_args)
        self.model_args = check_model_args(self.model_args)
        if self.plugin is not None or PLUGIN in (self.dataset, self.model):
            self.plugin = _check_plugin_fields(self)

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


def _check_plugin_fields(cfg: "TrainConfig") -> dict:
    if cfg.plugin is None:
        raise ConfigError(f"dataset/model {PLUGIN!r} needs a plug-in: name it with --plugin PATH.py[:FUNCTION]")
    _check(cfg.dataset == PLUGIN and cfg.model == PLUGIN,
           f"a plug-in run's dataset and model are {PLUGIN!r}, got {cfg.dataset!r} and {cfg.model!r}")
    _check(cfg.pack == 1 and not cfg.mbstd, "packing and the minibatch-std feature need the built-in "
           "discriminator: a plug-in's own D cannot take them")
    return check_record(cfg.plugin)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def validate_values(d: dict[str, Any]) -> None:
    """Check the values present in ``d`` (a full config or a partial set of live changes) against the settings
    table (:mod:`gan_studio.core.settings`: types first, then ranges; every number must be finite), then the
    dataset's and the model's arguments."""
    _settings.validate(d)
    if "dataset_args" in d:
        check_dataset_args(d.get("dataset", ""), d["dataset_args"])
    if "model_args" in d:
        check_model_args(d["model_args"])
