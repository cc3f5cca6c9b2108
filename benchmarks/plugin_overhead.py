"""Plug-in overhead: iterations/s of the ring8 preset beside a plug-in carrying the same networks and data
(benchmarks/ring8_plugin.py), both through GAN Studio's Trainer as ``gan-studio train`` drives them (the
plug-in run with the watch ``train`` adds to keep a checkpoint of the last completed iteration), measured
in alternating rounds in one process.

    python benchmarks/plugin_overhead.py [--seconds 20] [--rounds 10] [--device cpu]

Prints one JSON object. ratio = plug-in it/s ÷ preset it/s (aim ≥ 0.95).
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


def rate(trainer, seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while True:
        trainer.step()
        n += 1
        if n % 5 == 0:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            if dt >= seconds:
                return n / dt


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring time per side")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--device", default="cpu")
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
    p, q = statistics.median(p_rates), statistics.median(q_rates)
    out = {"benchmark": "plugin_overhead", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "device": str(preset.device), "batch_size": preset.config.batch_size, "rounds": a.rounds,
           "seconds_per_side": a.seconds, "preset_it_per_s": round(p, 1), "plugin_it_per_s": round(q, 1),
           "ratio": round(q / p, 3),
           "ratio_per_round": [round(y / x, 3) for x, y in zip(p_rates, q_rates)]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
