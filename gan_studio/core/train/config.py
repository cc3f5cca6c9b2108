"""Run configuration: one plain, JSON-able dataclass shared by the CLI, the studio and checkpoints."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any


from ..errors import ConfigError, GanStudioError  # noqa: F401 (re-exported: the project's error types)


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
                 "moons": "points", "points": "points", "digits": "images", "mnist": "images",
                 "fashion-mnist": "images", "cifar10": "images", "image-folder": "images"}
MODEL_NAMES = ("mlp", "paper-mlp", "dcgan", "cond-mlp", "cond-paper-mlp", "cond-dcgan")

#: Settings that define the networks and the data: a checkpoint cannot be resumed with others.
STRUCTURAL_KEYS = ("dataset", "dataset_args", "model", "model_args", "z_dim", "noise")

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
        self.betas = tuple(float(b) for b in self.betas)
        self.dataset_args = dict(self.dataset_args or {})
        self.model_args = dict(self.model_args or {})
        validate_values(self.to_dict())

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
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> "TrainConfig":
        d = self.to_dict()
        d.update(changes)
        return TrainConfig.from_dict(d)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def validate_values(d: dict[str, Any]) -> None:
    """Check the values present in ``d`` (a full config or a partial set of live changes)."""
    def num(key: str) -> float:
        v = d[key]
        _check(isinstance(v, (int, float)) and not isinstance(v, bool), f"{key} must be a number, got {v!r}")
        return float(v)

    def integer(key: str) -> int:
        v = d[key]
        _check(isinstance(v, int) and not isinstance(v, bool), f"{key} must be a whole number, got {v!r}")
        return int(v)

    if "k" in d:
        _check(integer("k") >= 1, f"k (discriminator steps per iteration) must be at least 1, got {d['k']}")
    if "g_steps" in d:
        _check(integer("g_steps") >= 1, f"g_steps must be at least 1, got {d['g_steps']}")
    if "batch_size" in d:
        _check(1 <= integer("batch_size") <= 65536, f"batch_size must be between 1 and 65536, got {d['batch_size']}")
    for key in ("lr_d", "lr_g"):
        if key in d:
            v = num(key)
            _check(0 < v <= 10 and v == v, f"{key} must be a learning rate in (0, 10], got {d[key]}")
    if "lr_min" in d:
        _check(num("lr_min") >= 0, "lr_min must be >= 0")
    if "lr_decay" in d:
        _check(num("lr_decay") >= 1.0, f"lr_decay divides the rate after each update and must be >= 1, got {d['lr_decay']}")
    for key in ("momentum", "momentum_final"):
        if key in d and d[key] is not None:
            _check(0 <= num(key) < 1, f"{key} must be in [0, 1), got {d[key]}")
    if "momentum_ramp" in d:
        _check(integer("momentum_ramp") >= 0, "momentum_ramp must be >= 0 iterations")
    if "betas" in d:
        b = d["betas"]
        _check(isinstance(b, (list, tuple)) and len(b) == 2 and all(isinstance(x, (int, float)) and 0 <= x < 1 for x in b),
               f"betas must be two numbers in [0, 1), got {b!r}")
    if "gp_weight" in d:
        _check(num("gp_weight") >= 0, "gp_weight must be >= 0")
    if "unroll" in d:
        _check(0 <= integer("unroll") <= 50, f"unroll must be between 0 (off) and 50 D steps, got {d['unroll']}")
    if "pack" in d:
        _check(1 <= integer("pack") <= 16, f"pack must be between 1 (off) and 16 samples, got {d['pack']}")
    if "mbstd" in d:
        _check(isinstance(d["mbstd"], bool), f"mbstd must be true or false, got {d['mbstd']!r}")
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
        _check(integer("seed") >= 0, f"seed must be a non-negative whole number, got {d['seed']}")
    if "update" in d:
        _check(d["update"] in UPDATE_NAMES,
               f"update must be {' or '.join(repr(u) for u in UPDATE_NAMES)}, got {d['update']!r}")
        if d["update"] == "simultaneous":
            _check(d.get("k", 1) == 1 and d.get("g_steps", 1) == 1 and d.get("unroll", 0) == 0,
                   "update 'simultaneous' (the original code's joint step) needs k = 1, g_steps = 1 and no unrolling")
    if "steps" in d:
        _check(integer("steps") >= 0, f"steps must be >= 0, got {d['steps']}")
    if "device" in d:
        _check(isinstance(d["device"], str) and d["device"].split(":")[0] in ("auto", "cpu", "cuda", "mps"),
               f"device must be auto, cpu, cuda or mps, got {d['device']!r}")
