"""The settings table: every setting of a run, declared once (type, range or choices, default, role, label,
tooltip, command-line flag, scale). Torch-free, numpy-free (``gan-studio --help`` reads it).

Everything else is generated from it: the validation (:func:`validate`, which
``core.train.config.validate_values`` wraps), ``LIVE_KEYS`` and ``STRUCTURAL_KEYS``, ``gan-studio train``'s
flags (:func:`add_flags`), the studio's controls and its branch and compare dialogs (their spin boxes' ranges
are the ranges here), and the checks of recipes and run folders (which call the validation).

Roles: ``live`` settings may change on a running run (applied at the next iteration); ``structural`` ones
define the networks and the data (a checkpoint cannot be resumed with others); ``run`` ones are fixed for a
run without defining its networks (seed, device, update rule, length).
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError

#: Names in the loss and optimiser registries (a test checks that they match ``losses.LOSSES`` and
#: ``optim.OPTIMIZERS``); ``ns`` is an old spelling of ``nonsaturating``.
LOSS_NAMES = ("minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp", "ns")
LOSS_ALIASES = {"ns": "nonsaturating"}


@dataclass(frozen=True)
class LossInfo:
    """What the studio, the recording and the doctor know of a loss without torch: whether D's score goes
    through a sigmoid (a probability) and the D and G losses at equilibrium (D's output carrying no
    information; drawn as reference lines). ``core.train.losses`` adds the formulas."""

    name: str
    summary: str
    sigmoid: bool
    d_equilibrium: float
    g_equilibrium: float
    gradient_penalty: bool = False


#: Each loss's facts, by name (the aliases point at what they mean).
LOSS_INFO: dict[str, LossInfo] = {
    "minimax": LossInfo("minimax", "the paper's game: G minimises log(1 − D(G(z))) (saturates early in training)",
                        True, math.log(4), -math.log(2)),
    "nonsaturating": LossInfo("nonsaturating", "the paper's practical variant: G maximises log D(G(z))",
                              True, math.log(4), math.log(2)),
    "lsgan": LossInfo("lsgan", "least squares (Mao et al. 2017): D regresses real→1, fake→0", False, 0.25, 0.125),
    "hinge": LossInfo("hinge", "hinge loss (Lim & Ye 2017; SN-GAN)", False, 2.0, 0.0),
    "wgan-gp": LossInfo("wgan-gp", "Wasserstein critic with gradient penalty (Gulrajani et al. 2017)", False, 0.0,
                        0.0, gradient_penalty=True),
}
LOSS_INFO.update({alias: LOSS_INFO[name] for alias, name in LOSS_ALIASES.items()})
#: The losses whose D outputs a probability (BCE losses): D(x) = D(G(z)) = ½ at equilibrium.
SIGMOID_LOSSES = tuple(n for n in LOSS_NAMES if LOSS_INFO[n].sigmoid)
OPTIMIZER_NAMES = ("adam", "sgd")
UPDATE_NAMES = ("alternating", "simultaneous")
NOISE_NAMES = ("normal", "uniform")
DEVICE_KINDS = ("auto", "cpu", "cuda", "mps")
#: Dataset names and kinds, model names (torch-free copies of the registries, checked by a test).
DATASET_KINDS = {"ring8": "points", "grid25": "points", "bimodal1d": "points", "spiral": "points",
                 "moons": "points", "points": "points", "drawn": "points", "digits": "images", "mnist": "images",
                 "fashion-mnist": "images", "cifar10": "images", "image-folder": "images"}
MODEL_NAMES = ("mlp", "paper-mlp", "dcgan", "cond-mlp", "cond-paper-mlp", "cond-dcgan")
#: The dataset and model name of a run on the user's own networks and data (core/train/plugin_spec.py):
#: valid in a configuration, never offered by a picker (a plug-in is named with --plugin).
PLUGIN = "plugin"

MAX_WHOLE = 2**53  # counts beyond this are not from a real run
MAX_STEPS = 2**40  # a run's length: ~35 years at 1,000 iterations a second
SEED_MAX = 2**31 - 1  # what a Qt spin box holds; numpy and torch take it


@dataclass(frozen=True)
class Setting:
    """One setting. ``kind``: int, float, bool, choice, betas (two floats), mapping or device.
    ``lo``/``hi``: the range (``lo_open``: lo itself excluded); ``choices``: the names (``hidden``: aliases kept
    for old files but not offered); ``labels``: a display name per choice; ``nullable``: None is allowed.
    ``what``: how a refusal names the range (default: generated); ``flag``: ``gan-studio train``'s flag;
    ``scale``: ``log`` for learning rates (log sliders, ``soft``: the slider's span); ``unit`` for display."""

    name: str
    kind: str
    default: Any
    role: str  # live | structural | run
    label: str
    tooltip: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    hidden: tuple = ()
    labels: dict | None = None
    nullable: bool = False
    what: str | None = None
    flag: str | None = None
    flag_help: str | None = None
    scale: str = "linear"
    soft: tuple | None = None
    unit: str = ""
    decimals: int = 4  # digits a number field shows (floats)

    @property
    def live(self) -> bool:
        return self.role == "live"

    @property
    def dest(self) -> str | None:
        return self.flag[2:].replace("-", "_") if self.flag else None

    @property
    def offered(self) -> tuple:
        """The choices a picker offers (aliases left out)."""
        return tuple(c for c in self.choices if c not in self.hidden)

    def choice_label(self, c: str) -> str:
        return (self.labels or {}).get(c, c)

    def range_text(self) -> str:
        """The range as a refusal says it ("k must be ..."): ``what``, or generated."""
        if self.what:
            return self.what
        return f"between {_n(self.lo)} and {_n(self.hi)}" if self.kind == "int" else f"in {self.interval()}"

    def interval(self) -> str:
        """The range in brief: 1–10000, (0, 10]."""
        if self.kind == "int":
            return f"{_n(self.lo)}–{_n(self.hi)}"
        return f"{'(' if self.lo_open else '['}{_n(self.lo)}, {_n(self.hi)}{')' if self.hi_open else ']'}"

    def check(self, v: Any) -> Any:
        """``v`` if it is a valid value of this setting, else a :class:`ConfigError` naming it."""
        if v is None and self.nullable:
            return v
        n = self.name
        if self.kind in ("int", "float"):
            whole = self.kind == "int"
            if whole:
                _need(isinstance(v, int) and not isinstance(v, bool), f"{n} must be a whole number, got {_short(v)}")
                _need(abs(v) <= MAX_WHOLE, f"{n} is out of range, got {v}")
            else:
                _need(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
                      f"{n} must be a finite number, got {_short(v)}")
            if not self.contains(v):
                if self.what is None and whole and self.lo is not None and v < self.lo:
                    raise ConfigError(f"{self._named()} must be at least {_n(self.lo)}, got {v}")
                if self.what is None and whole and self.hi is not None and v > self.hi:
                    raise ConfigError(f"{self._named()} must be at most {_n(self.hi)}, got {v}")
                raise ConfigError(f"{self._named()} must be {self.range_text()}, got {v}")
        elif self.kind == "bool":
            _need(isinstance(v, bool), f"{n} must be true or false, got {_short(v)}")
        elif self.kind == "choice":
            _need(isinstance(v, str) and len(v) <= 200, f"{n} must be a name, got {_short(v)}")
            _need(v in self.choices, f"unknown {n} {v!r}; choose one of {', '.join(self.offered)}")
        elif self.kind == "betas":
            _need(isinstance(v, (list, tuple)) and len(v) == 2
                  and all(isinstance(x, (int, float)) and not isinstance(x, bool) and self.contains(x) for x in v),
                  f"{n} must be two numbers {self.range_text()}, got {_short(v)}")
        elif self.kind == "device":
            _need(isinstance(v, str) and len(v) <= 200, f"{n} must be a name, got {_short(v)}")
            kind, _, index = v.partition(":")
            _need(kind in DEVICE_KINDS and (not index or (kind != "auto" and index.isdigit() and len(index) <= 3)),
                  f"device must be {', '.join(DEVICE_KINDS[:-1])} or {DEVICE_KINDS[-1]}, got {_short(v)}")
        elif self.kind == "mapping":
            _need(isinstance(v, dict), f"{n} must be a mapping of argument names to values, got {_short(v)}")
        return v

    def contains(self, v: float) -> bool:
        if self.lo is not None and not (v > self.lo if self.lo_open else v >= self.lo):
            return False
        if self.hi is not None and not (v < self.hi if self.hi_open else v <= self.hi):
            return False
        return True

    def _named(self) -> str:
        return self.name


def _n(x) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x}"


