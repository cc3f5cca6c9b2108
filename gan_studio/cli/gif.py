"""``gan-studio gif``: a looping GIF of a recorded run, or of a latent walk."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .args import positive_float, positive_int
from .errors import UserError

NAME = "gif"
HELP = "a looping GIF of a recorded run (field or samples) or of a latent walk"
DESCRIPTION = ("Animate a run folder's recorded snapshots (--view field: points over D's heatmap, for 1-D/2-D "
               "data; --view samples), or walk G's latent space in a closed loop (--view latent; needs a "
               "checkpoint, or a run folder holding one).")


def add_arguments(p) -> None:
    p.add_argument("source", metavar="RUN_DIR|CKPT")
    p.add_argument("--view", choices=["field", "samples", "latent"], default="field")
    p.add_argument("--out", required=True, metavar="FILE.gif")
    p.add_argument("--size", type=positive_int, default=360, help="frame width in pixels (default 360)")
    p.add_argument("--fps", type=positive_float, default=8.0, help="frames per second (default 8)")
    p.add_argument("--max-frames", type=positive_int, default=240, help="at most this many frames (default 240)")
    p.add_argument("--no-captions", action="store_true", help="no iteration/modes caption above each frame")


def run(a) -> int:
    from ..core.export.slides import ExportError, latent_loop_frames, run_gif, write_frames_gif
    from ..core.record.runfolder import RunFolder, RunFolderError

    src = Path(a.source).expanduser()
    out = Path(a.out).expanduser()
    if not src.exists():
        raise UserError(f"no such run folder or checkpoint: {src}")
    if not out.parent.is_dir():
        raise UserError(f"cannot write {out}: folder {out.parent} does not exist")
    duration = int(round(1000 / a.fps))
    t0 = time.perf_counter()
    if a.view == "latent":
        from ..core.train.checkpoint import trainer_from_checkpoint

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
            run_dir = RunFolder(src)
        except RunFolderError as exc:
            raise UserError(str(exc)) from None
        tty = sys.stderr.isatty()
        report: dict = {}
        try:
            run_gif(run_dir, a.view, out, size=a.size, duration_ms=duration, max_frames=a.max_frames,
                    captions=not a.no_captions, report=report,
                    progress=(lambda i, m: sys.stderr.write(f"\rframe {i}/{m}")) if tty else None)
        except ExportError as exc:
            raise UserError(str(exc)) from None
        finally:
            if tty:
                sys.stderr.write("\n")
        n = report.get("frames", 0)
        if run_dir.warnings:  # damaged lines or snapshots that were left out: one line
            print(f"gan-studio {NAME}: warning: {run_dir.warning_summary()}", file=sys.stderr)
    print(json.dumps({"out": str(out), "view": a.view, "frames": n, "loop": 0, "frame_ms": duration,
                      "seconds": round(time.perf_counter() - t0, 2)}))
    return 0
