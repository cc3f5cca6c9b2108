"""Command line: ``gan-studio train | sample | presets | export | gif | metrics | open | compare | parzen | eval``.

Every failure a user can cause (bad arguments, missing files, unknown names, corrupt checkpoints)
ends with one clear line on stderr and a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _kv(text: str):
    """KEY=VALUE, VALUE parsed as JSON when it is JSON (numbers, lists, true/false), else a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        return k.strip(), json.loads(v)
    except json.JSONDecodeError:
        return k.strip(), v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    v = _float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return v


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(t) for t in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1440x900, got {text!r}") from None
    if not (320 <= w <= 10000 and 240 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"window size {w}x{h} is out of range (320x240 to 10000x10000)")
    return w, h


# ------------------------------------------------------------------------------------- parser
TRAIN_SETTINGS = {  # argparse dest -> TrainConfig field
    "dataset": "dataset", "model": "model", "loss": "loss", "optimizer": "optimizer", "lr_d": "lr_d",
    "lr_g": "lr_g", "k": "k", "g_steps": "g_steps", "batch_size": "batch_size", "z_dim": "z_dim",
    "noise": "noise", "steps": "steps", "seed": "seed", "momentum": "momentum",
}


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = Parser(prog="gan-studio", description="Train GANs and watch and steer the training live. "
               "Without a command, opens the studio window.")
    p.add_argument("--version", action="version", version=f"gan-studio {__version__}")
    g = p.add_argument_group("studio window (when no COMMAND is given)")
    g.add_argument("--preset", dest="studio_preset", metavar="NAME",
                   help="open with this preset and start training at once (default: your last session, paused)")
    g.add_argument("--exit-after", type=_positive_float, metavar="SECONDS",
                   help="close after this many seconds and print one JSON line of figures (for docs and tests)")
    g.add_argument("--screenshot", metavar="FILE.png", help="with --exit-after: save the window to this PNG first")
    g.add_argument("--seed", dest="studio_seed", type=_nonneg_int, help="seed of the run")
    g.add_argument("--device", dest="studio_device", help="auto, cpu, cuda or mps")
    g.add_argument("--size", type=_size, metavar="WxH", help="window size, e.g. 1440x900")
    g.add_argument("--present", action="store_true", help="start in presentation mode (full screen, large type)")
    sub = p.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train headless (the paper's Algorithm 1) and write a run folder",
                       description="Train headless. Settings come from --preset, then explicit flags override them.")
    t.add_argument("--preset", help="start from a named preset (see `gan-studio presets`)")
    t.add_argument("--dataset", help="dataset name (ring8, grid25, bimodal1d, spiral, moons, points, digits, mnist, "
                                     "fashion-mnist, cifar10, image-folder)")
    t.add_argument("--dataset-arg", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="dataset parameter, e.g. sigma=0.02 or path=pts.npy (repeatable)")
    t.add_argument("--data-root", help="folder holding downloaded datasets (e.g. ROOT/MNIST/raw)")
    t.add_argument("--model", help="model pair (mlp, paper-mlp, dcgan, cond-mlp, cond-paper-mlp, cond-dcgan)")
    t.add_argument("--model-arg", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="model parameter, e.g. hidden=256 (repeatable)")
    t.add_argument("--loss", help="minimax, nonsaturating, lsgan, hinge or wgan-gp")
    t.add_argument("--optimizer", choices=["adam", "sgd"])
    t.add_argument("--lr-d", type=_float, help="discriminator learning rate")
    t.add_argument("--lr-g", type=_float, help="generator learning rate")
    t.add_argument("--momentum", type=_float, help="SGD momentum")
    t.add_argument("--k", type=_positive_int, help="discriminator steps per iteration (the paper's k)")
    t.add_argument("--g-steps", type=_positive_int, help="generator steps per iteration")
    t.add_argument("--batch-size", type=_positive_int, help="minibatch size m")
    t.add_argument("--z-dim", type=_positive_int, help="noise dimension")
    t.add_argument("--noise", choices=["normal", "uniform"])
    t.add_argument("--steps", type=_nonneg_int, help="train until this many iterations in total")
    t.add_argument("--seed", type=_nonneg_int)
    t.add_argument("--device", default=None, help="auto (cuda, then mps, then cpu), cpu, cuda or mps")
    t.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint, exactly where it stopped")
    t.add_argument("--out", required=True, metavar="DIR", help="run folder to write")
    t.add_argument("--gif-every", type=_positive_int, default=None, help="iterations between GIF frames")
    t.add_argument("--log-every", type=_positive_int, default=10, help="iterations between metrics.jsonl lines")
    t.add_argument("--save-every", type=_nonneg_int, default=0, help="also checkpoint every N iterations (0: at end)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sample", help="draw samples from a checkpoint into a .npy file")
    s.add_argument("checkpoint", metavar="CKPT")
    s.add_argument("--n", type=_positive_int, default=1000, help="number of samples")
    s.add_argument("--out", required=True, metavar="FILE.npy")
    s.add_argument("--seed", type=_nonneg_int, default=0)
    s.add_argument("--device", default="cpu")

    pz = sub.add_parser("parzen", help="Parzen-window log-likelihood of samples (the paper's Table 1 protocol)",
                        description="Parzen-window log-likelihood in nats: σ chosen on --valid (or on the test set "
                                    "when there is none), then mean ± std/√N over --test. Arrays are .npy, "
                                    "N×d or N×C×H×W (flattened).")
    pz.add_argument("samples", metavar="SAMPLES.npy", help="generated samples (the kernel centres)")
    pz.add_argument("--test", required=True, metavar="TEST.npy")
    pz.add_argument("--valid", metavar="VALID.npy", help="validation set for choosing σ")
    pz.add_argument("--sigmas", type=_positive_float, nargs="+", metavar="S",
                    help="σ grid (default: logspace(-1, 0, 10), as the paper)")
    pz.add_argument("--chunk", type=_positive_int, default=1024, help="test points per block (memory)")
    pz.add_argument("--device", default="cpu", help="cpu or cuda")
    pz.add_argument("--quiet", action="store_true", help="no progress bar")

    ev = sub.add_parser("eval", help="every metric that applies to a checkpoint or to samples",
                        description="Mode metrics for Gaussian mixtures, classifier metrics for labelled images "
                                    "(class coverage, classifier score, Fréchet distance), Parzen on request.")
    ev.add_argument("source", metavar="CKPT|SAMPLES.npy")
    ev.add_argument("--dataset", help="the samples' dataset (needed for .npy samples)")
    ev.add_argument("--dataset-arg", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    ev.add_argument("--data-root", help="folder holding downloaded datasets")
    ev.add_argument("--n", type=_positive_int, help="samples to draw from a checkpoint "
                                                    "(default 2,500 for points, 10,000 for images or --parzen)")
    ev.add_argument("--parzen", action="store_true", help="also the Parzen-window log-likelihood")
    ev.add_argument("--seed", type=_nonneg_int, default=0)
    ev.add_argument("--json", action="store_true", help="one JSON object instead of readable lines")

    pr = sub.add_parser("presets", help="list the presets")
    pr.add_argument("--json", action="store_true", help="full configurations as JSON")

    e = sub.add_parser("export", help="export the generator alone (safetensors + JSON config)")
    e.add_argument("checkpoint", metavar="CKPT")
    e.add_argument("--out", required=True, metavar="FILE.safetensors")

    gf = sub.add_parser("gif", help="a looping GIF of a recorded run (field or samples) or of a latent walk",
                        description="Animate a run folder's recorded snapshots (--view field: points over D's "
                                    "heatmap, for 1-D/2-D data; --view samples), or walk G's latent space in a "
                                    "closed loop (--view latent; needs a checkpoint, or a run folder holding one).")
    gf.add_argument("source", metavar="RUN_DIR|CKPT")
    gf.add_argument("--view", choices=["field", "samples", "latent"], default="field")
    gf.add_argument("--out", required=True, metavar="FILE.gif")
    gf.add_argument("--size", type=_positive_int, default=360, help="frame width in pixels (default 360)")
    gf.add_argument("--fps", type=_positive_float, default=8.0, help="frames per second (default 8)")
    gf.add_argument("--max-frames", type=_positive_int, default=240, help="at most this many frames (default 240)")
    gf.add_argument("--no-captions", action="store_true", help="no iteration/modes caption above each frame")

    mt = sub.add_parser("metrics", help="a run folder's metrics as CSV")
    mt.add_argument("run_dir", metavar="RUN_DIR")
    mt.add_argument("--out", required=True, metavar="FILE.csv")

    op = sub.add_parser("open", help="replay a run folder in the studio with a step slider",
                        description="Show a recorded run (from gan-studio train, or saved from the studio) with "
                                    "a step slider. --follow keeps reading a run that is still being written.")
    op.add_argument("run_dir", metavar="RUN_DIR")
    op.add_argument("--follow", action="store_true", help="keep showing what a running training adds")
    op.add_argument("--exit-after", type=_positive_float, metavar="SECONDS", help="close after this long")
    op.add_argument("--screenshot", metavar="FILE.png", help="with --exit-after: save the window first")
    op.add_argument("--position", type=_nonneg_int, help="show this snapshot (0 = first; default: first, or "
                                                          "the newest with --follow)")
    op.add_argument("--size", type=_size, metavar="WxH")

    cp = sub.add_parser("compare", help="two runs side by side in the studio, stepped in lockstep",
                        description="Run a preset twice, same data and seed, differing in the settings you give "
                                    "(e.g. --b loss=nonsaturating, --b unroll=5). Without --a/--b, the preset's "
                                    "own suggestion (see gan-studio presets --json).")
    cp.add_argument("preset", metavar="PRESET")
    cp.add_argument("--a", action="append", type=_kv, default=[], metavar="KEY=VALUE", help="run A's setting")
    cp.add_argument("--b", action="append", type=_kv, default=[], metavar="KEY=VALUE", help="run B's setting")
    cp.add_argument("--exit-after", type=_positive_float, metavar="SECONDS", help="close after this long")
    cp.add_argument("--screenshot", metavar="FILE.png", help="with --exit-after: save the window first")
    cp.add_argument("--size", type=_size, metavar="WxH")
    return p


# ------------------------------------------------------------------------------------- commands
def _explicit_settings(a) -> dict:
    d = {TRAIN_SETTINGS[k]: getattr(a, k) for k in TRAIN_SETTINGS if getattr(a, k) is not None}
    return d


def cmd_presets(a) -> int:
    from .core.presets import all_presets

    presets = all_presets()
    if a.json:
        print(json.dumps({n: {"summary": p.summary, "config": p.config.to_dict()} for n, p in presets.items()},
                         indent=2))
    else:
        w = max(len(n) for n in presets)
        for n, p in presets.items():
            print(f"{n:<{w}}  {p.summary}")
    return 0


class ProgressBar:
    """A one-line progress bar on stderr (only when it is a terminal), redrawn at most 5 times a second."""

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.total, self.start = total, start
        self.enabled = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def on_iteration(self, trainer, stats) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and stats.iteration < self.total):
            return
        self.last = now
        done = stats.iteration
        frac = done / max(1, self.total)
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        rate = (done - self.start) / max(1e-9, now - self.t0)
        sys.stderr.write(f"\r[{bar}] {done}/{self.total}  {rate:6.0f} it/s  D {stats.d_loss:.3f}  G {stats.g_loss:.3f} ")
        sys.stderr.flush()

    def on_diverged(self, trainer, message) -> None:
        pass

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _num(v: float):
    return v if math.isfinite(v) else None


