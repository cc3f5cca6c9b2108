"""``gan-studio recipe``: write a recipe (one small JSON file that starts the same run elsewhere) from a run
folder; and the recipe parts of ``train --recipe`` and ``open RECIPE.json`` (see core/record/recipe.py)."""
from __future__ import annotations

from pathlib import Path

from .args import check_studio_args, studio_missing
from .errors import UserError

NAME = "recipe"
HELP = "write a recipe (settings, data, changes at their iterations) from a run folder"
DESCRIPTION = ("Write a recipe of a recorded run: its starting settings, seed and device preference, its data "
               "(a points dataset's points inline, or beside the recipe when there are more than 20,000), and "
               "the settings changed during the run at their iterations. `gan-studio RECIPE.json` opens it in "
               "the studio; `gan-studio train --recipe RECIPE.json --out DIR` trains it headless. With --line, "
               "print the one-line form instead (for chat and slides; the studio's Edit → Paste recipe reads it).")


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (from gan-studio train, or the studio's)")
    p.add_argument("--out", metavar="RECIPE.json", help="the recipe to write (required unless --line)")
    p.add_argument("--line", action="store_true", help="print the one-line form (ganstudio:1:...) on stdout")
    p.add_argument("--title", default="", help="a title, shown in the studio beside the preset's explanation")
    p.add_argument("--notes", default="", help="lesson notes, shown under the title")


def run(a) -> int:
    from ..core.record.recipe import from_run_folder

    if not a.out and not a.line:
        raise UserError("give --out RECIPE.json (or --line to print the one-line form)")
    if a.out and Path(a.out).expanduser().is_dir():
        raise UserError(f"--out {a.out} is a folder; name the recipe file to write, e.g. {a.out}/recipe.json")
    rec = from_run_folder(a.run_dir, title=a.title, notes=a.notes)
    if a.line:
        print(rec.to_line())
    if a.out:
        p = rec.save(a.out)
        if not a.line:
            print(f"wrote {p} ({len(rec.changes)} change(s); iterations: "
                  f"{', '.join(str(at) for at, _ in rec.changes[:8]) or 'none'})")
    return 0


# ------------------------------------------------------------------------------------- train --recipe
#: flags that may go with --recipe (the recipe gives every other setting)
_WITH_RECIPE = ("steps",)


def recipe_trainer(a, explicit: dict):
    """``gan-studio train --recipe R --out DIR``: the recipe's run, with its changes scheduled. A points
    dataset's points are written into the run folder (``points-<hash>.npy``) and read from there.
    ``explicit``: the settings given as flags (``train``'s ``explicit_settings``: only a few may go with a
    recipe)."""
    from ..core.record.recipe import load
    from ..core.train.trainer import Trainer

    other = next((f for f, v in (("--resume", a.resume), ("--preset", a.preset),
                                 ("--branch", getattr(a, "branch", None))) if v), None)
    if other:
        raise UserError(f"--recipe gives the run; leave out {other}")
    located = explicit.get("dataset_args") or {}  # where the receiver's data are: --data-root, --download, path=
    extra = [k for k in explicit if k not in _WITH_RECIPE
             and not (k == "dataset_args" and set(located) <= {"root", "download", "path"})]
    if extra:
        flags = ", ".join("--" + k.replace("_", "-").replace("dataset-args", "dataset-arg").replace(
            "model-args", "model-arg") for k in extra)
        raise UserError(f"--recipe gives the settings; leave out {flags} (only --steps, --device, --data-root, "
                        "--download and --dataset-arg path= may go with it; to change a setting on the way, add "
                        "it to the recipe's changes)")
    rec = load(a.recipe)  # checked in full before anything is written
    if a.device:
        rec.config["device"] = a.device
    if a.steps is not None:
        rec.config["steps"] = a.steps
    if located:  # a recipe names no place on the receiver's machine: only the command line does
        if "path" in located and rec.points is not None:
            raise UserError("the recipe carries its points; leave out --dataset-arg path=")
        rec.config["dataset_args"] = {**rec.config["dataset_args"], **located}
    points = rec.write_points(Path(a.out).expanduser())
    try:
        trainer = Trainer(rec.train_config(points))
    except BaseException:
        if points is not None:
            points.unlink(missing_ok=True)
        raise
    sched = rec.schedule()
    trainer.add_observer(sched)  # its first changes are made when the run starts, with the run folder open
    trainer.recipe_schedule = sched
    return trainer


# ------------------------------------------------------------------------------------- open RECIPE.json
def open_recipe(a) -> int:
    """``gan-studio RECIPE.json`` / ``gan-studio open RECIPE.json``: check the recipe, then start it in the studio."""
    from ..core.record.recipe import load

    check_studio_args(a)
    rec = load(a.run_dir)  # a clear one-line message before any window opens
    try:
        from ..gui.app import run_studio
    except ImportError as exc:
        return studio_missing(exc)
    return run_studio(recipe=rec, exit_after=a.exit_after, exit_at=a.exit_at, screenshot=a.screenshot, size=a.size)
