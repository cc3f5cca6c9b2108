"""Studio figures: training speed inside the window against the same preset headless (`gan-studio train`),
and what the panels show: frames per second, UI stalls. Measured side by side in one run (rounds alternate,
so load from other processes hits both alike).

    python benchmarks/studio.py [--presets ring8 digits] [--seconds 15] [--rounds 2] [--modes smooth fast]

Runs the real commands in subprocesses (the studio on the offscreen platform). Prints one JSON object:

* ``headless_it_per_s``: `gan-studio train` with the studio training process's thread count, its rate read
  from the run folder it writes while it trains (a few seconds after it starts, for ``--seconds``):
  ``cli``: ``--steps`` sized to the time it runs, so it records what a run of that length records (a
  snapshot every steps/200 iterations, GIF frames); ``train_only``: ``--steps`` so large that it records
  no snapshots (the training loop alone, the strictest comparison); with ``--default-threads`` also
  ``cli_default_threads``: torch's default thread count (what a user gets; on a machine whose other cores
  are busy it can be far slower);
* per views mode (``GAN_STUDIO_VIEWS``): the studio's it/s, ``ratio`` to each headless figure (medians),
  ``ui_fps`` (display ticks that drew a new snapshot, per second of training), ``views_fps`` (distinct views
  the data panels drew per second), UI stall p99, and from the training process (``GAN_STUDIO_PERF``):
  views computed and snapshots published per second, CPU ms per frame of views.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def last_json(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in output:\n{out[-2000:]}")


def studio_threads() -> int:
    try:
        from gan_studio.gui.window import train_threads

        return train_threads()
    except Exception:  # noqa: BLE001 - the window module may move; its rule: all cores but one
        return max(1, (os.cpu_count() or 2) - 1)


def _last_iteration(metrics: Path) -> int | None:
    try:
        with open(metrics, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return int(json.loads(line)["iteration"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def headless(preset: str, seconds: float, threads: int | None, steps: int = 100_000_000, warmup: float = 3.0) -> float:
    """it/s of `gan-studio train --steps steps` from `warmup` seconds after its first logged iteration, for
    `seconds` (it is stopped then, or when it ends)."""
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as d:
        metrics = Path(d) / "run" / "metrics.jsonl"
        p = subprocess.Popen([sys.executable, "-m", "gan_studio", "train", "--preset", preset, "--steps", str(steps),
                              "--out", str(Path(d) / "run"), "--quiet", "--log-every", "10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + 300
            while _last_iteration(metrics) is None:  # loading torch and the data
                if p.poll() is not None:
                    raise RuntimeError(p.stderr.read().decode())
                if time.monotonic() > deadline:
                    raise RuntimeError("headless training did not start in 5 minutes")
                time.sleep(0.05)
            time.sleep(warmup)
            t0, i0 = time.perf_counter(), _last_iteration(metrics)
            end = t0 + seconds
            while time.perf_counter() < end and p.poll() is None:
                time.sleep(0.05)
            t1, i1 = time.perf_counter(), _last_iteration(metrics)
        finally:
            p.terminate()
            p.wait(10)
    return (i1 - i0) / (t1 - t0)


def studio(preset: str, seconds: float, mode: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GAN_STUDIO_VIEWS=mode)
    with tempfile.TemporaryDirectory() as cfg:
        perf = Path(cfg) / "perf.jsonl"
        env.update(GAN_STUDIO_CONFIG_DIR=cfg, GAN_STUDIO_PERF=str(perf))
        p = subprocess.run([sys.executable, "-m", "gan_studio", "--preset", preset, "--exit-after", str(seconds)],
                           capture_output=True, text=True, timeout=600, env=env)
        if p.returncode:
            raise RuntimeError(p.stderr)
        r = last_json(p.stdout)
        try:
            r["perf"] = json.loads(perf.read_text().splitlines()[-1])
        except (OSError, IndexError, ValueError):
            r["perf"] = {}
    return r


def _med(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


def bench_preset(preset: str, seconds: float, rounds: int, modes: list[str], threads: int,
                 default_threads: bool = False) -> dict:
    h: dict[str, list[float]] = {"cli": [], "train_only": []}
    if default_threads:
        h["cli_default_threads"] = []
    s: dict[str, list[dict]] = {m: [] for m in modes}
    rate = headless(preset, 3.0, threads, warmup=1.0)  # sizes the CLI runs
    for _ in range(rounds):
        steps = int(rate * (seconds + 8.0))  # what it trains in its start, warm-up and measured time
        h["cli"].append(headless(preset, seconds, threads, steps=steps))
        for m in modes:
            s[m].append(studio(preset, seconds + 3.0, m))  # + the studio's own start (torch loads in its child)
        h["train_only"].append(headless(preset, seconds, threads))
        rate = h["train_only"][-1]
        if default_threads:
            h["cli_default_threads"].append(headless(preset, seconds, None, steps=steps))
    out = {"headless_it_per_s": {k: [round(v, 1) for v in vs] for k, vs in h.items()},
           "studio_threads": threads, "modes": {}}
    for m, runs in s.items():
        ips = [r["it_per_s"] for r in runs]
        perf = [r.get("perf") or {} for r in runs]
        views_fps = [max(r.get("panel_fps", {}).values(), default=0.0) for r in runs]

        def per_s(key):
            return [round(p[key] / p["loop_wall_s"], 1) if p.get("loop_wall_s") else None for p in perf]

        out["modes"][m] = {
            "it_per_s": ips,
            "ratio": {k: round(statistics.median(ips) / statistics.median(v), 3) for k, v in h.items()},
            "ui_fps": [r.get("ui_fps") for r in runs], "views_fps": views_fps,
            "ui_stall_p99_ms": [r["ui_stall_p99_ms"] for r in runs],
            # the training process: views computed and snapshots published a second, CPU per frame of views,
            # the share of a core the training thread got (the window's process takes the rest of its core)
            "views_computed_per_s": per_s("views"), "published_per_s": per_s("publishes"),
            "views_cpu_ms_per_frame": [round(1000 * p["views_cpu_s"] / p["views"], 2) if p.get("views") else None
                                       for p in perf],
            "train_cpu_share": [round(p["loop_cpu_s"] / p["loop_wall_s"], 2) if p.get("loop_wall_s") else None
                                for p in perf],
            "startup_s": [r["startup_s"] for r in runs]}
        out["modes"][m]["median"] = {"it_per_s": _med(ips), "ui_fps": _med(out["modes"][m]["ui_fps"]),
                                     "views_fps": _med(views_fps),
                                     "ui_stall_p99_ms": _med(out["modes"][m]["ui_stall_p99_ms"])}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ring8", "digits"])
    ap.add_argument("--preset", help="one preset (same as --presets NAME)")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--modes", nargs="+", default=["smooth", "fast"])
    ap.add_argument("--default-threads", action="store_true", help="also headless with torch's default threads")
    a = ap.parse_args(argv)
    presets = [a.preset] if a.preset else a.presets
    threads = studio_threads()
    out = {"benchmark": "studio", "seconds": a.seconds, "rounds": a.rounds, "cpus": os.cpu_count(),
           "presets": {p: bench_preset(p, a.seconds, a.rounds, a.modes, threads, a.default_threads)
                       for p in presets}}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