def cmd_train(a) -> int:
    from .core import distributed

    dinfo = distributed.init_from_env(a.device or "auto")  # under torchrun: join the group
    main = dinfo is None or dinfo.is_main  # rank 0 writes the run folder, checkpoint and GIF
    if dinfo is not None:
        a.device = distributed.device_for(dinfo, a.device or "auto")
        a.quiet = a.quiet or not main
    out = Path(a.out).expanduser()
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create run folder {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"run folder {out} is not writable")
    try:
        trainer = _train_setup(a, out)
    except BaseException:
        if created:  # a refused configuration leaves no empty run folder behind
            try:
                out.rmdir()
            except OSError:
                pass
        raise
    return _train_run(a, out, trainer, dinfo, main)


def _train_setup(a, out: Path):
    from .core.checkpoint import trainer_from_checkpoint
    from .core.config import TrainConfig
    from .core.presets import get_preset
    from .core.trainer import Trainer

    explicit = _explicit_settings(a)
    if a.dataset_arg:
        explicit["dataset_args"] = dict(a.dataset_arg)
    if a.model_arg:
        explicit["model_args"] = dict(a.model_arg)
    if a.data_root:
        explicit.setdefault("dataset_args", {})["root"] = a.data_root

    if a.resume:
        if a.preset:
            raise UserError("--resume continues a checkpoint's own settings; leave out --preset")
        requested = dict(explicit)
        if "dataset_args" in requested:
            requested["dataset_args"] = {k: v for k, v in requested["dataset_args"].items() if k != "root"}
            if not requested["dataset_args"]:
                requested.pop("dataset_args")
        trainer = trainer_from_checkpoint(a.resume, requested, device=a.device, data_root=a.data_root)
        if "steps" not in explicit:
            trainer.config.steps = max(trainer.config.steps, trainer.iteration)
    else:
        base = get_preset(a.preset).config.to_dict() if a.preset else TrainConfig().to_dict()
        if a.preset is None and "dataset" in explicit and "model" not in explicit and explicit["dataset"] in (
                "digits", "mnist", "fashion-mnist", "cifar10", "image-folder"):
            base.update({"model": "mlp", "model_args": {"hidden": 256, "layers": 2, "out_range": "unit"},
                         "z_dim": 32})
        if "dataset_args" in explicit and a.preset and "dataset" not in explicit:
            merged = dict(base.get("dataset_args", {}))
            merged.update(explicit["dataset_args"])
            explicit["dataset_args"] = merged
        if "model_args" in explicit and "model" not in explicit:
            merged = dict(base.get("model_args", {}))
            merged.update(explicit["model_args"])
            explicit["model_args"] = merged
        if "dataset" in explicit and "dataset_args" not in explicit and explicit["dataset"] != base["dataset"]:
            base["dataset_args"] = {}
        if "model" in explicit and "model_args" not in explicit and explicit["model"] != base["model"]:
            base["model_args"] = {}
        base.update(explicit)
        if a.device:
            base["device"] = a.device
        cfg = TrainConfig.from_dict(base)
        trainer = Trainer(cfg)
    return trainer


