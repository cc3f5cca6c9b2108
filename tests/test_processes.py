"""How GAN Studio starts its processes (core/live/processes.py): on Linux forked from a fork server that has
imported torch once, each process still getting the environment and working folder of the moment it starts,
as a spawned one would."""
from __future__ import annotations

import os
import sys
import time

import pytest

from gan_studio.core.live import processes


def _report(q) -> None:
    q.put({"probe": os.environ.get("GAN_STUDIO_PROBE"), "cwd": os.getcwd(),
           "dynamo_loaded": "torch._dynamo" in sys.modules, "pid": os.getpid()})


def _start(q):
    p = processes.process(_report, (q,), name="gan-studio-probe")
    t0 = time.perf_counter()
    p.start()
    got = q.get(timeout=120)
    p.join(30)
    assert p.exitcode == 0
    return got, time.perf_counter() - t0


def test_a_process_gets_the_environment_and_folder_of_the_moment_it_starts(tmp_path, monkeypatch):
    q = processes.context().Queue()
    monkeypatch.setenv("GAN_STUDIO_PROBE", "first")
    first, _ = _start(q)  # (the fork server, on Linux, starts with the first process)
    assert first["probe"] == "first" and first["pid"] != os.getpid()
    monkeypatch.setenv("GAN_STUDIO_PROBE", "changed since")
    monkeypatch.chdir(tmp_path)
    later, seconds = _start(q)
    assert later["probe"] == "changed since" and os.path.samefile(later["cwd"], tmp_path)
    if processes.forkserver_enabled():
        # forked from the server that imported torch (and what the first optimiser would import) once
        assert later["dynamo_loaded"] and seconds < 30


@pytest.mark.parametrize("value, expected", [("", True), ("1", True), ("0", False), (" 0 ", False)])
def test_gan_studio_forkserver_0_spawns_fresh_interpreters(monkeypatch, value, expected):
    monkeypatch.setenv("GAN_STUDIO_FORKSERVER", value)
    assert processes.forkserver_enabled() == (expected and sys.platform.startswith("linux"))
