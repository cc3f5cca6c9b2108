"""``--plugin`` and ``--plugin-arg`` for the commands that can run a plug-in's code (train, sample, export),
and what ``train`` does when the plug-in's own code raises during training."""
from __future__ import annotations

import sys
import traceback

from ..core.settings import PLUGIN, STRUCTURAL_KEYS
from ..core.train.plugin_spec import NO_REMEDIES
from .args import kv
from .errors import UserError

#: Settings a plug-in gives itself: flags for them cannot go with --plugin (the settings table's structural
#: ones, but the plug-in's record itself).
_PLUGIN_GIVES = tuple(k for k in STRUCTURAL_KEYS if k != PLUGIN)


def add_plugin_args(p) -> None:
    p.add_argument("--plugin", metavar="PATH.py[:FUNCTION]",
                   help="your own generator, discriminator and data: a Python file or package.module:FUNCTION whose "
                        "function (default: build) returns a gan_studio.Plugin; also the consent to run the plug-in "
                        "a checkpoint, recipe or run folder names")
    p.add_argument("--plugin-arg", action="append", type=kv, default=[], metavar="KEY=VALUE",
                   help="keyword argument for the plug-in's function (repeatable; numbers, booleans, text)")


def use_plugin(a):
    """The plug-in the user named (a :class:`~gan_studio.core.train.plugin_spec.PluginRef`), now allowed to
    run in this process; None when ``--plugin`` is not given."""
    from ..core.train.plugin_spec import allow, check_args, parse_ref

    name = getattr(a, "plugin", None)
    if not name:
        if getattr(a, "plugin_arg", None):
            raise UserError("--plugin-arg goes with --plugin")
        return None
    ref = parse_ref(name)
    check_args(dict(getattr(a, "plugin_arg", None) or []), "--plugin-arg")
    allow(ref)
    return ref


def plugin_config(a, ref, explicit: dict) -> dict:
    """A new run of the plug-in ``ref``: its networks, data and settings, then the flags given (live
    settings, steps, seed, device). Everything the plug-in returns is checked here, before anything is written."""
    from ..core.train.config import TrainConfig
    from ..core.train.plugin_spec import PLUGIN
    from ..core.train.plugins import build_parts, record

    if a.preset:
        raise UserError("--plugin gives the networks and the data: leave out --preset")
    clash = [k for k in explicit if k in _PLUGIN_GIVES]
    if clash or a.data_root:
        flags = ", ".join("--" + k.replace("_args", "_arg").replace("_", "-") for k in clash) or "--data-root"
        raise UserError(f"--plugin gives the networks and the data: leave out {flags}")
    if explicit.get("pack", 1) != 1 or explicit.get("mbstd"):  # refused before the plug-in's code runs
        raise UserError(f"{NO_REMEDIES} (leave out --pack/--mbstd)")
    rec = record(ref, dict(a.plugin_arg or []))
    seed = explicit.get("seed", TrainConfig.seed)
    parts = build_parts(rec, seed=seed)
    rec["name"] = parts.name
    base = TrainConfig().to_dict()
    base.update(parts.settings)
    base.update(dataset=PLUGIN, model=PLUGIN, dataset_args={}, model_args={}, z_dim=parts.z_dim, noise=parts.noise,
                plugin=rec)
    base.update(explicit)
    if a.device:
        base["device"] = a.device
    return base


def check_plugin_flags(a, ref) -> None:
    """With --resume, --recipe or --branch, --plugin is the consent only: the recorded arguments are used."""
    if ref is not None and (getattr(a, "pack", None) or 1) != 1 or (ref is not None and getattr(a, "mbstd", None)):
        raise UserError(f"{NO_REMEDIES} (leave out --pack/--mbstd)")
    if ref is not None and a.plugin_arg:
        raise UserError("--plugin-arg makes a new run: a checkpoint, recipe or recorded run keeps the arguments it "
                        "was trained with (leave out --plugin-arg)")


# ------------------------------------------------------------------------------------ the plug-in's code raised
def plugin_failure(exc: BaseException, trainer) -> list[str] | None:
    """The lines that tell the user their plug-in's code raised (the exception and the plug-in's own frames
    of its traceback); None when no frame is the plug-in's (a fault elsewhere: not for this handler)."""
    from ..core.train.plugins import user_dirs, user_frames

    rec = trainer.config.plugin
    if rec is None or not isinstance(exc, Exception):
        return None
    frames = user_frames(exc, user_dirs(rec))
    if not frames:
        return None
    text = " ".join(str(exc).split())[:400]
    lines = [f"the plug-in's code raised at iteration {trainer.iteration + 1}: {type(exc).__name__}"
             f"{': ' + text if text else ''}",
             "Traceback (the plug-in's own frames):"]
    lines += [ln.rstrip("\n") for ln in traceback.format_list(frames)]
    return lines


def keep_last_iteration(trainer, watch) -> str:
    """Put the trainer back to its last completed iteration (if the failing one had already updated a network,
    to the last safe copy of the weights) and say which it is."""
    if not watch.dirty:
        return f"iteration {trainer.iteration}, the last completed one"
    good = trainer._good
    if good is not None:
        trainer.G.load_state_dict(good["G"])
        trainer.D.load_state_dict(good["D"])
        trainer._build_optimizers()
        trainer.iteration = trainer._good_iteration
        for k, v in trainer.history.items():
            del v[trainer.iteration:]
    return (f"iteration {trainer.iteration} (the failing iteration had already updated a network: the weights "
            f"are the last safe copy, with fresh optimiser states)")


class UpdateWatch:
    """Knows whether an optimiser stepped since the last completed iteration (cheap: one flag per step)."""

    def __init__(self) -> None:
        self.dirty = False
        self._hooked: set[int] = set()

    def _hook(self, trainer) -> None:
        for opt in (trainer.opt_d, trainer.opt_g):
            if id(opt) not in self._hooked:
                self._hooked.add(id(opt))
                opt.register_step_pre_hook(self._stepped)

    def _stepped(self, *_):
        self.dirty = True

    def on_run_start(self, trainer) -> None:
        self._hook(trainer)
        self.dirty = False

    def on_iteration(self, trainer, stats) -> None:
        self._hook(trainer)
        self.dirty = False

    def on_diverged(self, trainer, message) -> None:
        pass


def say(lines: list[str], prog: str = "gan-studio train") -> None:
    print(f"{prog}: error: {lines[0]}", file=sys.stderr)
    for ln in lines[1:]:
        print(ln, file=sys.stderr)


def studio_plugin(a, name: str | None = None, args: list | None = None, seed: int = 0) -> dict:
    """``gan-studio --plugin ...``: the run's settings for the studio, learned by running the plug-in in a
    separate process (every bad plug-in gets its one line here, before a window opens); the consent to run
    it in the training process is given."""
    from ..core.train.plugin_spec import allow, check_args, parse_ref, plugin_settings, probe

    if name is None:  # gan-studio --plugin ... (the top level's flags)
        if a.studio_preset:
            raise UserError("--plugin gives the networks and the data: leave out --preset")
        name, args, seed = a.studio_plugin, a.studio_plugin_arg, a.studio_seed or 0
    ref = parse_ref(name)
    args = check_args(dict(args or []), "--plugin-arg")
    info = probe(ref, args, seed=seed)
    allow(ref)
    return plugin_settings(info)
