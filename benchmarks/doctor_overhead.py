"""What the GAN doctor costs the studio's live worker: ring8 with and without it.

    python benchmarks/doctor_overhead.py [--preset ring8] [--seconds 8] [--rounds 4] [--hook-iterations 3000]

Prints one JSON object:

* ``hook``: the doctor's hook timed around itself (thread CPU time) while a trainer steps alone: ms per
  iteration of the doctor and of the whole step, and their ratio (``doctor_share``) — the steadiest figure on a
  busy machine;
* ``ab``: the live worker (:class:`~gan_studio.core.live.handles.ThreadRun`, no views requested: the training
  loop alone) with ``doctor=True`` and ``doctor=False``, rounds alternating so load from other processes hits
  both alike: medians of it/s (wall clock) and of CPU ms per iteration of the training thread, and the ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


def hook_cost(preset: str, iterations: int) -> dict:
    from gan_studio.core.live.doctoring import LiveDoctor
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.train.trainer import Trainer

    tr = Trainer(get_preset(preset).config)
    events: list = []
    doc = LiveDoctor(lambda *a: events.append(a))
    spent = [0.0]

    class Timed:
        def on_iteration(self, trainer, stats) -> None:
            c = time.thread_time()
            doc.on_iteration(trainer, stats)
            spent[0] += time.thread_time() - c

        def on_diverged(self, trainer, message) -> None:
            doc.on_diverged(trainer, message)

    tr.add_observer(Timed())
    c0 = time.thread_time()
    for _ in range(iterations):
        tr.step()
    total = time.thread_time() - c0
    return {"iterations": iterations, "step_ms": round(1000 * total / iterations, 4),
            "doctor_ms": round(1000 * spent[0] / iterations, 4), "doctor_share": round(spent[0] / total, 4),
            "findings": [(e[2]["status"], e[2]["name"]) for e in events]}


def live_ab(preset: str, seconds: float, rounds: int) -> dict:
    from gan_studio.core.live.handles import ThreadRun
    from gan_studio.core.train.presets import get_preset

    cfg = get_preset(preset).config
    res: dict = {True: [], False: []}
    for r in range(rounds):
        for doctor in ((True, False) if r % 2 == 0 else (False, True)):
            run = ThreadRun(cfg, doctor=doctor).start()
            run.play()
            t0 = time.monotonic()
            while (run.latest() is None or run.latest().state != "running") and time.monotonic() - t0 < 60:
                time.sleep(0.05)
            time.sleep(seconds)
            run.stop(10)
            p = run.perf
            n = max(1, p["loop_iterations"])
            res[doctor].append({"it_per_s": n / p["loop_wall_s"], "cpu_ms_per_it": 1000 * p["loop_cpu_s"] / n})
    out = {k: {m: round(statistics.median(x[m] for x in res[d]), 3) for m in ("it_per_s", "cpu_ms_per_it")}
           for k, d in (("without", False), ("with", True))}
    out["it_per_s_ratio"] = round(out["with"]["it_per_s"] / out["without"]["it_per_s"], 4)
    out["cpu_per_it_ratio"] = round(out["with"]["cpu_ms_per_it"] / out["without"]["cpu_ms_per_it"], 4)
    out["rounds"] = rounds
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--hook-iterations", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the studio's worker on 2 cores: 1)")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    print(json.dumps({"preset": a.preset, "threads": a.threads, "hook": hook_cost(a.preset, a.hook_iterations),
                      "ab": live_ab(a.preset, a.seconds, a.rounds)}))


if __name__ == "__main__":
    main()
