"""``gan-studio train``: train headless (the paper's Algorithm 1) and write a run folder.

Under ``torchrun`` every rank trains; rank 0 alone writes the run folder, checkpoint and GIF and prints
the JSON report. What a run leaves behind is written by trainer observers from the core (the run folder,
:class:`~gan_studio.core.export.gif.GifRecorder`, :class:`~gan_studio.core.record.observers.PeriodicCheckpoint`).
"""
from __future__ import annotations

import errno
import math
import sys
import time
from pathlib import Path

from ..core.settings import SETTINGS, add_flags
from .args import kv, nonneg_int, positive_int
from .errors import EXIT_DIVERGED, EXIT_INTERRUPTED, UserError
from .plugin_opts import add_plugin_args
from .progress import ProgressBar

NAME = "train"
HELP = "train headless (the paper's Algorithm 1) and write a run folder"
DESCRIPTION = ("Train headless. Settings come from --preset, then explicit flags override them. With --resume "
               "the checkpoint's settings continue (flags may change what a running run can change); a "
               "--preset given with --resume must describe the same data, model and seed.")

#: the share of the training time a run's snapshots may take, and its GIF's frames (their work on the training
#: and writer threads): beyond it their spacing grows to a round number (core/record/budget.py); --snapshot-every N and
#: --gif-every N ask for exactly N
RECORD_BUDGET = 0.03
#: argparse dest -> TrainConfig field: every setting with a flag in the settings table (its flag, type, range
#: and choices come from there); --device is read on its own (it also picks the rank's device under torchrun)
TRAIN_SETTINGS = {s.dest: s.name for s in SETTINGS if s.flag and s.name != "device"}


