"""How long a new run takes to show its first picture in the studio: the training process (and its views
helper) started from a fork server that imported torch once (core/live/processes.py, Linux) against spawned
fresh interpreters (``GAN_STUDIO_FORKSERVER=0``), side by side in one run.

    python benchmarks/process_start.py [--runs 4] [--preset ring8]

Each mode runs in a fresh interpreter of its own (a process has one start method), which starts ``--runs``
runs one after another, as switching presets or restarting does: each a :class:`ProcessRun`, from
``start()`` to the first snapshot with its data and views, then stopped. Prints one JSON object: per mode the
first run's seconds (the fork server starts with it) and the median of the later ones, and the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(runs: int, preset: str) -> dict:
    from gan_studio.core.live.process_run import ProcessRun
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.views.viewspec import ViewRequest

    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run = ProcessRun(get_preset(preset).config, start_paused=True)
        run.set_views(ViewRequest(names=frozenset({"samples", "field", "d_hist"})))
        run.start()
        try:
            while True:
                s = run.latest()
                if s is not None and s.static is not None and s.views:
                    break
                if time.perf_counter() - t0 > 300:
                    raise TimeoutError("no first snapshot in 300 s")
                time.sleep(0.005)
            seconds.append(time.perf_counter() - t0)
        finally:
            run.stop(10)
    return {"seconds": [round(s, 3) for s in seconds]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.runs < 2:
        ap.error("--runs must be at least 2 (the first run, and the later ones)")
    if a.child:
        print(json.dumps(child(a.runs, a.preset)))
        return 0
    out = {"preset": a.preset, "runs": a.runs, "modes": {}}
    for mode, flag in (("spawn", "0"), ("forkserver", "1")):
        env = dict(os.environ, GAN_STUDIO_FORKSERVER=flag, PYTHONPATH=str(REPO))
        p = subprocess.run([sys.executable, __file__, "--child", "--runs", str(a.runs), "--preset", a.preset],
                           capture_output=True, text=True, env=env, cwd=str(REPO), timeout=1800)
        if p.returncode != 0:
            print(p.stderr[-3000:], file=sys.stderr)
            return 1
        s = json.loads(p.stdout.strip().splitlines()[-1])["seconds"]
        out["modes"][mode] = {"first_s": s[0], "later_median_s": round(statistics.median(s[1:]), 3), "all_s": s}
    sp, fs = out["modes"]["spawn"], out["modes"]["forkserver"]
    out["ratio_first"] = round(fs["first_s"] / sp["first_s"], 3)
    out["ratio_later"] = round(fs["later_median_s"] / sp["later_median_s"], 3)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
