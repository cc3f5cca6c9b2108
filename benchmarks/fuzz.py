"""The long fuzzer run (tests/test_fuzz.py runs a few hundred cases in CI): mutated run folders,
checkpoints, generator exports and points files, each read by the commands a user would run, plus a
sample of damaged recordings opened in the real studio process. Prints one JSON object: cases, command
runs, failures (with the first few described), and the time taken.

    python benchmarks/fuzz.py --cases 10000 [--studio 30] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzzlib  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10000)
    ap.add_argument("--studio", type=int, default=20, help="damaged recordings opened in the real studio")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="gan-studio-fuzz-"))
    t0 = time.perf_counter()
    genuine = fuzzlib.make_genuine(work / "genuine")
    runs, failures, kinds = 0, [], Counter()
    studio_every = max(1, a.cases // max(1, a.studio)) if a.studio else 0
    for i in range(a.cases):
        seed = a.seed * 1_000_003 + i
        outcomes = fuzzlib.fuzz_case(genuine, work, random.Random(seed), tag=str(i),
                                     studio=bool(studio_every) and i % studio_every == 0)
        for o in outcomes:
            runs += 1
            kinds[o.argv[1] if len(o.argv) > 1 else "?"] += 1
            if o.problems:
                failures.append({"seed": seed, "case": o.argv[0], "command": " ".join(o.argv[1:3]),
                                 "problems": o.problems, "stderr_tail": o.stderr[-300:]})
                print(f"FAILURE seed {seed}: {o.argv[0]} {' '.join(o.argv[1:3])}: {o.problems} "
                      f"{o.stderr.strip().splitlines()[-1:] if o.stderr.strip() else ''}", file=sys.stderr, flush=True)
        if (i + 1) % 500 == 0:
            print(f"{i + 1:,} cases, {runs:,} runs, {len(failures)} failures, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"benchmark": "fuzz", "cases": a.cases, "command_runs": runs, "by_command": dict(kinds),
                      "failures": len(failures), "first_failures": failures[:10],
                      "seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
