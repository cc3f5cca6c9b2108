"""The cost on training of the studio's live FID curve: digits trained in this process (one torch thread, as
the studio's training process) alone, and with a snapshot evaluated every N iterations in a separate spawned
process — the way the evaluation panel's "FID every N iterations" did it before (``eval_job`` with 2,000
samples, FID + KID + precision–recall, normal priority: ``full``) and does it now (:data:`LIVE_OPTIONS`:
1,000 samples, FID only, ``nice`` 10: ``live``) — rounds interleaved side by side in one run.

    python benchmarks/fid_live.py [--every 500] [--seconds 10] [--rounds 2] [--preset digits]

Prints one JSON object: it/s alone and with each way of computing the curve (medians), their ratios to
alone, FID points computed and seconds per point; and, measured one point at a time with training paused,
the CPU seconds one point of each kind costs (``cpu_seconds_per_point_*``: the evaluation process's user +
system time, which a loaded machine does not inflate the way it inflates wall time). On a shared machine the
ratios and the CPU seconds are the numbers to read.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import time

import torch

from gan_studio.core import Trainer
from gan_studio.core.evaluate.scores import eval_job
from gan_studio.core.train.checkpoint import save_checkpoint
from gan_studio.core.train.presets import get_preset
from gan_studio.gui.panels.fid import LIVE_OPTIONS

FULL_OPTIONS = {"parzen": False, "n": 2000}  # the live curve's job before


def train_round(trainer: Trainer, seconds: float, every: int | None, ctx, options: dict | None = None) -> dict:
    proc, q, started, points, busy = None, None, 0.0, [], 0.0
    it0, t0 = trainer.iteration, time.perf_counter()
    next_due = trainer.iteration
    while time.perf_counter() - t0 < seconds:
        trainer.run(trainer.iteration + 10)  # run() trains up to a total
        if every is None:
            continue
        if proc is not None and not proc.is_alive():
            proc.join()
            msgs = []
            while not q.empty():
                msgs.append(q.get())
            done = [m for m in msgs if m[0] == "done"]
            if done:
                points.append(done[0][1]["images"]["fid"])
            busy += time.perf_counter() - started
            proc = None
        if proc is None and trainer.iteration >= next_due:
            next_due = trainer.iteration + every
            fd, path = tempfile.mkstemp(prefix="gan-studio-bench-", suffix=".pt")
            os.close(fd)
            save_checkpoint(trainer, path)
            q, ev = ctx.Queue(), ctx.Event()
            proc = ctx.Process(target=eval_job, args=(path, {"threads": 1, **options}, q, ev),
                               daemon=True)
            started = time.perf_counter()
            proc.start()
    elapsed = time.perf_counter() - t0
    if proc is not None:  # the round is over: an unfinished point does not count
        proc.terminate()
        proc.join()
        busy += time.perf_counter() - started
    return {"it_per_s": (trainer.iteration - it0) / elapsed, "points": len(points),
            "seconds_per_point": busy / len(points) if points else None, "last_fid": points[-1] if points else None}


def cpu_per_point(trainer: Trainer, ctx, options: dict) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one evaluation job on a snapshot of ``trainer``, nothing else running."""
    fd, path = tempfile.mkstemp(prefix="gan-studio-bench-", suffix=".pt")
    os.close(fd)
    save_checkpoint(trainer, path)
    q, ev = ctx.Queue(), ctx.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = ctx.Process(target=eval_job, args=(path, {"threads": 1, **options}, q, ev), daemon=True)
    proc.start()
    proc.join()
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="digits")
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(1)
    ctx = mp.get_context("spawn")
    trainer = Trainer(get_preset(a.preset).config)
    trainer.run(50)  # warm up
    # the first job trains and caches the classifier and the held-out ceiling
    eval_job_warm = train_round(trainer, 3.0, a.every, ctx, FULL_OPTIONS)
    rounds = {"alone": [], "full": [], "live": []}
    for _ in range(a.rounds):
        for name, opts in (("alone", None), ("full", FULL_OPTIONS), ("live", LIVE_OPTIONS)):
            rounds[name].append(train_round(trainer, a.seconds, None if opts is None else a.every, ctx, opts))
    ips = {k: statistics.median(r["it_per_s"] for r in v) for k, v in rounds.items()}
    out = {"preset": a.preset, "every": a.every, "seconds_per_round": a.seconds, "rounds": a.rounds,
           "cpu_count": os.cpu_count(), "load_average": os.getloadavg()[0], "live_options": LIVE_OPTIONS,
           "full_options": FULL_OPTIONS, "it_per_s_alone": round(ips["alone"], 1)}
    for k in ("full", "live"):
        spp = [r["seconds_per_point"] for r in rounds[k] if r["seconds_per_point"]]
        out.update({f"it_per_s_{k}": round(ips[k], 1), f"ratio_{k}": round(ips[k] / ips["alone"], 3),
                    f"fid_points_{k}": sum(r["points"] for r in rounds[k]),
                    f"seconds_per_point_{k}": round(statistics.median(spp), 2) if spp else None})
    for k, opts in (("full", FULL_OPTIONS), ("live", LIVE_OPTIONS)):
        cw = [cpu_per_point(trainer, ctx, opts) for _ in range(2)]
        out[f"cpu_seconds_per_point_{k}"] = round(statistics.median(c for c, _ in cw), 2)
        out[f"wall_seconds_per_point_{k}_paused"] = round(statistics.median(w for _, w in cw), 2)
    out.update(warmup_points=eval_job_warm["points"], iteration=trainer.iteration)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
