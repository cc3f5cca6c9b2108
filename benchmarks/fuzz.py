"""The long fuzzer run (tests/test_fuzz.py runs a few hundred cases in CI): mutated run folders,
checkpoints, generator exports and points files, each read by the commands a user would run, plus a
sample of damaged recordings opened in the real studio process. Prints one JSON object: cases, command
runs, failures (with the first few described), and the time taken.

    python benchmarks/fuzz.py --cases 10000 [--studio 30] [--seed 0] [--start 0] [--max-memory 4G]

Case i of a run uses ``random.Random(seed * 1_000_003 + i)`` for i in [start, start + cases), so a long run
can be split into chunks run side by side and any failing case rerun alone (``--start I --cases 1``). A
command that runs past fuzzlib.HANG_S while training a model the recipe legitimately asks for is counted as
"slow", not as a failure (the rule is fuzzlib.requested_training_s). ``--max-memory`` sets
GAN_STUDIO_MAX_MEMORY, the networks' memory bound (a shared machine: a recipe's huge model is then refused
by the memory check instead of taking most of the machine).
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
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--max-memory", default="4G")
    ap.add_argument("--cases-at", type=int, nargs="+", metavar="I", help="only these case numbers (rerun failures)")
    ap.add_argument("--every", type=int, default=500, help="a progress line every this many cases")
    a = ap.parse_args()
    import os

    if a.max_memory:
        os.environ["GAN_STUDIO_MAX_MEMORY"] = a.max_memory
    import torch

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="gan-studio-fuzz-"))
    t0 = time.perf_counter()
    genuine = fuzzlib.make_genuine(work / "genuine")
    runs, failures, kinds, slow = 0, [], Counter(), []
    studio_every = max(1, a.cases // max(1, a.studio)) if a.studio else 0
    numbers = a.cases_at or range(a.start, a.start + a.cases)
    for n, i in enumerate(numbers):
        seed = a.seed * 1_000_003 + i
        outcomes = fuzzlib.fuzz_case(genuine, work, random.Random(seed), tag=str(i),
                                     studio=bool(studio_every) and i % studio_every == 0)
        for o in outcomes:
            runs += 1
            kinds[o.argv[1] if len(o.argv) > 1 else "?"] += 1
            if o.slow:
                slow.append({"seed": seed, "case": o.argv[0], "why": o.slow})
                print(f"SLOW seed {seed}: {o.argv[0]}: {o.slow}", file=sys.stderr, flush=True)
            if o.problems:
                failures.append({"seed": seed, "case": o.argv[0], "command": " ".join(o.argv[1:3]),
                                 "problems": o.problems, "stderr_tail": o.stderr[-300:]})
                print(f"FAILURE seed {seed}: {o.argv[0]} {' '.join(o.argv[1:3])}: {o.problems} "
                      f"{o.stderr.strip().splitlines()[-1:] if o.stderr.strip() else ''}", file=sys.stderr, flush=True)
        if (n + 1) % a.every == 0:
            print(f"{n + 1:,} cases, {runs:,} runs, {len(failures)} failures, {len(slow)} slow, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"benchmark": "fuzz", "seed": a.seed, "start": a.start, "cases": len(numbers),
                      "max_memory": a.max_memory, "command_runs": runs, "slow": slow, "by_command": dict(kinds),
                      "failures": len(failures), "first_failures": failures[:10],
                      "seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