def add_arguments(t) -> None:
    t.add_argument("--preset", help="start from a named preset (see `gan-studio presets`)")
    add_flags(t)  # the settings table's flags: --dataset, --model, --loss, --optimizer, --lr-d, ..., --device
    t.add_argument("--dataset-arg", action="append", type=kv, default=[], metavar="KEY=VALUE",
                   help="dataset parameter, e.g. sigma=0.02 or path=pts.npy (repeatable)")
    t.add_argument("--data-root", help="folder holding downloaded datasets (e.g. ROOT/MNIST/raw)")
    t.add_argument("--download", action="store_true", help="download MNIST, Fashion-MNIST or CIFAR-10 into the "
                   "data root when missing (never done otherwise)")
    t.add_argument("--model-arg", action="append", type=kv, default=[], metavar="KEY=VALUE",
                   help="model parameter, e.g. hidden=256 (repeatable)")
    t.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint, exactly where it stopped")
    t.add_argument("--recipe", metavar="RECIPE.json", help="train the run a recipe describes, making its changes "
                   "at their iterations (see gan-studio recipe; --steps may go with it)")
    t.add_argument("--branch", metavar="RUN_DIR", help="continue a recorded run from step --at, in a new run folder "
                   "(live settings given here are the changes; --steps is the total)")
    t.add_argument("--at", type=nonneg_int, metavar="STEP", help="with --branch: the recorded step to continue from")
    t.add_argument("--out", required=True, metavar="DIR", help="run folder to write (a new or empty folder; "
                   "one holding files is refused unless --resume continues it or --overwrite)")
    t.add_argument("--overwrite", action="store_true", help="--out holds an old run: move it aside to DIR.old-N "
                   "(nothing is deleted) and start a new one")
    t.add_argument("--gif-every", type=positive_int, default=None, metavar="N",
                   help="a GIF frame every N iterations, exactly (default: about 60 over the run, fewer when "
                        f"they would take more than {RECORD_BUDGET * 100:g}%% of the training time)")
    t.add_argument("--snapshot-every", type=positive_int, default=None, metavar="N",
                   help="a snapshot every N iterations, exactly (default: about 200 over the run, fewer when "
                        f"they would take more than {RECORD_BUDGET * 100:g}%% of the training time)")
    t.add_argument("--log-every", type=positive_int, default=10, help="iterations between metrics.jsonl lines")
    t.add_argument("--save-every", type=nonneg_int, default=0, help="also checkpoint every N iterations (0: at end)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_plugin_args(t)


def run(a) -> int:
    from ..core.train import distributed

    dinfo = distributed.init_from_env(a.device or "auto")  # under torchrun: join the group
    main = dinfo is None or dinfo.is_main  # rank 0 writes the run folder, checkpoint and GIF
    if dinfo is not None:
        a.device = distributed.device_for(dinfo, a.device or "auto")
        a.quiet = a.quiet or not main
    from ..core.record.outdir import OutDir

    _branch_out(a)
    # an existing folder is refused unless --resume/--overwrite (core/record/outdir.py); only rank 0 writes
    guard = OutDir(a.out, resume=a.resume, overwrite=getattr(a, "overwrite", False)).check() if main else None
    # the trainer first (a refused configuration, or a plug-in that hangs until the backstop ends the process,
    # leaves every file as it was: no empty folder, an old run not moved aside), then the folder
    trainer = setup(a)
    out = guard.claim() if guard is not None else Path(a.out).expanduser()
    if getattr(a, "keep_points", False) and main:
        _keep_points(out, trainer)
    if guard is not None and guard.moved_to is not None:  # said even with --quiet: where the old run went
        print(f"gan-studio train: moved the old {out.name} aside to {guard.moved_to}", file=sys.stderr)
    try:
        return _train(a, out, trainer, dinfo, main)
    except OSError as exc:  # a file written outside the atomic helpers (metrics.jsonl, ...) on a full disk
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise UserError(f"cannot write in {out}: {exc.strerror}") from None
        raise


# ------------------------------------------------------------------------------------- the configuration
def explicit_settings(a) -> dict:
    """The settings given as flags, as TrainConfig fields (``--data-root`` goes into ``dataset_args.root``)."""
    explicit = {TRAIN_SETTINGS[k]: getattr(a, k) for k in TRAIN_SETTINGS if getattr(a, k) is not None}
    if a.dataset_arg:
        explicit["dataset_args"] = dict(a.dataset_arg)
    if a.model_arg:
        explicit["model_args"] = dict(a.model_arg)
    if a.data_root:
        explicit.setdefault("dataset_args", {})["root"] = a.data_root
    if getattr(a, "download", False):
        explicit.setdefault("dataset_args", {})["download"] = True
    return explicit


def new_config(a, explicit: dict) -> dict:
    """A new run's configuration: the preset (or the defaults, with the model that suits the data when only
    the data are named), then the explicit flags; ``--dataset-arg``/``--model-arg`` add to the preset's."""
    from ..core.train.config import TrainConfig, defaults_for_dataset
    from ..core.train.presets import get_preset

    explicit = dict(explicit)
    base = get_preset(a.preset).config.to_dict() if a.preset else TrainConfig().to_dict()
    if a.preset is None and "dataset" in explicit and "model" not in explicit:
        base.update(defaults_for_dataset(explicit["dataset"]))
    if "dataset_args" in explicit and a.preset and "dataset" not in explicit:
        explicit["dataset_args"] = {**base.get("dataset_args", {}), **explicit["dataset_args"]}
    if "model_args" in explicit and "model" not in explicit:
        explicit["model_args"] = {**base.get("model_args", {}), **explicit["model_args"]}
    if "dataset" in explicit and "dataset_args" not in explicit and explicit["dataset"] != base["dataset"]:
        base["dataset_args"] = {}
    if "model" in explicit and "model_args" not in explicit and explicit["model"] != base["model"]:
        base["model_args"] = {}
    base.update(explicit)
    if a.device:
        base["device"] = a.device
    return base


def preset_mismatch(name: str, described: dict, ckpt_config: dict) -> str | None:
    """Why ``--preset NAME`` (with the flags, as ``described``) cannot go with ``--resume``, or None when its
    data, model and seed are the checkpoint's."""
    from ..core.train.checkpoint import structural_differences
    from ..core.train.config import STRUCTURAL_KEYS

    diffs = structural_differences(ckpt_config, {k: described[k] for k in (*STRUCTURAL_KEYS, "seed")
                                                 if k in described})
    if not diffs:
        return None
    listed = "; ".join(f"{k}: checkpoint has {have!r}, the preset gives {want!r}" for k, have, want in diffs)
    return (f"--preset {name} does not match the checkpoint ({listed}). Leave out --preset to continue with the "
            f"checkpoint's own settings, or start a new run")


def setup(a):
    """The trainer to run: new from the configuration, or resumed from ``--resume``."""
    from ..core.train.checkpoint import trainer_from_checkpoint
    from ..core.train.config import TrainConfig
    from ..core.train.trainer import Trainer
    from .plugin_opts import check_plugin_flags, plugin_config, use_plugin

    plugin = use_plugin(a)  # the user's consent to run the plug-in they name (and only that one)
    if plugin is not None and (a.resume or getattr(a, "recipe", None) or getattr(a, "branch", None)):
        check_plugin_flags(a, plugin)
    elif plugin is not None:
        return Trainer(TrainConfig.from_dict(plugin_config(a, plugin, explicit_settings(a))))
    if getattr(a, "recipe", None):  # the recipe's settings, data and scheduled changes (cli/recipe.py)
        from .recipe import recipe_trainer

        return recipe_trainer(a, explicit_settings(a))
    explicit = explicit_settings(a)
    if getattr(a, "branch", None) or getattr(a, "at", None) is not None:
        return _branch(a, explicit)
    if not a.resume:
        a.keep_points = True  # a new run of a points file: a copy in its folder, once the folder is made
        return Trainer(TrainConfig.from_dict(new_config(a, explicit)))
    # with --resume, the data are found only where the command line says: --data-root (or the default data
    # root) and --dataset-arg path=/download= ; the checkpoint's own paths are never used
    described = TrainConfig.from_dict(new_config(a, explicit)).to_dict() if a.preset else None
    requested = dict(explicit)
    if "dataset_args" in requested:
        requested["dataset_args"] = {k: v for k, v in requested["dataset_args"].items() if k != "root"}
        if not requested["dataset_args"]:
            requested.pop("dataset_args")
    trainer = trainer_from_checkpoint(a.resume, requested, device=a.device, data_root=a.data_root)
    if described is not None:
        why = preset_mismatch(a.preset, described, trainer.config.to_dict())
        if why:
            raise UserError(why)
    if "steps" not in explicit:
        trainer.config.steps = max(trainer.config.steps, trainer.iteration)
    return trainer


#: a points dataset up to this size is kept in the run folder, so the folder is whole (recipe RUN_DIR)
KEEP_POINTS_MAX_BYTES = 256 * 2**20


def _keep_points(out: Path, trainer):
    """A new run of a points file keeps a copy in its folder (``points-<hash>.npy``, as a recipe's run does)
    and names that copy in its configuration: the folder then holds its own data, and a recipe made from it
    never reads a path outside it."""
    from ..core.atomic import atomic_write_bytes
    from ..core.train.data.points_io import points_file_bytes

    if trainer.config.dataset != "points" or getattr(trainer.dataset, "array", None) is None:
        return trainer
    pts = trainer.dataset.array.detach().cpu().numpy()
    if pts.nbytes > KEEP_POINTS_MAX_BYTES or not out.is_dir():
        return trainer
    name, data = points_file_bytes(pts)
    kept = out / name
    if not kept.is_file():
        atomic_write_bytes(kept, data)
    trainer.config.dataset_args = {**trainer.config.dataset_args, "path": str(kept.resolve())}
    return trainer


def _branch_out(a) -> None:
    if getattr(a, "branch", None) and Path(a.out).expanduser().resolve() == Path(a.branch).expanduser().resolve():
        raise UserError("--out must be a new folder: the branch must not overwrite the run it continues")


def _branch(a, explicit: dict):
    """``--branch RUN_DIR --at STEP``: the recorded state at STEP, with the live flags as changes."""
    from ..core.record.branch import branch_trainer
    from ..core.train.config import LIVE_KEYS

    if not a.branch or a.at is None:
        raise UserError("--branch RUN_DIR and --at STEP go together")
    if a.resume or a.preset:
        raise UserError("--branch continues a recorded run: leave out --resume and --preset")
    fixed = [k for k in explicit if k not in LIVE_KEYS + ("steps", "dataset_args")]
    if fixed:
        raise UserError(f"a branch keeps its parent's networks and data: {', '.join(fixed)} cannot change "
                        f"(live settings can: {', '.join(LIVE_KEYS)})")
    _branch_out(a)
    changes = {k: v for k, v in explicit.items() if k != "dataset_args"}
    locations = {k: v for k, v in (explicit.get("dataset_args") or {}).items() if k != "root"}
    return branch_trainer(a.branch, a.at, changes, device=a.device, data_root=a.data_root,
                          dataset_args=locations or None)


# ------------------------------------------------------------------------------------- training
class _Stopwatch:
    """Times the training loop alone (added first, so the end-of-run writes are not counted)."""

    t0 = t1 = None

    def on_iteration(self, trainer, stats) -> None:
        pass

    def on_diverged(self, trainer, message) -> None:
        pass

    def on_run_start(self, trainer) -> None:
        self.t0 = time.perf_counter()

    def on_run_end(self, trainer, reason) -> None:
        self.t1 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return 0.0 if self.t0 is None else (self.t1 or time.perf_counter()) - self.t0


def _num(v: float):
    return v if math.isfinite(v) else None


def _train(a, out: Path, trainer, dinfo, main: bool) -> int:
    from ..core.atomic import atomic_write_bytes, remove_stale_temps
    from ..core.doctor.observer import DoctorObserver
    from ..core.evaluate.metrics import mode_metrics
    from ..core.record.control import TrainerSteering
    from ..core.export.gif import GifRecorder
    from ..core.record.observers import PeriodicCheckpoint
    from ..core.record.runfolder import RunFolderError, RunWriter
    from ..core.schema import dumps
    from ..core.train import distributed
    from ..core.train.checkpoint import RUN_FILES
    from ..core.train.plugin_spec import EXIT_PLUGIN_ERROR
    from ..core.train.trainer import Diverged
    from .plugin_opts import UpdateWatch, keep_last_iteration, plugin_failure, say

    if dinfo is not None:
        trainer.enable_distributed(dinfo)
    steps = trainer.config.steps
    start = trainer.iteration
    if not main:
        return _train_worker(trainer, steps, dinfo)
    for p in remove_stale_temps(out, RUN_FILES):  # left by a run that was killed while saving
        if not a.quiet:
            print(f"gan-studio train: removed {p.name}, a temp file left by an interrupted run", file=sys.stderr)
    atomic_write_bytes(out / "config.json", (dumps(trainer.config.to_dict(), indent=2) + "\n").encode())
    ckpt, gif_path = out / "checkpoint.pt", out / "samples.gif"
    clock = trainer.add_observer(_Stopwatch())
    # the GIF's frames and the run folder's files are drawn and written off the training thread
    gif = trainer.add_observer(GifRecorder(every=a.gif_every or max(1, steps // 60), path=gif_path, background=True,
                                           budget=None if a.gif_every else RECORD_BUDGET))
    gif.capture(trainer)  # the first frame, before the clock starts
    try:
        writer = trainer.add_observer(RunWriter(out, trainer, log_every=a.log_every, resume=bool(a.resume),
                                                every=a.snapshot_every or max(1, steps // 200), background=True,
                                                budget=None if a.snapshot_every else RECORD_BUDGET))
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    bar = trainer.add_observer(ProgressBar(steps, start, not a.quiet))
    doctor = trainer.add_observer(DoctorObserver(writer=writer, probe_every=100 if steps <= 20_000 else 250,
                                                 on_finding=None if a.quiet else _say_finding(bar)))
    trainer.add_observer(PeriodicCheckpoint(ckpt, every=a.save_every))  # and at the end, like the GIF
    several = "a run on several ranks takes no live changes (pause and resume work)"
    steering = trainer.add_observer(  # gan-studio control RUN_DIR: pause, resume, live changes
        TrainerSteering(writer, no_changes=None if dinfo is None else several))
    status, exit_code = "finished", 0
    watch = trainer.add_observer(UpdateWatch()) if trainer.config.plugin is not None else None
    try:
        trainer.run(steps)
    except Diverged as exc:
        status, exit_code = "diverged", EXIT_DIVERGED
        print(f"gan-studio train: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        status, exit_code = "interrupted", EXIT_INTERRUPTED
    except Exception as exc:  # the user's plug-in raised: its frames, the run folder and a checkpoint kept
        lines = plugin_failure(exc, trainer)
        if lines is None:
            writer.close()  # its writer thread ends with the run (an in-process caller goes on)
            raise
        status, exit_code = "plugin-error", EXIT_PLUGIN_ERROR
        say(lines)
        kept = keep_last_iteration(trainer, watch)
        PeriodicCheckpoint(ckpt).save(trainer)
        gif.flush()
        if gif.frames:
            gif.write(gif_path, gif.duration_ms)
        print(f"gan-studio train: kept the run folder {out} and a checkpoint of {kept}", file=sys.stderr)
    except BaseException:  # (SystemExit, an alarm of an in-process caller): the writer thread ends with the run
        writer.close()
        raise
    seconds = clock.seconds - steering.paused_seconds  # time paused (gan-studio control) is not training time
    agree = distributed.ranks_agree(trainer.G, trainer.D) if dinfo is not None else None
    try:
        writer.close(trainer)
    except Exception:  # noqa: BLE001 - the plug-in failed again on the last snapshot: close without it
        if status != "plugin-error":
            raise
        writer.close()
    if writer.first_error:  # (the run folder's writer failed, on a full disk say: one line, training went on)
        print(f"gan-studio train: {writer.first_error}", file=sys.stderr)
    done = trainer.iteration - start
    result = {"status": status, "iterations": trainer.iteration, "trained": done, "seconds": round(seconds, 3),
              "it_per_s": round(done / seconds, 2) if seconds > 0 else 0.0, "device": str(trainer.device),
              "preset": a.preset, "checkpoint": str(ckpt), "gif": str(gif_path),
              "metrics": str(out / "metrics.jsonl")}
    if dinfo is not None:
        result.update(world_size=dinfo.world_size, backend=dinfo.backend, ranks_agree=agree,
                      global_batch=trainer.config.batch_size * dinfo.world_size)
    h = trainer.history
    if len(h["d_loss"]):
        result.update(d_loss=_num(h["d_loss"][-1]), g_loss=_num(h["g_loss"][-1]))
    if trainer.dataset.centers is not None and status != "plugin-error":
        m = mode_metrics(trainer.generate(2500, seed=0), trainer.dataset.centers, trainer.dataset.sigma)
        result.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                      high_quality=round(m["high_quality"], 4))
    if trainer.diverged:
        result["diverged"] = trainer.diverged
    result["doctor"] = [f.name for f in doctor.doctor.problems()] if doctor.doctor is not None else []
    print(dumps(result))
    if dinfo is not None:
        distributed.finish()
    return exit_code


def _say_finding(bar: ProgressBar):
    """Print each new finding once, as one line on stderr (clearing the progress bar's line first)."""
    def say(f) -> None:
        sys.stderr.write(("\r\x1b[K" if bar.enabled else "") + f"doctor: {f.sentence}\n")
        sys.stderr.flush()

    return say


def _train_worker(trainer, steps: int, dinfo) -> int:
    """A rank other than 0: train in step with the others, write nothing, print nothing."""
    from ..core.train import distributed
    from ..core.train.trainer import Diverged

    code = 0
    try:
        trainer.run(steps)
    except Diverged as exc:
        print(f"gan-studio train (rank {dinfo.rank}): {exc}", file=sys.stderr)
        code = EXIT_DIVERGED
    distributed.ranks_agree(trainer.G, trainer.D)  # the collective rank 0 also calls
    distributed.finish()
    return code
