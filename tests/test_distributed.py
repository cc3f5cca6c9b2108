"""Beyond one machine: `gan-studio train` under torchrun (2 processes, gloo on this CPU), and watching a
run folder that is still being written (`gan-studio open RUN_DIR --follow`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from gan_studio.core.record.replay import ReplayRun
from gan_studio.core.record.runfolder import RunFolder


def test_train_under_torchrun_two_processes_stays_in_sync_and_rank0_writes(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "-m", "gan_studio", "train", "--preset", "ring8", "--steps", "150", "--seed", "4",
                        "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=600, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, "only rank 0 reports"
    res = json.loads(lines[0])
    assert res["world_size"] == 2 and res["backend"] == "gloo" and res["global_batch"] == 512
    assert res["ranks_agree"] is True  # identical weights after 150 averaged updates from different batches
    assert res["iterations"] == 150
    rf = RunFolder(out)
    assert rf.iterations[-1] == 150 and len([m for m in rf.metrics if "event" not in m]) == 15
    assert (out / "checkpoint.pt").is_file() and (out / "samples.gif").is_file()


def test_follow_shows_a_run_that_is_still_being_written(tmp_path, qtbot):
    out = tmp_path / "live"
    proc = subprocess.Popen([sys.executable, "-m", "gan_studio", "train", "--preset", "ring8", "--steps", "3000",
                             "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / "snapshots.jsonl").exists():
            time.sleep(0.2)
        qtbot.waitUntil(lambda: len(RunFolder(out).index) >= 2, timeout=60_000)
        replay = ReplayRun(out, follow=True)
        first = replay.iteration
        qtbot.waitUntil(lambda: replay.refresh() and replay.iteration > first, timeout=60_000)
        assert replay.position == len(replay) - 1  # following: stays on the newest snapshot

        from gan_studio.gui.settings import Settings
        from gan_studio.gui.window import StudioWindow

        w = StudioWindow(settings=Settings(tmp_path / "s.ini"), preset="ring8")
        qtbot.addWidget(w)
        w.show()
        assert w.open_run_folder(str(out), follow=True)
        n0 = w.replay_bar.slider.maximum()
        qtbot.waitUntil(lambda: w.replay_bar.slider.maximum() > n0, timeout=60_000)
        qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.iteration == RunFolder(out).iterations[-1]
                        or w.snapshot.iteration > first, timeout=30_000)
        w.close()
    finally:
        proc.kill()
        proc.wait(10)
