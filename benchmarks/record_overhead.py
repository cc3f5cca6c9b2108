"""What recording costs the training loop of ``gan-studio train``: the same trainer bare, with the run folder and
GIF written on the training thread (the old way), and with them written and drawn off it (``background=True``),
in alternating rounds in one process (a loaded machine slows all three alike).

    python benchmarks/record_overhead.py [--preset ring8] [--seconds 5] [--rounds 4] [--steps 3000]

The recorders are set up as ``gan-studio train --steps STEPS`` sets them up (a snapshot every steps/200
iterations with its training state when due, a GIF frame every steps/60). Prints one JSON object: it/s per
round, and ratio = recorded ÷ bare (median and per round); and the training thread's own CPU time per iteration
(``thread_ms_per_it``: what the loop itself spends, which the load of other processes does not change) with
``cpu_ratio`` = bare ÷ recorded (the speed the loop would have on a machine of its own)."""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch


def main() -> None:
    from gan_studio.core.export.gif import GifRecorder
    from gan_studio.core.record.runwriter import RunWriter
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.train.trainer import Trainer

    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3000, help="the run length the recorders are sized for")
    a = ap.parse_args()
    torch.set_num_threads(1)
    tr = Trainer(get_preset(a.preset).config.replace(device="cpu"))
    for _ in range(20):
        tr.step()
    rates: dict[str, list[float]] = {"bare": [], "on_thread": [], "background": []}
    cpu: dict[str, list[float]] = {k: [] for k in rates}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            order = list(rates) if r % 2 == 0 else list(rates)[::-1]
            for mode in order:
                obs = []
                if mode != "bare":
                    bg = mode == "background"
                    obs = [GifRecorder(every=max(1, a.steps // 60), background=bg),
                           RunWriter(f"{tmp}/{mode}-{r}", tr, every=max(1, a.steps // 200), background=bg)]
                n, t0, c0 = 0, time.perf_counter(), time.thread_time()
                while time.perf_counter() - t0 < a.seconds:
                    s = tr.step()
                    for o in obs:
                        o.on_iteration(tr, s)
                    n += 1
                rates[mode].append(n / (time.perf_counter() - t0))
                cpu[mode].append(1000 * (time.thread_time() - c0) / n)
                for o in obs:  # the writer's queue drains outside the measured time (as at a run's end)
                    (o.close() if isinstance(o, RunWriter) else o.flush())
    out = {"benchmark": "record_overhead", "preset": a.preset, "seconds": a.seconds,
           "it_per_s": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
           "thread_ms_per_it": {k: [round(v, 3) for v in vs] for k, vs in cpu.items()}}
    for k in ("on_thread", "background"):
        rs = [x / b for x, b in zip(rates[k], rates["bare"])]
        out[f"ratio_{k}"] = {"median": round(statistics.median(rs), 3), "rounds": [round(x, 3) for x in rs]}
        cs = [b / x for x, b in zip(cpu[k], cpu["bare"])]
        out[f"cpu_ratio_{k}"] = {"median": round(statistics.median(cs), 3), "rounds": [round(x, 3) for x in cs]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