def _short(v) -> str:
    """``v`` as a short one-line text for a message (a tensor's repr spans several lines)."""
    text = " ".join(repr(v).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


_LOSS_LABELS = {"minimax": "minimax (saturating)", "nonsaturating": "non-saturating", "lsgan": "least squares",
                "hinge": "hinge", "wgan-gp": "WGAN-GP"}

#: The table, in TrainConfig's field order.
SETTINGS: tuple[Setting, ...] = (
    Setting("dataset", "choice", "ring8", "structural", "data", choices=tuple(DATASET_KINDS) + (PLUGIN,),
            hidden=(PLUGIN,),
            labels={k: f"{k}  ({v})" for k, v in DATASET_KINDS.items()}, flag="--dataset",
            flag_help="dataset name ({choices})"),
    Setting("dataset_args", "mapping", {}, "structural", "dataset arguments", nullable=True),
    Setting("model", "choice", "mlp", "structural", "model", choices=MODEL_NAMES + (PLUGIN,), hidden=(PLUGIN,),
            flag="--model",
            flag_help="model pair ({choices})"),
    Setting("model_args", "mapping", {}, "structural", "model arguments"),
    Setting("loss", "choice", "nonsaturating", "live", "loss", "the game's value function", choices=LOSS_NAMES,
            hidden=tuple(LOSS_ALIASES), labels=_LOSS_LABELS, flag="--loss",
            flag_help="the loss ({choices})"),
    Setting("optimizer", "choice", "adam", "live", "optimiser",
            "changing the optimiser starts it with fresh state; the weights are kept", choices=OPTIMIZER_NAMES,
            labels={"adam": "Adam", "sgd": "SGD + momentum"}, flag="--optimizer", flag_help="the optimiser ({choices})"),
    Setting("lr_d", "float", 1e-3, "live", "lr D", "discriminator learning rate", lo=0, hi=10, lo_open=True,
            what="a learning rate in (0, 10]", flag="--lr-d", scale="log", soft=(1e-6, 1.0)),
    Setting("lr_g", "float", 1e-3, "live", "lr G", "generator learning rate", lo=0, hi=10, lo_open=True,
            what="a learning rate in (0, 10]", flag="--lr-g", scale="log", soft=(1e-6, 1.0)),
    Setting("betas", "betas", (0.5, 0.999), "live", "Adam betas", "Adam's two decay rates", lo=0, hi=1,
            hi_open=True, decimals=3),
    Setting("momentum", "float", 0.5, "live", "momentum", "SGD momentum", lo=0, hi=1, hi_open=True,
            flag="--momentum", decimals=3),
    Setting("momentum_final", "float", None, "live", "final momentum",
            "the momentum the ramp rises to (none: no ramp)", lo=0, hi=1, hi_open=True, nullable=True,
            decimals=3),
    Setting("momentum_ramp", "int", 0, "live", "momentum ramp",
            "iterations over which the momentum rises to its final value", lo=0, hi=10**9,
            what="between 0 and 1e9 iterations", unit="iterations"),
    Setting("lr_decay", "float", 1.0, "live", "lr decay", "the learning rate is divided by this after each update",
            lo=1, hi=10, what="in [1, 10] (it divides the rate after each update)", decimals=7),
    Setting("lr_min", "float", 0.0, "live", "lr floor", "the decaying learning rate stops here", lo=0, hi=10, decimals=8),
    Setting("k", "int", 1, "live", "k (D steps)",
            "k: discriminator steps per iteration (the paper uses k = 1)", lo=1, hi=10_000, flag="--k",
            flag_help="discriminator steps per iteration (the paper's k)"),
    Setting("g_steps", "int", 1, "live", "G steps",
            "generator steps per iteration (G-steps ≫ k starves D: the 'Helvetica scenario')", lo=1, hi=10_000,
            flag="--g-steps", flag_help="generator steps per iteration"),
    Setting("batch_size", "int", 256, "live", "batch size", "minibatch size m (examples and noise vectors per step)",
            lo=1, hi=65536, flag="--batch-size", flag_help="minibatch size m"),
    Setting("z_dim", "int", 2, "structural", "noise dimension", lo=1, hi=4096, flag="--z-dim"),
    Setting("noise", "choice", "normal", "structural", "noise", choices=NOISE_NAMES, flag="--noise",
            flag_help="the noise distribution ({choices})"),
    Setting("gp_weight", "float", 10.0, "live", "GP weight λ", "WGAN-GP's gradient penalty weight λ", lo=0, hi=1e6, decimals=2),
    Setting("unroll", "int", 0, "live", "unroll D steps",
            "Unrolled GAN (Metz et al. 2016): G is updated against D after this many extra D steps, so it cannot "
            "win by hopping to the mode D forgot. 0 = off; 5 is typical.", lo=0, hi=50,
            what="between 0 (off) and 50 D steps", flag="--unroll",
            flag_help="remedy: unrolled D, this many look-ahead D steps (0: off)"),
    Setting("pack", "int", 1, "live", "pack samples",
            "PacGAN (Lin et al. 2018): D judges this many samples at once, so a collapsed G is easy to spot. "
            "1 = off. Changing it gives D a new input layer (G keeps training).", lo=1, hi=16,
            what="between 1 (off) and 16 samples", flag="--pack",
            flag_help="remedy: PacGAN, D judges this many samples at once (1: off)"),
    Setting("mbstd", "bool", False, "live", "minibatch std-dev feature",
            "Minibatch standard deviation (Karras et al. 2018): D sees how spread out the batch is; a collapsed "
            "batch gives itself away.", flag="--mbstd", flag_help="remedy: minibatch standard deviation in D (mlp)"),
    Setting("update", "choice", "alternating", "run", "update rule", choices=UPDATE_NAMES,
            what=" or ".join(repr(u) for u in UPDATE_NAMES)),
    Setting("seed", "int", 0, "run", "seed", "the seed of a new run (seeded runs are reproducible)", lo=0,
            hi=SEED_MAX, flag="--seed"),
    Setting("device", "device", "auto", "run", "device", "auto (cuda, then mps, then cpu), cpu, cuda or mps",
            choices=DEVICE_KINDS, labels={"auto": "auto (cuda, mps, cpu)"}, flag="--device"),
    Setting("steps", "int", 2000, "run", "iterations", "train until this many iterations in total", lo=0,
            hi=MAX_STEPS, flag="--steps"),
    Setting("plugin", "mapping", None, "structural", "plug-in",
            "the user's own networks and data: where the plug-in is, its function, arguments and SHA-256 "
            "(naming it never runs it: the user's --plugin does)", nullable=True),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
LIVE_KEYS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.role == "live")
STRUCTURAL_KEYS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.role == "structural")


