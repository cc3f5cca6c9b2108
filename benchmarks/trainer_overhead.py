"""Trainer overhead: iterations/s of each preset through GAN Studio's Trainer beside a bare PyTorch loop
with the same networks, batch, loss and optimiser, measured interleaved in one process.

    python benchmarks/trainer_overhead.py [--presets ring8 digits mnist-paper] [--seconds 4] [--device auto]

Prints one JSON object. ratio = trainer it/s ÷ bare it/s (1.0 = no overhead; aim ≥ 0.95).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_studio.core import Trainer
from gan_studio.core.train.presets import get_preset

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def config_for(name: str, device: str):
    cfg = get_preset(name).config.replace(device=device)
    if cfg.dataset == "mnist" and (SHARED_MNIST / "MNIST" / "raw").is_dir():
        # this machine has only the test split: same shapes and cost per iteration
        cfg = cfg.replace(dataset_args={"root": str(SHARED_MNIST), "split": "test", "download": False})
    return cfg


def make_bare(trainer: Trainer):
    """An independent copy of the networks and optimisers, driven by the plainest loop."""
    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    cfg = trainer.config
    if cfg.optimizer == "adam":
        og = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
        od = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    else:
        og = torch.optim.SGD(G.parameters(), lr=cfg.lr_g, momentum=cfg.momentum)
        od = torch.optim.SGD(D.parameters(), lr=cfg.lr_d, momentum=cfg.momentum)
    ds, dev, m, k, zd = trainer.dataset, trainer.device, cfg.batch_size, cfg.k, cfg.z_dim
    gen = torch.Generator(device=dev).manual_seed(0)
    tanh = G.out_range == "tanh"

    def noise():
        if cfg.noise == "uniform":
            return (torch.rand(m, zd, generator=gen, device=dev) * 2 - 1) * 3 ** 0.5
        return torch.randn(m, zd, generator=gen, device=dev)

    def iteration():
        for _ in range(k):
            x, _ = ds.sample(m, gen)
            if tanh:
                x = x * 2 - 1
            with torch.no_grad():
                fake = G(noise())
            loss = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
            od.zero_grad(set_to_none=True)
            loss.backward()
            od.step()
        gl = F.softplus(-D(G(noise()))).mean()
        og.zero_grad(set_to_none=True)
        gl.backward()
        og.step()

    return iteration


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def rate(fn, dev, seconds: float) -> float:
    sync(dev)
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        if n % 5 == 0:
            sync(dev)
            dt = time.perf_counter() - t0
            if dt >= seconds:
                return n / dt


def bench(name: str, device: str, seconds: float, rounds: int) -> dict:
    trainer = Trainer(config_for(name, device))
    bare = make_bare(trainer)
    for _ in range(5):  # warm-up both
        trainer.step()
        bare()
    t_rates, b_rates = [], []
    for _ in range(rounds):  # interleaved, so drifts in machine load hit both alike
        t_rates.append(rate(trainer.step, trainer.device, seconds / rounds))
        b_rates.append(rate(bare, trainer.device, seconds / rounds))
    t, b = statistics.median(t_rates), statistics.median(b_rates)
    return {"preset": name, "device": str(trainer.device), "batch_size": trainer.config.batch_size,
            "trainer_it_per_s": round(t, 1), "bare_it_per_s": round(b, 1), "ratio": round(t / b, 3),
            "rounds": rounds}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ring8", "digits", "mnist-paper"])
    ap.add_argument("--seconds", type=float, default=6.0, help="measuring time per preset and side")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args(argv)
    out = {"benchmark": "trainer_overhead", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "results": [bench(p, a.device, a.seconds, a.rounds) for p in a.presets]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
