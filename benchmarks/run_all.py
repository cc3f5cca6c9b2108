"""Every performance figure GAN Studio tracks, as one JSON object on the last stdout line.

Each benchmark runs in its own process (so one's threads, caches or memory cannot colour another's
numbers) and prints its own JSON as its last line; this script gathers them under the benchmark's name.
A benchmark that fails is reported with its exit code and the tail of its stderr; the others still run.

    python benchmarks/run_all.py               # everything, full length
    python benchmarks/run_all.py --quick       # shorter runs: a smoke test of the benchmarks themselves
    python benchmarks/run_all.py --only studio parzen
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> (script, full-length arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "trainer_overhead": ("trainer_overhead.py", [], ["--seconds", "2", "--rounds", "2", "--presets", "ring8"]),
    "studio": ("studio.py", [], ["--seconds", "5", "--rounds", "1"]),
    "parzen": ("parzen.py", [], ["--n-samples", "500", "--n-test", "200", "--full", "2000"]),
    "reliability": ("reliability.py", [], ["--seeds", "1000", "--presets", "ring8-collapse,ring8-pacgan",
                                           "--no-demo"]),
    "soak": ("soak.py", [], ["--iterations", "12000", "--warmup", "2000", "--every", "2000"]),
    "process_start": ("process_start.py", [], ["--runs", "2"]),
}


def last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def run_one(name: str, quick: bool) -> dict:
    script, full, short = BENCHMARKS[name]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / script), *(short if quick else full)],
                          capture_output=True, text=True)
    seconds = round(time.perf_counter() - t0, 1)
    result = last_json(proc.stdout)
    if proc.returncode != 0 or result is None:
        return {"error": f"exit code {proc.returncode}", "stderr_tail": proc.stderr.strip()[-2000:],
                "wall_s": seconds}
    result["wall_s"] = seconds
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (checks that every benchmark works)")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    args = ap.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    out: dict = {"quick": args.quick}
    for name in names:
        print(f"[run_all] {name} ...", file=sys.stderr, flush=True)
        out[name] = run_one(name, args.quick)
        print(f"[run_all] {name}: {json.dumps(out[name])[:300]}", file=sys.stderr, flush=True)
    print(json.dumps(out))
    return 1 if any("error" in out[n] for n in names) else 0


if __name__ == "__main__":
    sys.exit(main())
