"""Studio figures: training speed inside the window against the same preset headless (`gan-studio train`),
and what the panels show: frames per second, UI stalls. Measured side by side in one run (rounds alternate,
so load from other processes hits both alike).

    python benchmarks/studio.py [--presets ring8 digits] [--seconds 15] [--rounds 2] [--modes smooth fast]
                                [--baseline /path/to/other/checkout]

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
  views computed and snapshots published per second, CPU ms per frame of views and per iteration
  (``headless_cpu_ms_per_it``: the same for `gan-studio train`), of which the training steps alone
  (``step_cpu_ms_per_it``), and the time publishing waited for the window (``publish_wait_ms_per_s``); where
  /proc is readable, the CPU of the window's process (cores, and ms per distinct frame drawn).

``--baseline TREE`` runs that checkout's code in its own folder (``code`` and ``baseline_code`` say which
package each imported; the same one twice is refused).
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


def _env(tree: str | None) -> dict:
    """The environment of a subprocess running GAN Studio from ``tree`` (None: the one this runs from)."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(tree).resolve()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _cwd(tree: str | None) -> str | None:
    """Where that subprocess runs: in ``tree`` (``python -m`` puts its folder before PYTHONPATH, so from another
    checkout it would run that checkout's code)."""
    return str(Path(tree).resolve()) if tree else None


def code_of(tree: str | None) -> str:
    """The gan_studio package a subprocess for ``tree`` imports (said in the output: what was compared)."""
    p = subprocess.run([sys.executable, "-c", "import gan_studio; print(gan_studio.__file__)"], env=_env(tree),
                       cwd=_cwd(tree), capture_output=True, text=True, timeout=120)
    return str(Path(p.stdout.strip()).parent) if p.returncode == 0 else f"? ({p.stderr.strip()[-200:]})"


