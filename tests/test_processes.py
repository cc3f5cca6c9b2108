"""How GAN Studio starts its processes (core/live/processes.py): on Linux forked from a fork server that has
imported torch once, each process still getting the environment and working folder of the moment it starts,
as a spawned one would."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

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


def test_starting_a_run_never_waits_for_the_fork_server(tmp_path):
    """The window's thread starts runs: ``ProcessRun.start()`` returns at once, also for the first run of a
    session, while a fresh fork server is still importing torch (~3 s); the run then starts as usual."""
    import json
    import subprocess

    code = ("import json, time\n"
            "from gan_studio.core.live.process_run import ProcessRun\n"
            "from gan_studio.core.train.presets import get_preset\n"
            "if __name__ == '__main__':\n"
            "    run = ProcessRun(get_preset('ring8').config, start_paused=True)\n"
            "    t0 = time.perf_counter(); run.start(); took = time.perf_counter() - t0\n"
            "    while run.latest() is None and time.perf_counter() - t0 < 120: time.sleep(0.01)\n"
            "    print(json.dumps({'start_s': took, 'first_s': time.perf_counter() - t0,"
            " 'state': run.latest() and run.latest().state}))\n"
            "    run.stop(10)\n")
    script = tmp_path / "first_run.py"
    script.write_text(code)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                       env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["state"] == "paused" and got["start_s"] < 1.0, got  # (before: ~3 s, the server's imports)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe buffers are resized on Linux only")
def test_a_training_process_can_send_several_snapshots_before_the_window_reads_them():
    """The snapshot pipe holds ~1 MB: a training process whose window is busy painting does not wait for it
    (the default 64 KiB held about two snapshots with pictures)."""
    import threading

    recv, send = processes.pipe(processes.context())
    msg = b"x" * 40_000  # a ring8 snapshot with its pictures is ~35-80 kB
    done = threading.Event()

    def writer():
        for _ in range(10):
            send.send_bytes(msg)
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    try:
        assert done.wait(10), "the sender waited for a reader"
        assert [len(recv.recv_bytes()) for _ in range(10)] == [40_000] * 10
    finally:
        recv.close()
        send.close()
