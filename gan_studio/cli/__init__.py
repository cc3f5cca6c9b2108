"""Command line: ``gan-studio`` (the studio window) and ``gan-studio COMMAND``.

Each command is a module of this package with the same shape::

    NAME = "train"                 # the word after gan-studio
    HELP = "..."                   # its line in gan-studio --help
    DESCRIPTION = "..."            # optional: the top of gan-studio NAME --help
    def add_arguments(p: argparse.ArgumentParser) -> None: ...
    def run(a: argparse.Namespace) -> int: ...   # the exit status

A module may instead expose ``COMMANDS = [obj, ...]``, objects with those attributes (several commands in
one module). Command modules import torch and numpy inside ``run`` only, so ``gan-studio --help`` and
``gan-studio train --help`` never load them. Errors become one line and an exit status in one place,
:func:`gan_studio.cli.errors.run_guarded`.
"""
from __future__ import annotations

import argparse
import importlib
import os

from .args import Parser, add_studio_args, check_studio_args, kv, nonneg_int, studio_missing
from .errors import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_USAGE, UserError, run_guarded

__all__ = ["run_cli", "build_parser", "commands", "UserError", "EXIT_USAGE", "EXIT_DIVERGED", "EXIT_INTERRUPTED"]

#: The command modules, in the order ``gan-studio --help`` lists them.
COMMAND_MODULES = ("train", "sample", "parzen", "evaluate", "doctor", "presets", "export", "gif", "metrics",
                   "open_run", "compare", "reproduce", "figures", "recipe", "control")


def commands() -> list:
    """The registered commands (modules, or the objects in a module's ``COMMANDS``). A module of the list
    that does not exist (yet) is left out; any other import error is raised."""
    found = []
    for mod in COMMAND_MODULES:
        full = f"{__name__}.{mod}"
        try:
            m = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name == full:
                continue
            raise
        found.extend(getattr(m, "COMMANDS", None) or [m])
    return found


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = Parser(prog="gan-studio", description="Train GANs and watch and steer the training live. "
               "Without a command, opens the studio window.")
    p.add_argument("--version", action="version", version=f"gan-studio {__version__}")
    g = p.add_argument_group("studio window (when no COMMAND is given)")
    g.add_argument("--preset", dest="studio_preset", metavar="NAME",
                   help="open with this preset and start training at once (default: your last session, paused)")
    add_studio_args(g, top=True)
    g.add_argument("--seed", dest="studio_seed", type=nonneg_int, help="seed of the run")
    g.add_argument("--device", dest="studio_device", help="auto, cpu, cuda or mps")
    g.add_argument("--present", action="store_true", help="start in presentation mode (full screen, large type)")
    g.add_argument("--plugin", dest="studio_plugin", metavar="PATH.py[:FUNCTION]",
                   help="train your own generator, discriminator and data (see README: Your own GAN)")
    g.add_argument("--plugin-arg", dest="studio_plugin_arg", action="append", type=kv, default=[],
                   metavar="KEY=VALUE", help="keyword argument for the plug-in's function (repeatable)")
    sub = p.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    for cmd in commands():
        sp = sub.add_parser(cmd.NAME, help=cmd.HELP, description=getattr(cmd, "DESCRIPTION", None))
        cmd.add_arguments(sp)
        sp.set_defaults(_run=cmd.run)
    return p


def _run_studio(a) -> int:
    check_studio_args(a)
    if a.studio_device is not None:
        from ..core.train.config import validate_values

        validate_values({"device": a.studio_device})
    plugin = None
    if a.studio_plugin:  # run in a separate process to learn its settings: the window never runs its code
        from .plugin_opts import studio_plugin

        plugin = studio_plugin(a)
    try:
        from ..gui.app import run_studio
    except ImportError as exc:
        return studio_missing(exc)
    return run_studio(preset=a.studio_preset, exit_after=a.exit_after, exit_at=a.exit_at, screenshot=a.screenshot,
                      seed=a.studio_seed, device=a.studio_device, size=a.size, present=a.present, plugin=plugin)


def run_cli(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-") and os.path.isfile(argv[0]) and argv[0] not in {
            c.NAME for c in commands()}:  # gan-studio RECIPE.json: open it in the studio
        argv = ["open", *argv]
    a = build_parser().parse_args(argv)
    if a.command is None:
        return run_guarded("gan-studio", _run_studio, a)
    return run_guarded(f"gan-studio {a.command}", a._run, a)
