"""Time travel: a recording keeps training states, so a run can be continued from a recorded step (a branch, from
the command line or the studio), and a live run can go back to its last recorded state (Back). Real training on
the CPU, real files, real widgets."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from gan_studio.__main__ import main as gan_studio
from gan_studio.core.atomic import CheckpointError
from gan_studio.core.record.branch import BranchError, branch_trainer
from gan_studio.core.record.runfolder import RunFolder, RunWriter
from gan_studio.core.record.states import available_states
from gan_studio.core.train.presets import get_preset
from gan_studio.core.train.trainer import Trainer

SMALL = dict(batch_size=64, model_args={"hidden": 32, "layers": 2})


def record(path: Path, steps: int = 120, every: int = 20, **changes) -> Path:
    """A recorded ring8 run (a small network) with a snapshot and a state every ``every`` iterations."""
    cfg = get_preset("ring8").config.replace(steps=steps, **SMALL, **changes)
    tr = Trainer(cfg)
    w = tr.add_observer(RunWriter(path, tr, every=every, log_every=1))
    tr.run(steps)
    w.close(tr)
    return path


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    return record(tmp_path_factory.mktemp("tt") / "original")


def cli(capsys, *args) -> tuple[int, str, str]:
    """``gan-studio ARGS`` (the command line's own entry point, in this process): (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = gan_studio([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def by_iteration(folder: RunFolder) -> dict[int, dict]:
    return {r["iteration"]: r for r in folder.metrics if "event" not in r}


def test_a_recording_keeps_a_training_state_at_every_snapshot_of_a_toy_run(original):
    f = RunFolder(original)
    assert available_states(original) == f.iterations == [0, 20, 40, 60, 80, 100, 120]
    meta = json.loads((original / "run.json").read_text())
    assert meta["states"]["every_snapshots"] == 1 and 10_000 < meta["states"]["bytes"] < 500_000


def test_a_run_that_snapshots_every_iteration_keeps_a_state_every_ten_and_one_at_its_end(tmp_path):
    folder = record(tmp_path / "short", steps=25, every=1)
    assert len(RunFolder(folder).iterations) == 26
    assert available_states(folder) == [0, 10, 20, 25]


def test_a_branch_with_unchanged_settings_reproduces_the_original_bit_for_bit(original, tmp_path):
    b = branch_trainer(original, 40)
    assert b.iteration == 40
    w = b.add_observer(RunWriter(tmp_path / "b", b, every=20, log_every=1))
    b.run(120)
    w.close(b)
    f1, f2 = RunFolder(original), RunFolder(tmp_path / "b")
    assert f2.iterations == [40, 60, 80, 100, 120]
    for it in f2.iterations:  # the same pictures: samples of the fixed z, D's field, D's outputs
        a, c = f1.load(f1.iterations.index(it)), f2.load(f2.iterations.index(it))
        assert np.array_equal(a["samples"], c["samples"]), it
        assert np.array_equal(a["field"]["d"], c["field"]["d"]), it
        assert np.array_equal(a["d_hist"][0], c["d_hist"][0]) and np.array_equal(a["d_hist"][1], c["d_hist"][1])
    m1, m2 = by_iteration(f1), by_iteration(f2)
    assert sorted(m2) == list(range(41, 121))
    for it in m2:  # the same losses at every iteration of the future
        assert (m1[it]["d_loss"], m1[it]["g_loss"], m1[it]["d_real"]) == (m2[it]["d_loss"], m2[it]["g_loss"],
                                                                           m2[it]["d_real"])


def test_a_branch_with_changed_k_from_the_command_line_names_its_parent_and_trains_with_k(original, tmp_path,
                                                                                          capsys):
    out = tmp_path / "k3"
    code, stdout, err = cli(capsys, "train", "--branch", original, "--at", "60", "--k", "3", "--unroll", "1",
                            "--steps", "80", "--out", out, "--quiet")
    assert code == 0, err
    report = json.loads(stdout)
    assert (report["iterations"], report["trained"]) == (80, 20)
    meta = json.loads((out / "run.json").read_text())
    assert meta["parent"] == {"run": str(original.resolve()), "iteration": 60, "changes": {"k": 3, "unroll": 1}}
    assert meta["config"]["k"] == 3 and meta["config_start"]["k"] == 3 and meta["config"]["unroll"] == 1
    rows = by_iteration(RunFolder(out))
    assert min(rows) == 70 and all(r["k"] == 3 for r in rows.values())  # logged every 10 iterations from 61
    assert RunFolder(out).iterations[0] == 60  # the branch starts from the original's picture at 60


def test_branch_refuses_bad_inputs_with_one_clear_line(original, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(original, old)
    shutil.rmtree(old / "states")  # a folder recorded before states existed
    cases = [
        (["--branch", tmp_path / "nowhere", "--at", "20"], "no such run folder"),
        (["--branch", original, "--at", "50"], "no training state at step 50; continue from a step that has one, "
                                               "e.g. 40, 60"),
        (["--branch", old, "--at", "40"], "keeps no training states"),
        (["--branch", original], "--branch RUN_DIR and --at STEP go together"),
        (["--branch", original, "--at", "40", "--z-dim", "8"], "z_dim cannot change"),
    ]
    for args, expect in cases:
        code, _, err = cli(capsys, "train", *args, "--out", tmp_path / "x", "--quiet")
        assert code == 2, (args, err)
        assert expect in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()
    assert len(RunFolder(old).iterations) == 7  # and the old folder still replays
    code, _, err = cli(capsys, "train", "--branch", original, "--at", "40", "--out", original, "--quiet")
    assert code == 2 and "--out must be a new folder" in err
    assert available_states(original)[-1] == 120  # untouched


def test_a_damaged_or_crafted_state_gives_one_clear_message_and_runs_nothing(original, tmp_path, capsys):
    import pickle

    bad = tmp_path / "bad"
    shutil.copytree(original, bad)
    (bad / "states" / "s-000000020.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        branch_trainer(bad, 20)

    class Boom:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    (bad / "states" / "s-000000040.pt").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="corrupt|refused"):
        branch_trainer(bad, 40)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(BranchError, match="network|cannot change"):
        branch_trainer(original, 40, {"z_dim": 8})
    code, _, err = cli(capsys, "train", "--branch", bad, "--at", "20", "--out", tmp_path / "y", "--quiet")
    assert code == 2 and "corrupt" in err and "Traceback" not in err


def wait(cond, timeout=60.0):
    t = time.time()
    while not cond():
        assert time.time() - t < timeout, "timed out"
        time.sleep(0.02)


def test_back_returns_a_live_run_to_a_recorded_state_and_the_same_future_follows(tmp_path):
    from gan_studio.core.live.handles import ThreadRun

    cfg = get_preset("ring8").config.replace(**SMALL)
    run = ThreadRun(cfg, record_dir=str(tmp_path / "live"), record_every=10, record_log_every=1,
                    start_paused=True).start()
    try:
        wait(lambda: run.state == "paused")
        for _ in range(45):
            run.step()
        wait(lambda: run.latest() is not None and run.latest().iteration == 45)
        run.pause()  # a paused run records its state
        wait(lambda: 45 in available_states(tmp_path / "live"))
        first = {int(r[0]): r[1] for r in run.drain_stats()}
        run.rewind(20)
        wait(lambda: any(e.kind == "rewound" for e in run.drain_events()))
        assert run.latest().iteration == 20 or (time.sleep(0.3) or run.latest().iteration == 20)
        f = RunFolder(tmp_path / "live")
        assert max(f.iterations) == 20 and max(available_states(tmp_path / "live")) == 20
        assert max(r["iteration"] for r in f.metrics) == 20
        assert f.events()[-1] == {"iteration": 20, "event": "rewind", "from": 45}
        for _ in range(25):
            run.step()
        wait(lambda: run.latest().iteration == 45)
        again = {int(r[0]): r[1] for r in run.drain_stats()}
        assert [again[i] for i in range(21, 46)] == [first[i] for i in range(21, 46)]  # bit for bit
        run.rewind()  # no step given: the last state before now (the state at 40, recorded every 10)
        wait(lambda: run.latest().iteration < 45)
        time.sleep(0.2)
        assert run.latest().iteration == 40
    finally:
        run.stop()


# ------------------------------------------------------------------------------------------ the studio
def test_the_studio_continues_a_replayed_run_from_the_slider_step_and_compares_it(qtbot, tmp_path, original,
                                                                                  monkeypatch):
    from PySide6 import QtCore, QtWidgets

    from gan_studio.gui.branching import BranchCompareWindow, ContinueDialog
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    monkeypatch.setenv("GAN_STUDIO_THREAD_WORKER", "1")  # training in a thread of this process (faster to start)
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", persist=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    try:
        old = tmp_path / "old"
        shutil.copytree(original, old)
        shutil.rmtree(old / "states")
        assert w.open_run_folder(str(old))
        qtbot.waitUntil(lambda: w.acts["continue_here"].isEnabled() and w.controller.snapshot is not None)
        w.acts["continue_here"].trigger()  # an old folder: the reason, and nothing started
        assert "keeps no training states" in w.banner.label.text()
        assert w.controller.is_replay

        assert w.open_run_folder(str(original))
        w.replay_bar.slider.setValue(2)  # iteration 40
        qtbot.waitUntil(lambda: w.controller.snapshot is not None and w.controller.snapshot.iteration == 40)

        def answer():
            dlg = next(d for d in QtWidgets.QApplication.topLevelWidgets()
                       if isinstance(d, ContinueDialog) and d.isVisible())
            assert dlg.ints["k"].value() == 1 and dlg.lr["lr_d"].text() == "0.001"  # pre-filled from step 40
            dlg.ints["k"].setValue(2)
            dlg.findChild(QtWidgets.QDialogButtonBox).button(
                QtWidgets.QDialogButtonBox.StandardButton.Ok).click()

        QtCore.QTimer.singleShot(200, answer)
        w.acts["continue_here"].trigger()
        qtbot.waitUntil(lambda: w.controller.can_train and w.controller.iteration > 45, timeout=60_000)
        assert w.controller.snapshot.config["k"] == 2
        meta = json.loads((w.runs.record_dir / "run.json").read_text())
        assert meta["parent"]["iteration"] == 40 and meta["parent"]["changes"] == {"k": 2}

        w.acts["rewind"].trigger()  # Back: to the branch's last recorded state
        qtbot.waitUntil(lambda: w.status.currentMessage().startswith("Back: back to iteration"), timeout=20_000)

        chosen = {}

        def pick_oldest():  # Back to step…: the chooser lists the recorded states, newest first
            dlg = next(d for d in QtWidgets.QApplication.topLevelWidgets()
                       if isinstance(d, QtWidgets.QInputDialog) and d.isVisible())
            items = dlg.comboBoxItems()
            chosen["items"] = items
            dlg.setTextValue(items[-1])
            dlg.accept()

        qtbot.waitUntil(lambda: w.controller.iteration > 50, timeout=60_000)
        QtCore.QTimer.singleShot(200, pick_oldest)
        w.acts["rewind_to"].trigger()
        steps = [int(x.split()[-1].replace(",", "")) for x in chosen["items"]]
        assert steps == sorted(steps, reverse=True) and steps[-1] == 40  # the branch's first state: where it began
        qtbot.waitUntil(lambda: w.status.currentMessage().startswith("Back: back to iteration 40 "), timeout=20_000)

        assert w.open_run_folder(str(original))
        w.replay_bar.slider.setValue(2)
        cw = w.brancher.continue_from_here(changes={"unroll": 1}, compare=True)
        assert isinstance(cw, BranchCompareWindow)
        qtbot.addWidget(cw)
        qtbot.waitUntil(lambda: cw.iterations()[1] >= 80, timeout=60_000)
        cw.toggle_play()  # pause the lockstep
        qtbot.waitUntil(lambda: cw.sides[0].snap.iteration == cw.iterations()[0])
        a, b = cw.iterations()
        assert 80 <= a <= b and a % 20 == 0  # the original's recorded step follows the branch's iteration
        assert cw.sides[1].snap.config["unroll"] == 1
        assert "original (recorded)" in cw.sides[0].header.text() and "unroll = 1" in cw.sides[1].header.text()
        cw.close()
    finally:
        w.close()