def _train_run(a, out: Path, trainer, dinfo, main: bool) -> int:
    from .core import distributed
    from .core.checkpoint import save_checkpoint
    from .core.gif import GifRecorder
    from .core.metrics import mode_metrics
    from .core.runfolder import RunFolderError, RunWriter
    from .core.trainer import Diverged

    if dinfo is not None:
        trainer.enable_distributed(dinfo)
    steps = trainer.config.steps
    start = trainer.iteration
    if not main:
        return _train_worker(trainer, steps, dinfo)
    (out / "config.json").write_text(json.dumps(trainer.config.to_dict(), indent=2) + "\n")
    gif_every = a.gif_every or max(1, steps // 60)
    gif = trainer.add_observer(GifRecorder(every=gif_every))
    gif.capture(trainer)
    try:
        metrics = trainer.add_observer(RunWriter(out, trainer, log_every=a.log_every, resume=bool(a.resume),
                                                 every=max(1, steps // 200)))
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    bar = trainer.add_observer(ProgressBar(steps, start, not a.quiet))
    ckpt = out / "checkpoint.pt"
    t0 = time.perf_counter()
    status, exit_code = "finished", 0
    try:
        while trainer.iteration < steps:
            trainer.step()
            if a.save_every and trainer.iteration % a.save_every == 0:
                save_checkpoint(trainer, ckpt)
    except Diverged as exc:
        status, exit_code = "diverged", EXIT_DIVERGED
        print(f"gan-studio train: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        status, exit_code = "interrupted", EXIT_INTERRUPTED
    seconds = time.perf_counter() - t0
    agree = distributed.ranks_agree(trainer.G, trainer.D) if dinfo is not None else None
    bar.close()
    metrics.close(trainer)
    gif.capture(trainer)
    save_checkpoint(trainer, ckpt)
    gif.write(out / "samples.gif")
    done = trainer.iteration - start
    result = {"status": status, "iterations": trainer.iteration, "trained": done, "seconds": round(seconds, 3),
              "it_per_s": round(done / seconds, 2) if seconds > 0 else 0.0, "device": str(trainer.device),
              "preset": a.preset, "checkpoint": str(ckpt), "gif": str(out / "samples.gif"),
              "metrics": str(out / "metrics.jsonl")}
    if dinfo is not None:
        result.update(world_size=dinfo.world_size, backend=dinfo.backend, ranks_agree=agree,
                      global_batch=trainer.config.batch_size * dinfo.world_size)
    h = trainer.history
    if len(h["d_loss"]):
        result.update(d_loss=_num(h["d_loss"][-1]), g_loss=_num(h["g_loss"][-1]))
    if trainer.dataset.centers is not None:
        m = mode_metrics(trainer.generate(2500, seed=0), trainer.dataset.centers, trainer.dataset.sigma)
        result.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                      high_quality=round(m["high_quality"], 4))
    if trainer.diverged:
        result["diverged"] = trainer.diverged
    print(json.dumps(result))
    if dinfo is not None:
        distributed.finish()
    return exit_code


def _train_worker(trainer, steps: int, dinfo) -> int:
    """A rank other than 0: train in step with the others, write nothing, print nothing."""
    from .core import distributed
    from .core.trainer import Diverged

    code = 0
    try:
        while trainer.iteration < steps:
            trainer.step()
    except Diverged as exc:
        print(f"gan-studio train (rank {dinfo.rank}): {exc}", file=sys.stderr)
        code = EXIT_DIVERGED
    distributed.ranks_agree(trainer.G, trainer.D)  # the collective rank 0 also calls
    distributed.finish()
    return code


def cmd_sample(a) -> int:
    import numpy as np

    from .core.checkpoint import atomic_path, trainer_from_checkpoint

    out = Path(a.out).expanduser()
    if out.suffix != ".npy":
        raise UserError(f"--out must end in .npy, got {out.name}")
    trainer = trainer_from_checkpoint(a.checkpoint, device=a.device)
    x = trainer.generate(a.n, seed=a.seed).astype(np.float32)
    if trainer.dataset.kind == "images":
        x = np.clip(x, 0.0, 1.0)
    with atomic_path(out, suffix=".npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, x)
    print(json.dumps({"out": str(out), "shape": list(x.shape), "dtype": "float32", "iteration": trainer.iteration,
                      "dataset": trainer.config.dataset}))
    return 0


def cmd_export(a) -> int:
    from .core.checkpoint import export_generator, trainer_from_checkpoint

    trainer = trainer_from_checkpoint(a.checkpoint, device="cpu")
    st, js = export_generator(trainer, a.out)
    print(json.dumps({"weights": str(st), "config": str(js), "iteration": trainer.iteration}))
    return 0


def cmd_gif(a) -> int:
    from .core.export import ExportError, latent_loop_frames, run_gif, write_frames_gif
    from .core.runfolder import RunFolder, RunFolderError

    src = Path(a.source).expanduser()
    out = Path(a.out).expanduser()
    if not src.exists():
        raise UserError(f"no such run folder or checkpoint: {src}")
    if not out.parent.is_dir():
        raise UserError(f"cannot write {out}: folder {out.parent} does not exist")
    duration = int(round(1000 / a.fps))
    t0 = time.perf_counter()
    if a.view == "latent":
        from .core.checkpoint import trainer_from_checkpoint

        ckpt = src / "checkpoint.pt" if src.is_dir() else src
        if not ckpt.is_file():
            raise UserError(f"a latent walk needs the generator: {src} holds no checkpoint.pt "
                            "(pass a checkpoint file, or a run folder from gan-studio train)")
        trainer = trainer_from_checkpoint(ckpt, device="cpu")
        frames = latent_loop_frames(trainer, size=a.size)
        write_frames_gif(frames, out, duration)
        n = len(frames)
    else:
        if not src.is_dir():
            raise UserError(f"{src} is a file; --view {a.view} animates a run folder (a checkpoint has no history)")
        try:
            run = RunFolder(src)
        except RunFolderError as exc:
            raise UserError(str(exc)) from None
        tty = sys.stderr.isatty()
        try:
            run_gif(run, a.view, out, size=a.size, duration_ms=duration, max_frames=a.max_frames,
                    captions=not a.no_captions,
                    progress=(lambda i, m: sys.stderr.write(f"\rframe {i}/{m}")) if tty else None)
        except ExportError as exc:
            raise UserError(str(exc)) from None
        finally:
            if tty:
                sys.stderr.write("\n")
        n = min(len(run.index), a.max_frames)
    print(json.dumps({"out": str(out), "view": a.view, "frames": n, "loop": 0, "frame_ms": duration,
                      "seconds": round(time.perf_counter() - t0, 2)}))
    return 0


def cmd_metrics(a) -> int:
    from .core.runfolder import RunFolder, RunFolderError, write_metrics_csv

    try:
        run = RunFolder(a.run_dir)
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    rows = [r for r in run.metrics if "event" not in r]
    if not rows:
        raise UserError(f"{run.path} has no metrics yet")
    cols = ["iteration", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "k", "g_steps", "batch_size",
            "seconds"]
    out = write_metrics_csv(rows, Path(a.out).expanduser(), cols)
    print(json.dumps({"out": str(out), "rows": len(rows), "columns": cols}))
    return 0


def _studio_missing(exc) -> int:
    print(f"gan-studio: error: the studio window needs PySide6 and pyqtgraph ({exc})", file=sys.stderr)
    return 1


def cmd_open(a) -> int:
    from .core.runfolder import RunFolder, RunFolderError

    if a.screenshot and a.exit_after is None:
        raise UserError("--screenshot needs --exit-after (the screenshot is taken just before exiting)")
    try:
        RunFolder(a.run_dir)  # a clear message before any window opens
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    try:
        from .gui.app import run_studio
    except ImportError as exc:
        return _studio_missing(exc)
    return run_studio(open_run=a.run_dir, follow=a.follow, exit_after=a.exit_after, screenshot=a.screenshot,
                      size=a.size, position=a.position)


def cmd_compare(a) -> int:
    from .core.config import validate_values
    from .core.presets import get_preset

    if a.screenshot and a.exit_after is None:
        raise UserError("--screenshot needs --exit-after (the screenshot is taken just before exiting)")
    preset = get_preset(a.preset)
    ch_a, ch_b = dict(a.a), dict(a.b)
    if not ch_a and not ch_b:
        if not preset.compare:
            raise UserError(f"preset {a.preset!r} suggests no comparison: give the difference, e.g. --b k=5")
        ch_a, ch_b = dict(preset.compare.get("a", {})), dict(preset.compare.get("b", {}))
    from .core.config import LIVE_KEYS

    bad = sorted({k for k in (*ch_a, *ch_b) if k not in LIVE_KEYS})
    if bad:
        raise UserError(f"compare mode sets apart settings a running run can change ({', '.join(LIVE_KEYS)}), "
                        f"not {', '.join(bad)}; for other data or models start two studios")
    validate_values({**ch_a})
    validate_values({**ch_b})
    try:
        from .gui.app import run_studio
    except ImportError as exc:
        return _studio_missing(exc)
    return run_studio(preset=a.preset, compare=(ch_a, ch_b), exit_after=a.exit_after, screenshot=a.screenshot,
                      size=a.size)


def _load_array(path: str, what: str):
    import numpy as np

    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"{what}: no such file: {p}")
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{what}: {p} is not a readable .npy array ({exc})") from None
    if not isinstance(a, np.ndarray):
        raise UserError(f"{what}: {p} is an archive (.npz, or a checkpoint), not one .npy array")
    return a


def cmd_parzen(a) -> int:
    from .core.parzen import CAVEAT, DEFAULT_SIGMAS, parzen_evaluate

    samples = _load_array(a.samples, "samples")
    test = _load_array(a.test, "--test")
    valid = _load_array(a.valid, "--valid") if a.valid else None
    bar = ProgressBar(1, 0, not a.quiet)

    def progress(done, total):
        if bar.enabled:
            frac = done / max(1, total)
            sys.stderr.write(f"\r[{'#' * int(30 * frac)}{'.' * (30 - int(30 * frac))}] {done}/{total} points ")
            sys.stderr.flush()

    try:
        r = parzen_evaluate(samples, test, valid, sigmas=a.sigmas or DEFAULT_SIGMAS, chunk=a.chunk,
                            device=a.device, progress=progress)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
    out = r.to_dict()
    if valid is None:
        out["warning"] = "no --valid: σ was chosen on the test set itself, which flatters the score"
    if r.at_edge:
        out["edge_warning"] = f"σ = {r.sigma:g} is at the edge of the grid; widen --sigmas"
    out["caveat"] = CAVEAT
    print(json.dumps(out))
    return 0


def _print_eval(r: dict) -> None:
    lines = [f"{r.get('checkpoint') or 'samples'}: {r['dataset']}, {r['n_samples']:,} samples"
             + (f", iteration {r['iteration']:,}" if "iteration" in r else "")]
    if "modes" in r:
        m = r["modes"]
        lines.append(f"  modes covered      {m['modes_covered']} of {m['n_modes']}  (high quality "
                     f"{100 * m['high_quality']:.1f}%, KL(modes‖uniform) {m['kl_uniform']:.3f}, "
                     f"{m['n_samples']} samples)")
    if "images" in r:
        m, c = r["images"], r["images_ceiling"]
        lines.append(f"  classes covered    {m['classes_covered']} of {m['n_classes']}   (real: {c['classes_covered']})")
        lines.append(f"  classifier score   {m['classifier_score']:.2f}   (real: {c['classifier_score']:.2f})")
        lines.append(f"  Fréchet distance   {m['frechet']:.2f}   (real: {c['frechet']:.2f}; lower is better)")
    if "parzen" in r:
        p = r["parzen"]
        lines.append(f"  Parzen             {p['mean']:.2f} ± {p['stderr']:.2f} nats  (σ {p['sigma']:.3g} chosen on "
                     f"the {p['sigma_chosen_on']} set; {p['n_test']} test points)")
        lines.append(f"                     {p['note']}")
        lines.append(f"  caveat: {p['caveat']}")
    print("\n".join(lines))


def cmd_eval(a) -> int:
    from .core.evaluate import evaluate_checkpoint, evaluate_samples

    src = Path(a.source).expanduser()
    args = dict(a.dataset_arg)
    if a.data_root:
        args["root"] = a.data_root
    log = (lambda s: print(s, file=sys.stderr)) if not a.json else None
    if src.suffix == ".npy":
        if not a.dataset:
            raise UserError("samples in a .npy file need --dataset NAME (the data they imitate)")
        x = _load_array(str(src), "samples")
        if a.n:
            x = x[: a.n]
        r = evaluate_samples(x, a.dataset, args or None, parzen=a.parzen, log=log)
    else:
        if not src.is_file():
            raise UserError(f"no such file: {src}")
        if a.dataset:
            raise UserError("--dataset is for .npy samples; a checkpoint knows its dataset")
        r = evaluate_checkpoint(src, n=a.n, parzen=a.parzen, seed=a.seed, log=log)
    if a.json:
        print(json.dumps(r))
    else:
        _print_eval(r)
    return 0


COMMANDS = {"parzen": cmd_parzen, "eval": cmd_eval, "train": cmd_train, "sample": cmd_sample, "presets": cmd_presets, "export": cmd_export,
            "gif": cmd_gif, "metrics": cmd_metrics, "open": cmd_open, "compare": cmd_compare}


def run_cli(argv: list[str]) -> int:
    from .core.config import ConfigError

    parser = build_parser()
    a = parser.parse_args(argv)
    if a.command is None:
        if a.screenshot and a.exit_after is None:
            parser.error("--screenshot needs --exit-after (the screenshot is taken just before exiting)")
        if a.studio_device is not None:
            try:
                from .core.config import validate_values

                validate_values({"device": a.studio_device})
            except ConfigError as exc:
                parser.error(str(exc))
        try:
            from .gui.app import run_studio
        except ImportError as exc:
            print(f"gan-studio: error: the studio window needs PySide6 and pyqtgraph ({exc}); "
                  "the command line (gan-studio train ...) works without them", file=sys.stderr)
            return 1
        return run_studio(preset=a.studio_preset, exit_after=a.exit_after, screenshot=a.screenshot,
                          seed=a.studio_seed, device=a.studio_device, size=a.size, present=a.present)
    try:
        return COMMANDS[a.command](a)
    except (UserError, ConfigError) as exc:
        print(f"gan-studio {a.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"gan-studio {a.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"gan-studio {a.command}: error: out of memory (try a smaller --batch-size or --n)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"gan-studio {a.command}: error: {exc.strerror or exc}"
              f"{': ' + str(exc.filename) if getattr(exc, 'filename', None) else ''}", file=sys.stderr)
        return 1