def headless(preset: str, seconds: float, threads: int | None, steps: int = 100_000_000, warmup: float = 3.0,
             tree: str | None = None) -> dict:
    """`gan-studio train --steps steps` from `warmup` seconds after its first logged iteration, for `seconds`
    (it is stopped then, or when it ends): ``it_per_s``, and ``cpu_ms_per_it`` where /proc is readable."""
    env = _env(tree)
    env.pop("OMP_NUM_THREADS", None)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as d:
        metrics = Path(d) / "run" / "metrics.jsonl"
        p = subprocess.Popen([sys.executable, "-m", "gan_studio", "train", "--preset", preset, "--steps", str(steps),
                              "--out", str(Path(d) / "run"), "--quiet", "--log-every", "10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=_cwd(tree))
        try:
            deadline = time.monotonic() + 300
            while _last_iteration(metrics) is None:  # loading torch and the data
                if p.poll() is not None:
                    raise RuntimeError(p.stderr.read().decode())
                if time.monotonic() > deadline:
                    raise RuntimeError("headless training did not start in 5 minutes")
                time.sleep(0.05)
            time.sleep(warmup)
            t0, i0, c0 = time.perf_counter(), _last_iteration(metrics), _cpu_seconds(p.pid)
            end = t0 + seconds
            while time.perf_counter() < end and p.poll() is None:
                time.sleep(0.05)
            t1, i1, c1 = time.perf_counter(), _last_iteration(metrics), _cpu_seconds(p.pid)
        finally:
            p.terminate()
            p.wait(10)
    out = {"it_per_s": (i1 - i0) / (t1 - t0)}
    if None not in (c0, c1) and i1 > i0:
        out["cpu_ms_per_it"] = 1000 * (c1 - c0) / (i1 - i0)
    return out


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process so far, from /proc (None where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _children(pid: int) -> list[int]:
    try:
        out = []
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(c) for c in f.read().split()]
        return out
    except OSError:
        return []


def _cpu_sample(pid: int) -> tuple[float, float | None, float | None]:
    """(time, CPU seconds of the window's process, of its training process)."""
    kids = [c for c in _children(pid) if _cpu_seconds(c) is not None]
    train = max((_cpu_seconds(c) or 0.0 for c in kids), default=None)  # the busiest child: the training process
    return time.perf_counter(), _cpu_seconds(pid), train


def studio(preset: str, seconds: float, mode: str, tree: str | None = None) -> dict:
    """The studio with ``--exit-after seconds``: its JSON line, ``perf`` (the training process's own
    figures) and, where /proc is readable, the CPU (in cores) of the window's process (``ui_cpu``) and of
    the training process (``train_cpu``) over the second half of the run."""
    env = dict(_env(tree), QT_QPA_PLATFORM="offscreen", GAN_STUDIO_VIEWS=mode)
    with tempfile.TemporaryDirectory() as cfg:
        perf = Path(cfg) / "perf.jsonl"
        env.update(GAN_STUDIO_CONFIG_DIR=cfg, GAN_STUDIO_PERF=str(perf))
        p = subprocess.Popen([sys.executable, "-m", "gan_studio", "--preset", preset, "--exit-after", str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=_cwd(tree))
        t0 = time.perf_counter()
        samples = []
        for at in (0.5 * seconds, seconds - 0.5):  # the process starts in well under half the run
            while time.perf_counter() - t0 < at and p.poll() is None:
                time.sleep(0.05)
            samples.append(_cpu_sample(p.pid))
        out, err = p.communicate(timeout=600)
        if p.returncode:
            raise RuntimeError(err)
        r = last_json(out)
        (ta, ua, ca), (tb, ub, cb) = samples
        if None not in (ua, ub) and tb > ta:
            r["ui_cpu"] = round((ub - ua) / (tb - ta), 3)
        if None not in (ca, cb) and tb > ta:
            r["train_cpu"] = round((cb - ca) / (tb - ta), 3)
        try:
            r["perf"] = json.loads(perf.read_text().splitlines()[-1])
        except (OSError, IndexError, ValueError):
            r["perf"] = {}
    return r


def _med(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


def bench_preset(preset: str, seconds: float, rounds: int, modes: list[str], threads: int,
                 default_threads: bool = False, baseline: str | None = None) -> dict:
    hr: dict[str, list[dict]] = {"cli": [], "train_only": []}
    if default_threads:
        hr["cli_default_threads"] = []
    if baseline:
        hr["cli_baseline"] = []
    s: dict[str, list[dict]] = {m: [] for m in modes}
    if baseline:
        s.update({f"{m}_baseline": [] for m in modes})
    rate = headless(preset, 3.0, threads, warmup=1.0)["it_per_s"]  # sizes the CLI runs
    for r in range(rounds):
        steps = int(rate * (seconds + 8.0))  # what it trains in its start, warm-up and measured time
        # the order alternates from round to round, so load from other processes hits each alike
        jobs = [("cli", lambda: headless(preset, seconds, threads, steps=steps))]
        if baseline:
            jobs.append(("cli_baseline", lambda: headless(preset, seconds, threads, steps=steps, tree=baseline)))
        for m in modes:
            jobs.append((m, lambda m=m: studio(preset, seconds + 3.0, m)))  # + the studio's start (torch loads)
            if baseline:
                jobs.append((f"{m}_baseline", lambda m=m: studio(preset, seconds + 3.0, m, tree=baseline)))
        jobs.append(("train_only", lambda: headless(preset, seconds, threads)))
        if default_threads:
            jobs.append(("cli_default_threads", lambda: headless(preset, seconds, None, steps=steps)))
        for name, job in (jobs if r % 2 == 0 else jobs[::-1]):
            (hr if name in hr else s)[name].append(job())
        rate = hr["train_only"][-1]["it_per_s"]
    h = {k: [r["it_per_s"] for r in rs] for k, rs in hr.items()}
    out = {"headless_it_per_s": {k: [round(v, 1) for v in vs] for k, vs in h.items()},
           "headless_cpu_ms_per_it": {k: [round(r["cpu_ms_per_it"], 3) if "cpu_ms_per_it" in r else None for r in rs]
                                      for k, rs in hr.items()},
           "studio_threads": threads, "modes": {},
           # each headless figure against the bare loop: the median's ratio, and each round's (the spread)
           "headless_ratio": {k: {"median": round(statistics.median(v) / statistics.median(h["train_only"]), 3),
                                  "rounds": [round(a / b, 3) for a, b in zip(v, h["train_only"])]}
                              for k, v in h.items() if k != "train_only"}}
    for m, runs in s.items():
        ips = [r["it_per_s"] for r in runs]
        perf = [r.get("perf") or {} for r in runs]
        views_fps = [max(r.get("panel_fps", {}).values(), default=0.0) for r in runs]

        def per_s(key):
            return [round(p[key] / p["loop_wall_s"], 1) if p.get("loop_wall_s") else None for p in perf]

        out["modes"][m] = {
            "it_per_s": ips,
            "ratio": {k: round(statistics.median(ips) / statistics.median(v), 3) for k, v in h.items()},
            "ratio_rounds": [round(a / b, 3) for a, b in zip(ips, h["train_only"])],
            "ui_fps": [r.get("ui_fps") for r in runs], "views_fps": views_fps,
            "ui_stall_p99_ms": [r["ui_stall_p99_ms"] for r in runs],
            # the training process: views computed and snapshots published a second, CPU per frame of views,
            # the share of a core the training thread got (the window's process takes the rest of its core)
            "views_computed_per_s": per_s("views"), "published_per_s": per_s("publishes"),
            "views_cpu_ms_per_frame": [round(1000 * p["views_cpu_s"] / p["views"], 2) if p.get("views") else None
                                       for p in perf],
            "train_cpu_share": [round(p["loop_cpu_s"] / p["loop_wall_s"], 2) if p.get("loop_wall_s") else None
                                for p in perf],
            "train_cpu_ms_per_it": [round(1000 * p["loop_cpu_s"] / p["loop_iterations"], 3)
                                    if p.get("loop_iterations") else None for p in perf],
            # of which the training steps alone (beside headless_cpu_ms_per_it: what sharing the machine with
            # the window costs the same code), and the wall time publishing took beyond its CPU (the window
            # reading the pipe late), in ms a second
            "step_cpu_ms_per_it": [round(1000 * p["step_cpu_s"] / p["loop_iterations"], 3)
                                   if p.get("loop_iterations") and "step_cpu_s" in p else None for p in perf],
            "publish_wait_ms_per_s": [round(1000 * (p["publish_wall_s"] - p["publish_cpu_s"]) / p["loop_wall_s"], 1)
                                      if p.get("loop_wall_s") and "publish_wall_s" in p else None for p in perf],
            # the window's process, in cores, and per distinct frame drawn
            "ui_cpu": [r.get("ui_cpu") for r in runs],
            "ui_cpu_ms_per_frame": [round(1000 * r["ui_cpu"] / f, 1) if r.get("ui_cpu") is not None and f else None
                                    for r, f in zip(runs, views_fps)],
            "startup_s": [r["startup_s"] for r in runs]}
        mm = out["modes"][m]
        mm["median"] = {"it_per_s": _med(ips), "ui_fps": _med(mm["ui_fps"]), "views_fps": _med(views_fps),
                        "ui_stall_p99_ms": _med(mm["ui_stall_p99_ms"])}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ring8", "digits"])
    ap.add_argument("--preset", help="one preset (same as --presets NAME)")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--modes", nargs="+", default=["smooth", "fast"])
    ap.add_argument("--default-threads", action="store_true", help="also headless with torch's default threads")
    ap.add_argument("--baseline", metavar="TREE", help="also run `cli` and the studio from another source tree "
                    "(e.g. the main branch's checkout), interleaved with this one: ``*_baseline`` figures")
    a = ap.parse_args(argv)
    presets = [a.preset] if a.preset else a.presets
    threads = studio_threads()
    out = {"benchmark": "studio", "seconds": a.seconds, "rounds": a.rounds, "cpus": os.cpu_count(), "presets": {},
           "code": code_of(None)}
    if a.baseline:
        out["baseline_code"] = code_of(a.baseline)
        if out["baseline_code"] == out["code"]:
            ap.error(f"--baseline {a.baseline} runs the same code as this checkout ({out['code']})")
    for p in presets:
        out["presets"][p] = bench_preset(p, a.seconds, a.rounds, a.modes, threads, a.default_threads,
                                         a.baseline)
        print(json.dumps({p: out["presets"][p]}), file=sys.stderr, flush=True)  # progress
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
