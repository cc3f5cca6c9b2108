"""Studio figures: it/s inside the window ÷ it/s of the same preset headless (`gan-studio train`), UI stall
p99 and startup, measured side by side in one run (rounds alternate, so machine load hits both alike).

    python benchmarks/studio.py [--preset ring8] [--seconds 10] [--rounds 3] [--threads 0 1]

Runs the real commands in subprocesses on the offscreen platform. Prints one JSON object.
``--threads``: torch threads of the studio's training process to compare (0 = torch's default).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def last_json(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in output:\n{out[-2000:]}")


def headless(preset: str, seconds: float, it_per_s_guess: float) -> float:
    steps = max(200, int(it_per_s_guess * seconds))
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([sys.executable, "-m", "gan_studio", "train", "--preset", preset, "--steps", str(steps),
                            "--out", d, "--quiet"], capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise RuntimeError(p.stderr)
    return float(last_json(p.stdout)["it_per_s"])


def studio(preset: str, seconds: float, threads: int) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("GAN_STUDIO_TRAIN_THREADS", None)
    if threads:
        env["GAN_STUDIO_TRAIN_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as cfg:
        env["GAN_STUDIO_CONFIG_DIR"] = cfg
        p = subprocess.run([sys.executable, "-m", "gan_studio", "--preset", preset, "--exit-after", str(seconds)],
                           capture_output=True, text=True, timeout=600, env=env)
    if p.returncode:
        raise RuntimeError(p.stderr)
    return last_json(p.stdout)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[0])
    a = ap.parse_args(argv)
    h, s = [], {t: [] for t in a.threads}
    guess = 200.0
    for _ in range(a.rounds):
        h.append(headless(a.preset, a.seconds, guess))
        guess = h[-1]
        for t in a.threads:
            s[t].append(studio(a.preset, a.seconds, t))
    hm = statistics.median(h)
    out = {"benchmark": "studio", "preset": a.preset, "seconds": a.seconds, "rounds": a.rounds,
           "headless_it_per_s": [round(v, 1) for v in h], "studio": {}}
    for t, runs in s.items():
        # the window's training only starts once its process has loaded torch; its it/s counts from then
        ips = [r["it_per_s"] for r in runs]
        out["studio"][f"threads={t or 'default'}"] = {
            "it_per_s": ips, "ratio_to_headless": round(statistics.median(ips) / hm, 3),
            "ui_stall_p99_ms": [r["ui_stall_p99_ms"] for r in runs], "ui_frames": [r["ui_frames"] for r in runs],
            "startup_s": [r["startup_s"] for r in runs]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
