"""Plug-in overhead: iterations/s of the ring8 preset beside a plug-in carrying the same networks and data
(benchmarks/ring8_plugin.py), both through GAN Studio's Trainer as ``gan-studio train`` drives them (the
plug-in run with the watch ``train`` adds to keep a checkpoint of the last completed iteration), measured
in alternating rounds in one process.

    python benchmarks/plugin_overhead.py [--seconds 20] [--rounds 10] [--device cpu] [--studio 40] [--studio-rounds 2]

Prints one JSON object. ratio = plug-in it/s ÷ preset it/s (aim ≥ 0.95), from wall time; cpu_ratio the
same from the CPU time the training thread used (on a loaded machine the wall rates mostly measure the
scheduler's share of the moment). Then the studio (offscreen, as
``gan-studio --preset ring8`` and ``gan-studio --plugin benchmarks/ring8_plugin.py``) is opened on each for
``--studio`` seconds, alternating (and which goes first alternates), and the it/s each reports are compared:
studio_ratio (both runs train in a training process and draw their views in the views helper; the plug-in's
code runs in those two processes, never in the window's). ``--studio 0`` measures headless only.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from gan_studio.cli.plugin_opts import UpdateWatch
from gan_studio.core import Trainer
from gan_studio.core.train import plugin_spec
from gan_studio.core.train.plugins import build_parts, record
from gan_studio.core.train.presets import get_preset

PLUGIN = Path(__file__).resolve().parent / "ring8_plugin.py"


def trainers(device: str):
    base = get_preset("ring8").config.replace(device=device)
    ref = plugin_spec.parse_ref(str(PLUGIN))
    plugin_spec.allow(ref)
    rec = record(ref, {})
    parts = build_parts(rec, seed=base.seed)
    rec["name"] = parts.name
    cfg = base.replace(dataset="plugin", model="plugin", dataset_args={}, model_args={}, z_dim=parts.z_dim,
                       noise=parts.noise, plugin=rec)
    preset, plug = Trainer(base), Trainer(cfg)
    watch = plug.add_observer(UpdateWatch())
    watch.on_run_start(plug)
    return preset, plug


def rate(trainer, seconds: float) -> tuple[float, float]:
    """(iterations per wall second, iterations per CPU second of this thread: on a loaded machine the wall
    rate mostly measures the scheduler's share, the CPU rate the work an iteration costs)."""
    n, t0, c0 = 0, time.perf_counter(), time.thread_time()
    while True:
        trainer.step()
        n += 1
        if n % 5 == 0:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            if dt >= seconds:
                return n / dt, n / max(time.thread_time() - c0, 1e-9)


def studio_rate(args: list[str], seconds: float) -> float:
    """Iterations per second of the studio's training loop (its training process reports them through
    GAN_STUDIO_PERF: the loop's own wall time, so the window's start-up and the loading are not counted)."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        perf = Path(tmp) / "perf.jsonl"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GAN_STUDIO_RECORD="0", GAN_STUDIO_PERF=str(perf))
        p = subprocess.run([sys.executable, "-m", "gan_studio", *args, "--exit-after", str(seconds)],
                           capture_output=True, text=True, env=env, timeout=seconds + 300)
        if p.returncode != 0 or not perf.exists():
            raise SystemExit(f"the studio failed ({p.returncode}): {p.stderr[-500:]}")
        rep = json.loads(perf.read_text().splitlines()[-1])
    n = rep["loop_iterations"]
    return n / max(rep["loop_wall_s"], 1e-9), n / max(rep["loop_cpu_s"], 1e-9)


def _compare(prefix: str, p_rates: list, q_rates: list) -> dict:
    """Medians and ratios (plug-in ÷ preset) of the wall and the CPU rates of alternating rounds."""
    out = {}
    for j, kind in ((0, ""), (1, "cpu_")):
        p, q = statistics.median(r[j] for r in p_rates), statistics.median(r[j] for r in q_rates)
        out.update({f"{prefix}preset_{kind}it_per_s": round(p, 1), f"{prefix}plugin_{kind}it_per_s": round(q, 1),
                    f"{prefix}{kind}ratio": round(q / p, 3),
                    f"{prefix}{kind}ratio_per_round": [round(y[j] / x[j], 3) for x, y in zip(p_rates, q_rates)]})
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring time per side")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--studio", type=float, default=40.0, metavar="SECONDS",
                    help="the studio too, this long each (0: headless only)")
    ap.add_argument("--studio-rounds", type=int, default=2)
    a = ap.parse_args(argv)
    preset, plug = trainers(a.device)
    for _ in range(10):  # warm-up both
        preset.step()
        plug.step()
    p_rates, q_rates = [], []
    for i in range(a.rounds):  # alternating (and which goes first alternates), so load drifts hit both alike
        first, second = ((preset, p_rates), (plug, q_rates)) if i % 2 == 0 else ((plug, q_rates), (preset, p_rates))
        for tr, rates in (first, second):
            rates.append(rate(tr, a.seconds / a.rounds))
    out = {"benchmark": "plugin_overhead", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "device": str(preset.device), "batch_size": preset.config.batch_size, "rounds": a.rounds,
           "seconds_per_side": a.seconds, **_compare("", p_rates, q_rates)}
    if a.studio > 0:
        sp, sq = [], []
        for i in range(a.studio_rounds * 2):
            if (i % 2 == 0) == (i // 2 % 2 == 0):
                sp.append(studio_rate(["--preset", "ring8"], a.studio))
            else:
                sq.append(studio_rate(["--plugin", str(PLUGIN)], a.studio))
        out.update(studio_seconds_each=a.studio, studio_rounds=a.studio_rounds, **_compare("studio_", sp, sq))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
