"""``gan-studio open``: replay a run folder in the studio with a step slider."""
from __future__ import annotations

import os
import sys

from .args import add_studio_args, check_studio_args, index_int, studio_missing
from .errors import UserError

NAME = "open"
HELP = "replay a run folder in the studio with a step slider"
DESCRIPTION = ("Show a recorded run (from gan-studio train, or saved from the studio) with a step slider. "
               "--follow keeps reading a run that is still being written.")


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--follow", action="store_true", help="keep showing what a running training adds")
    p.add_argument("--position", type=index_int, help="show this snapshot (0 = first; default: first, or "
                                                        "the newest with --follow)")
    add_studio_args(p)


def run(a) -> int:
    from ..core.record.runfolder import RunFolder, RunFolderError

    check_studio_args(a)
    if os.path.isfile(a.run_dir):  # a recipe (gan-studio open RECIPE.json): start the run it describes
        from .recipe import open_recipe

        return open_recipe(a)
    try:
        run = RunFolder(a.run_dir)  # a clear message before any window opens
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    if not run.index:  # the studio would refuse it: say why here, in one line
        why = f" ({run.warning_summary()})" if run.warnings else ""
        raise UserError(f"{run.path} has no recorded snapshots to show{why}")
    if run.warnings:  # damaged lines that were left out: one line here (the studio shows it in its banner)
        print(f"gan-studio {NAME}: warning: {run.warning_summary()}", file=sys.stderr)
    try:
        from ..gui.app import run_studio
    except ImportError as exc:
        return studio_missing(exc)
    return run_studio(open_run=a.run_dir, follow=a.follow, exit_after=a.exit_after, exit_at=a.exit_at, screenshot=a.screenshot,
                      size=a.size, position=a.position)