def setting(name: str) -> Setting:
    return BY_NAME[name]


def _simultaneous(d: dict) -> str | None:
    if d.get("update") == "simultaneous" and not (d.get("k", 1) == 1 and d.get("g_steps", 1) == 1
                                                  and d.get("unroll", 0) == 0):
        return "update 'simultaneous' (the original code's joint step) needs k = 1, g_steps = 1 and no unrolling"
    return None


#: Why a plug-in run cannot take the remedies built into the small MLP pair's D.
NO_REMEDIES = ("packing and the minibatch-std feature need the built-in discriminator: a plug-in's own D cannot "
               "take them")


def _built_into_mlp(d: dict) -> str | None:
    """The mode-collapse remedies built into the small MLP pair's D: minibatch std-dev (mlp, cond-mlp) and
    packing (the unconditional mlp only: a conditional D takes its label with each sample)."""
    model = d.get("model")
    if model is None:
        return None
    if model == PLUGIN and (d.get("mbstd") or d.get("pack", 1) != 1):
        return NO_REMEDIES
    if d.get("mbstd") and model not in ("mlp", "cond-mlp"):
        return f"minibatch standard deviation is built into the mlp model only, not {model!r}"
    if d.get("pack", 1) != 1 and model != "mlp":
        return "packing (PacGAN) is available for the unconditional mlp model only"
    return None


