"""The fuzzer in CI: a fixed, reproducible set of mutated run folders, checkpoints, generator exports and
points files (hypothesis draws the mutations, and shrinks a failing one), each read by the commands a
user would run. The promise checked for every one: exit status 0 or 2, at most one line on stderr (plus
one warning), no traceback, no hang, nothing written outside --out, nothing executed. The longer run is
benchmarks/fuzz.py."""
from __future__ import annotations

import os
import shutil

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import fuzzlib  # noqa: E402

N_CASES = int(os.environ.get("GAN_STUDIO_FUZZ_CASES", "120"))


@pytest.fixture(scope="module", autouse=True)
def memory_bound():
    """The fuzzer runs on a shared machine: a recipe's huge model is refused by the memory check (the
    user's bound, GAN_STUDIO_MAX_MEMORY) instead of taking most of the machine."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GAN_STUDIO_MAX_MEMORY", "2G")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    return fuzzlib.make_genuine(tmp_path_factory.mktemp("genuine"))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def test_mutated_files_never_crash_hang_or_write_outside_out(genuine, work):
    count = {"runs": 0}

    @settings(max_examples=N_CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        outcomes = fuzzlib.fuzz_case(genuine, work, fuzzlib.DrawRandom(data), tag="h")
        count["runs"] += len(outcomes)
        bad = [o for o in outcomes if o.problems]
        assert not bad, "\n".join(f"{' '.join(o.argv)}: {o.problems}\n{o.stderr[-600:]}" for o in bad)

    case()
    assert count["runs"] >= N_CASES  # every case ran at least one command
    assert not os.path.exists(fuzzlib.MARKER)


def test_the_studio_survives_damaged_run_folders(genuine, work):
    """A few mutated recordings opened in the real studio process (offscreen): it exits, with one line."""
    import random

    bad = []
    for seed in range(3):
        rng = random.Random(1000 + seed)
        run = work / f"studio-{seed}"
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(genuine["run"], run)
        desc = fuzzlib.mutate_run_folder(run, rng, work / "outside")
        o = fuzzlib.run_studio_open(run)
        if o.problems:
            bad.append(f"{desc}: {o.problems} {o.stderr[-300:]}")
    assert not bad, bad


def test_slow_training_that_was_asked_for_is_not_a_hang_but_a_stall_is(genuine, tmp_path):
    """The fuzzer's hang rule (fuzzlib.requested_training_s): past the limit, a command is excused only when
    the alarm lands inside a trainer AND the training it asked for needs longer than the limit at the
    slow-end rates; otherwise (a small request, or no trainer yet) it is a hang. (``genuine`` trained in this
    process first: an alarm inside a first, lazy import would leave that module half-imported.)"""
    def big(name):
        return ["train", "--preset", "ring8", "--k", "10000", "--steps", "3", "--out", tmp_path / name, "--quiet"]

    o = fuzzlib.run_in_process(big("big"), [tmp_path], [tmp_path / "big"], hang_s=2, iterations=3)
    assert o.slow and not o.problems, o  # 3 x 10,001 optimiser steps: > 30 s at 1 ms each, past 2 s
    small = ["train", "--preset", "ring8", "--model-arg", "hidden=16", "--steps", "100000", "--out",
             tmp_path / "small", "--quiet"]
    o = fuzzlib.run_in_process(small, [tmp_path], [tmp_path / "small"], hang_s=2, iterations=1)
    # one ring8 iteration is milliseconds: hung (by CPU time, or by the clock on a machine too loaded to give 2 s)
    assert len(o.problems) == 1 and o.problems[0].startswith("hung: ") and not o.slow, o
    o = fuzzlib.run_in_process(big("big2"), [tmp_path], [tmp_path / "big2"], hang_s=2)  # no request declared
    assert o.problems and not o.slow
