"""What ``gan_studio.watch`` costs a user's own loop: the same plain PyTorch loop, watched and unwatched, measured
in alternating rounds in one process (so a noisy, shared machine slows both alike).

    python benchmarks/watch_overhead.py [--seconds 3] [--rounds 4] [--loops ring8 digits-dcgan]

ring8: the ring8 preset's networks (MLP 2×128, batch 256, Adam); digits-dcgan: that preset's DCGAN on the
bundled 8×8 digits (batch 64); dcgan32: a DCGAN-sized loop — the DCGAN pair (width 64, z 100) on 32×32 single-channel
images (random data: the cost of watching does not depend on what the pictures show), batch 64, Adam(2e-4, 0.5). The watch logs every iteration (metrics line, doctor), snapshots every 50
iterations (samples, D's field/histogram, mode coverage) with a training state, and reads the control file.
Prints one JSON object; ratio = watched it/s ÷ unwatched it/s, the median over rounds (target: ≥ 0.95 for
ring8, ≥ 0.98 for the DCGAN); cpu_ratio = the same from the loop thread's own CPU time per iteration (what the
watch costs the loop itself; on a machine loaded by other jobs the wall-clock rates swing far more).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

import gan_studio
from gan_studio.core import Trainer
from gan_studio.core.train.presets import get_preset


def gan_iteration(G, D, od, og, batch, m: int, zd: int, gen):
    """One iteration of a plain non-saturating GAN loop (one D step, one G step) on ``batch()``."""
    def iteration():
        x = batch()
        with torch.no_grad():
            fake = G(torch.randn(m, zd, generator=gen))
        sr, sf = D(x), D(fake)
        ld = F.softplus(-sr).mean() + F.softplus(sf).mean()
        od.zero_grad(set_to_none=True)
        ld.backward()
        od.step()
        lg = F.softplus(-D(G(torch.randn(m, zd, generator=gen)))).mean()
        og.zero_grad(set_to_none=True)
        lg.backward()
        og.step()
        return ld, lg, sr, sf

    return iteration


def setup_dcgan32():
    from gan_studio.core.train.models import dcgan_pair

    torch.manual_seed(0)
    G, D = dcgan_pair((1, 32, 32), 100, width=64)
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(2000, 1, 32, 32, generator=gen) * 2 - 1
    m, zd = 64, 100

    batch = lambda: real[torch.randint(0, len(real), (m,), generator=gen)]
    return G, D, od, og, gan_iteration(G, D, od, og, batch, m, zd, gen), real, zd, None, None


def setup(name: str):
    if name == "dcgan32":
        return setup_dcgan32()
    tr = Trainer(get_preset(name).config.replace(device="cpu"))
    G, D, cfg, ds = tr.G, tr.D, tr.config, tr.dataset
    od = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    og = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    gen = torch.Generator().manual_seed(0)
    m, zd = cfg.batch_size, cfg.z_dim
    tanh = G.out_range == "tanh"

    def batch():
        x, _ = ds.sample(m, gen)
        return x * 2 - 1 if tanh else x

    iteration = gan_iteration(G, D, od, og, batch, m, zd, gen)

    if ds.kind == "points":
        real = batch()
    else:
        real = tr.dataset.images[:2000].float() / 255
        real = real * 2 - 1 if tanh else real
    return G, D, od, og, iteration, real, zd, getattr(ds, "centers", None), getattr(ds, "sigma", None)


def measure(name: str, seconds: float, rounds: int, every: int = 50) -> dict:
    G, D, od, og, iteration, real, zd, centers, sigma = setup(name)
    with tempfile.TemporaryDirectory() as tmp:
        w = gan_studio.watch(f"{tmp}/run", G, D, z_dim=zd, real=real, optimizers={"d": od, "g": og},
                             centers=centers, sigma=sigma, every=every)
        it = 0
        for _ in range(20):  # warm-up
            iteration()
        bare, watched, cpu = [], [], {"bare": [], "watched": []}
        for r in range(rounds):
            for which in (("bare", "watched") if r % 2 == 0 else ("watched", "bare")):
                n, t0, c0 = 0, time.perf_counter(), time.thread_time()
                while time.perf_counter() - t0 < seconds:
                    ld, lg, sr, sf = iteration()
                    n += 1
                    if which == "watched":
                        it += 1
                        w.log(it, d_loss=ld.item(), g_loss=lg.item(), d_real=sr, d_fake=sf)
                    else:
                        ld.item(), lg.item()  # the same synchronisation as a logging loop
                rate = n / (time.perf_counter() - t0)
                cpu[which].append((time.thread_time() - c0) / n)  # the loop's own thread: not slowed by the load
                (bare if which == "bare" else watched).append(rate)
        w.close()
        snaps = len(w.writer.index)
    ratios = [a / b for a, b in zip(watched, bare)]
    cpu_ratios = [b / a for a, b in zip(cpu["watched"], cpu["bare"])]
    return {"bare_it_per_s": [round(v, 1) for v in bare], "watched_it_per_s": [round(v, 1) for v in watched],
            "ratio_median": round(statistics.median(ratios), 3), "ratios": [round(v, 3) for v in ratios],
            "thread_ms_per_it": {k: [round(1000 * v, 2) for v in vs] for k, vs in cpu.items()},
            "cpu_ratio_median": round(statistics.median(cpu_ratios), 3), "cpu_ratios": [round(v, 3) for v in cpu_ratios],
            "watched_iterations": it, "snapshots": snaps, "errors": w.errors}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--loops", nargs="+", default=["ring8", "digits-dcgan", "dcgan32"])
    ap.add_argument("--every", type=int, default=50, help="iterations between the watch's snapshots")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    out = {"benchmark": "watch_overhead", "seconds_per_round": a.seconds, "rounds": a.rounds,
           "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    for name in a.loops:
        out[name] = measure(name, a.seconds, a.rounds, a.every)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