#: Rules that tie settings together: (the settings they read, a check giving the reason or None). Checked
#: when the first of the settings is present.
RULES: tuple[tuple[tuple[str, ...], Callable[[dict], str | None]], ...] = (
    (("update", "k", "g_steps", "unroll"), _simultaneous),
    (("model", "pack", "mbstd"), _built_into_mlp),
)


def validate(d: dict) -> None:
    """Check the values present in ``d`` (a full configuration or a partial set of changes) against the
    table: types first (a file may hold anything), then ranges and choices; every number finite. Names not in
    the table are left to the caller. Raises :class:`ConfigError` with one line naming the setting."""
    for key, v in d.items():
        s = BY_NAME.get(key)
        if s is not None:
            s.check(v)
    for names, rule in RULES:
        if names[0] in d:
            why = rule(d)
            if why:
                raise ConfigError(why)


def check_rules(d: dict) -> None:
    """The :data:`RULES` that tie settings together, on a whole configuration ``d`` (e.g. the settings in force
    with a change applied)."""
    for _names, rule in RULES:
        why = rule(d)
        if why:
            raise ConfigError(why)


def check_live_change(changes: dict, in_force: dict | None = None) -> None:
    """A change to a running run: only live settings, each valid, and (given the settings ``in_force``) the
    rules that tie settings together hold afterwards, so a change the trainer would refuse is refused at once."""
    unknown = [k for k in changes if k not in LIVE_KEYS]
    if unknown:
        raise ConfigError(f"{', '.join(map(str, unknown))} cannot change during a run; start a new run instead")
    validate(changes)
    if in_force:
        check_rules({**in_force, **changes})


