"""Soak: does memory stay flat over a long run on the studio's real training path?

Trains ring8 through a ThreadRun (the studio's training loop) with every view requested, the metrics on,
recording into a run folder, and a consumer draining statistics and snapshots at ~30 Hz like the window.
The resident set size is sampled every ``--every`` iterations after a warm-up; the figure is the growth
from the end of the warm-up to the end (target: ≤ 100 MB over 200k iterations).

    python benchmarks/soak.py                         # 200k iterations or 30 minutes, whichever first
    python benchmarks/soak.py --iterations 20000      # a short version
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=200_000)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--warmup", type=int, default=5_000)
    ap.add_argument("--every", type=int, default=10_000)
    a = ap.parse_args()

    import torch

    from gan_studio.core.live.handles import ThreadRun
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.views.viewspec import ViewRequest

    torch.set_num_threads(1)
    cfg = get_preset("ring8").config.replace(steps=10**9)
    with tempfile.TemporaryDirectory(prefix="gan-studio-soak-") as tmp:
        run = ThreadRun(cfg, record_dir=str(Path(tmp) / "run")).start()
        run.set_views(ViewRequest(names=frozenset({"field", "samples", "d_hist", "latent", "metrics"})))
        t0 = time.perf_counter()
        deadline = t0 + a.minutes * 60
        samples, base, it = [], None, 0
        next_sample = a.warmup
        while it < a.iterations and time.perf_counter() < deadline:
            time.sleep(1 / 30)
            run.drain_stats()
            run.drain_events()
            snap = run.latest()
            it = snap.iteration if snap is not None else 0
            if snap is not None and snap.state == "error":
                print(json.dumps({"error": snap.message}))
                return 1
            if it >= next_sample:
                m = rss_mb()
                base = m if base is None else base
                samples.append((it, round(m, 1)))
                next_sample += a.every
        seconds = time.perf_counter() - t0
        end = rss_mb()
        run.stop(timeout=5)
        rec = Path(tmp) / "run"
        rec_mb = sum(p.stat().st_size for p in rec.rglob("*") if p.is_file()) / 2**20
    growth = end - (base if base is not None else end)
    print(json.dumps({"iterations": it, "seconds": round(seconds, 1), "it_per_s": round(it / seconds, 1),
                      "rss_after_warmup_mb": round(base or 0.0, 1), "rss_end_mb": round(end, 1),
                      "growth_mb": round(growth, 1), "growth_ok": growth <= 100.0, "recording_mb": round(rec_mb, 1),
                      "samples": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
