"""The test suite's CPU time (user + sys of pytest and every process under it), two checkouts side by side.

    python benchmarks/suite_cpu.py BASE_CHECKOUT NEW_CHECKOUT [--python PY] [-- PYTEST_ARGS...]

Both suites run at once on this machine, each in a cpuacct cgroup of its own (cgroup v1, under
/sys/fs/cgroup/cpuacct: root, Linux), so every descendant is counted -- also the processes a fork server
forks (core/live/processes.py), which a parent's ``RUSAGE_CHILDREN`` never sees. Each checkout is imported
from itself (PYTHONPATH), with the same interpreter. Prints one JSON line: per checkout its CPU seconds, wall
seconds, exit code and pytest's last line, and the ratio new / base.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup/cpuacct")


def start(name: str, checkout: Path, python: str, pytest_args: list[str]):
    group = CGROUPS / f"gan-studio-suite-{name}-{os.getpid()}"
    group.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(checkout))
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"suite-cpu-{name}-{os.getpid()}.log", "w")
    # the shell moves itself into the group, then becomes pytest: nothing runs outside it
    cmd = ["sh", "-c", f'echo $$ > "{group}/cgroup.procs" && exec "$@"', "sh", python, "-m", "pytest", "-q",
           "-p", "no:cacheprovider", *pytest_args]
    return group, log, subprocess.Popen(cmd, cwd=str(checkout), env=env, stdout=log, stderr=subprocess.STDOUT)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("pytest_args", nargs="*")
    a = ap.parse_args(argv)
    if not (CGROUPS / "cpuacct.usage").is_file() or not os.access(CGROUPS, os.W_OK):
        print(f"needs a writable cgroup v1 cpuacct hierarchy at {CGROUPS} (root on Linux)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    runs = {name: start(name, path.resolve(), a.python, a.pytest_args) for name, path in (("base", a.base),
                                                                                           ("new", a.new))}
    ended: dict[str, float] = {}
    while len(ended) < len(runs):
        for name, (_, _, proc) in runs.items():
            if name not in ended and proc.poll() is not None:
                ended[name] = time.perf_counter() - t0
        time.sleep(0.5)
    out = {}
    for name, (group, log, proc) in runs.items():
        code = proc.returncode
        log.close()
        tail = Path(log.name).read_text(errors="replace").strip().splitlines()
        out[name] = {"cpu_s": round(int((group / "cpuacct.usage").read_text()) / 1e9, 1),
                     "wall_s": round(ended[name], 1), "exit": code, "pytest": tail[-1] if tail else "",
                     "log": log.name}
        try:
            group.rmdir()
        except OSError:  # a process outlived the suite: the group stays until it ends
            pass
    out["ratio_cpu"] = round(out["new"]["cpu_s"] / out["base"]["cpu_s"], 3)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