def defaults() -> dict[str, Any]:
    return {s.name: (dict(s.default) if isinstance(s.default, dict) else s.default) for s in SETTINGS}


# ------------------------------------------------------------------------------ the command line's flags
def parse_whole(text: str) -> int:
    """A whole number typed on a command line: ASCII digits only (``int`` would take "٣", "1_0" and 5,000
    digits), at most 2**53 in size; else argparse's error (one line)."""
    t = text.strip()
    body = t[1:] if t[:1] in "+-" else t
    if not (body.isascii() and body.isdigit()) or len(body) > 20:
        raise argparse.ArgumentTypeError(f"expected a whole number (digits 0-9), got {text[:40]!r}")
    v = int(t)
    if abs(v) > MAX_WHOLE:
        raise argparse.ArgumentTypeError(f"{v:,} is too large (at most 2**53)")
    return v


def parse_finite(text: str) -> float:
    """A finite number typed on a command line; else argparse's error (one line)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text[:40]!r}")
    return v


def _arg_type(s: Setting):
    """argparse's ``type`` for a setting: parses the text; whole numbers get their bounds checked here (the
    message argparse prints), everything else is checked by :func:`validate` with the rest of the run."""
    def whole(text: str) -> int:
        v = parse_whole(text)
        if s.lo is not None and v < s.lo:
            raise argparse.ArgumentTypeError(f"must be at least {s.lo}, got {v}" if s.lo else
                                             f"must be 0 or more, got {v}")
        if s.hi is not None and v > s.hi:
            raise argparse.ArgumentTypeError(f"must be at most {s.hi}, got {v}")
        return v

    def choice(text: str) -> str:
        if text not in s.choices:
            raise argparse.ArgumentTypeError(f"invalid choice: unknown {s.name} {text!r}; choose one of "
                                             f"{', '.join(s.offered)}")
        return text

    return {"int": whole, "float": parse_finite, "choice": choice}.get(s.kind)


def add_flags(parser, names=None) -> dict[str, str]:
    """Add the flags of the table's settings (``names``: those only, in the table's order) to an argparse
    parser; every flag defaults to None (not given). Returns {argparse dest: setting name}."""
    out = {}
    for s in SETTINGS:
        if not s.flag or (names is not None and s.name not in names):
            continue
        help_ = (s.flag_help or s.tooltip or s.label).replace("{choices}", ", ".join(s.offered))
        if s.kind in ("int", "float") and s.hi is not None and s.hi < MAX_WHOLE:
            help_ += f"; range {s.interval()}"
        if s.kind == "bool":
            parser.add_argument(s.flag, action=argparse.BooleanOptionalAction, default=None, help=help_)
        elif s.kind == "choice":
            parser.add_argument(s.flag, type=_arg_type(s), choices=s.choices, metavar=s.name.upper(), help=help_)
        else:
            parser.add_argument(s.flag, type=_arg_type(s), help=help_)
        out[s.dest] = s.name
    return out
