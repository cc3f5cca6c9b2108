"""What recording costs the training loop of ``gan-studio train``: the same trainer bare, with the run folder and
GIF written on the training thread (the old way), and with them written and drawn off it (``background=True``),
and as ``gan-studio train`` does now — off it, within the recording budget (``budget``: snapshots and frames
spaced out while they cost more than ``RECORD_BUDGET`` of the loop's time) — in alternating rounds in one
process (a loaded machine slows all four alike).

    python benchmarks/record_overhead.py [--preset ring8] [--seconds 5] [--rounds 4] [--steps 3000]

The recorders are set up as ``gan-studio train --steps STEPS`` sets them up (a snapshot every steps/200
iterations with its training state when due, a GIF frame every steps/60). Prints one JSON object: it/s per
round, and ratio = recorded ÷ bare (median and per round); and the training thread's own CPU time per iteration
(``thread_ms_per_it``: what the loop itself spends, which the load of other processes does not change) with
``cpu_ratio`` = bare ÷ recorded (the speed the loop would have on a machine of its own); and the whole
process's CPU per iteration (``process_ms_per_it``: the writer threads' work too) with ``process_cpu_ratio``."""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch


def main() -> None:
    from gan_studio.cli.train import RECORD_BUDGET
    from gan_studio.core.export.gif import GifRecorder
    from gan_studio.core.record.runwriter import RunWriter
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.train.trainer import Trainer

    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3000, help="the run length the recorders are sized for")
    ap.add_argument("--budgets", type=float, nargs="*", default=None,
                    help="other budgets to measure beside train's (modes budget-B)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    tr = Trainer(get_preset(a.preset).config.replace(device="cpu"))
    for _ in range(20):
        tr.step()
    rates: dict[str, list[float]] = {"bare": [], "on_thread": [], "background": [], "budget": []}
    rates.update({f"budget-{b:g}": [] for b in a.budgets or []})
    cpu: dict[str, list[float]] = {k: [] for k in rates}
    pcpu: dict[str, list[float]] = {k: [] for k in rates}
    spacing: dict[str, tuple[list[int], list[int]]] = {}  # the budget's snapshot and GIF spacing at each round's end
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            order = list(rates) if r % 2 == 0 else list(rates)[::-1]
            for mode in order:
                obs = []
                if mode != "bare":
                    bg = mode != "on_thread"
                    budget = (RECORD_BUDGET if mode == "budget" else float(mode.split("-", 1)[1])
                              if mode.startswith("budget-") else None)
                    obs = [GifRecorder(every=max(1, a.steps // 60), background=bg, budget=budget),
                           RunWriter(f"{tmp}/{mode}-{r}", tr, every=max(1, a.steps // 200), background=bg,
                                     budget=budget, log_every=10)]  # (train's default --log-every)
                n, t0, c0, p0 = 0, time.perf_counter(), time.thread_time(), time.process_time()
                while time.perf_counter() - t0 < a.seconds:
                    s = tr.step()
                    for o in obs:
                        o.on_iteration(tr, s)
                    n += 1
                rates[mode].append(n / (time.perf_counter() - t0))
                cpu[mode].append(1000 * (time.thread_time() - c0) / n)
                pcpu[mode].append(1000 * (time.process_time() - p0) / n)
                if mode.startswith("budget"):
                    spacing.setdefault(mode, ([], []))[0].append(obs[1].every)
                    spacing[mode][1].append(obs[0].every)
                for o in obs:  # the writer's queue drains outside the measured time (as at a run's end)
                    (o.close() if isinstance(o, RunWriter) else o.flush())
    out = {"benchmark": "record_overhead", "preset": a.preset, "seconds": a.seconds,
           "it_per_s": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
           "thread_ms_per_it": {k: [round(v, 3) for v in vs] for k, vs in cpu.items()},
           "process_ms_per_it": {k: [round(v, 3) for v in vs] for k, vs in pcpu.items()},
           "asked_spacing": {"snapshots": a.steps // 200, "gif": a.steps // 60},
           "budget_spacing": {k: {"snapshots": v[0], "gif": v[1]} for k, v in spacing.items()}}
    for k in [m for m in rates if m != "bare"]:
        rs = [x / b for x, b in zip(rates[k], rates["bare"])]
        out[f"ratio_{k}"] = {"median": round(statistics.median(rs), 3), "rounds": [round(x, 3) for x in rs]}
        cs = [b / x for x, b in zip(cpu[k], cpu["bare"])]
        out[f"cpu_ratio_{k}"] = {"median": round(statistics.median(cs), 3), "rounds": [round(x, 3) for x in cs]}
        ps = [b / x for x, b in zip(pcpu[k], pcpu["bare"])]
        out[f"process_cpu_ratio_{k}"] = {"median": round(statistics.median(ps), 3),
                                         "rounds": [round(x, 3) for x in ps]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
