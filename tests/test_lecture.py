"""The lecture kit, through the paths a lecturer takes: presets, remedy controls on a running run,
recording and replay, GIF / CSV / picture / checkpoint exports from the studio and the CLI, compare mode,
presentation mode — and the faults: unwritable places, cancelled exports, corrupt files."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtGui

from conftest import make_window, run_cli
from gan_studio.core.record.runfolder import RunFolder

LOAD_MS = 90_000

LECTURE_PRESETS = ("ring8-collapse", "grid25-collapse", "ring8-unrolled", "ring8-pacgan", "ring8-minibatch",
                   "figure1", "saturating-vs-nonsaturating", "helvetica", "mnist-paper", "digits", "digits-dcgan")


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def gif_info(path) -> tuple[int, int | None, tuple[int, int]]:
    with Image.open(path) as im:
        return im.n_frames, im.info.get("loop"), im.size


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A short ring8 run written by `gan-studio train` (a run folder with snapshots and a checkpoint)."""
    out = tmp_path_factory.mktemp("lecture") / "run"
    run_cli("train", "--preset", "ring8", "--steps", "400", "--seed", "3", "--out", out, "--quiet", check=True)
    return out


# ------------------------------------------------------------------------------------------ presets
def test_presets_command_lists_every_lecture_preset_with_an_explanation():
    p = run_cli("presets", check=True)
    lines = {ln.split()[0]: ln.split(None, 1)[1] for ln in p.stdout.splitlines() if ln.strip()}
    for name in LECTURE_PRESETS:
        assert name in lines, name
        assert len(lines[name]) > 40, f"{name}: the explanation is missing or too short"
    full = json.loads(run_cli("presets", "--json", check=True).stdout)
    assert full["ring8-unrolled"]["config"]["unroll"] == 5
    assert full["ring8-pacgan"]["config"]["pack"] == 4
    assert full["ring8-minibatch"]["config"]["mbstd"] is True
    assert full["helvetica"]["config"]["g_steps"] > 5 * full["helvetica"]["config"]["k"]
    assert full["saturating-vs-nonsaturating"]["config"]["loss"] == "minimax"
    assert full["digits-dcgan"]["config"]["model"] == "dcgan"


# ------------------------------------------------------------------------------------------ CLI exports
def test_gif_of_a_recorded_run_has_one_frame_per_snapshot_and_loops(trained_run, tmp_path):
    rf = RunFolder(trained_run)
    assert rf.iterations[0] == 0 and rf.iterations[-1] == 400 and len(rf.iterations) >= 10
    out = tmp_path / "field.gif"
    res = last_json(run_cli("gif", trained_run, "--view", "field", "--out", out, check=True).stdout)
    n, loop, size = gif_info(out)
    assert n == len(rf.iterations) == res["frames"] and loop == 0
    assert size[0] == 360
    # the first and last frames differ (the run moved), and the last carries its caption strip
    with Image.open(out) as im:
        first = np.asarray(im.convert("RGB"))
        im.seek(n - 1)
        last = np.asarray(im.convert("RGB"))
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 1


def test_latent_walk_gif_from_a_run_folders_checkpoint(trained_run, tmp_path):
    out = tmp_path / "latent.gif"
    res = last_json(run_cli("gif", trained_run, "--view", "latent", "--out", out, "--fps", "12", check=True).stdout)
    n, loop, _ = gif_info(out)
    assert n == res["frames"] == 48 and loop == 0


def test_metrics_csv_has_every_logged_iteration(trained_run, tmp_path):
    out = tmp_path / "m.csv"
    res = last_json(run_cli("metrics", trained_run, "--out", out, check=True).stdout)
    rows = out.read_text().splitlines()
    assert rows[0].startswith("iteration,d_loss,g_loss,d_real,d_fake")
    assert len(rows) - 1 == res["rows"] == 40  # 400 iterations, logged every 10
    assert rows[-1].split(",")[0] == "400"


def test_cli_exports_refuse_bad_input_clearly_and_write_nothing(trained_run, tmp_path):
    cases = [
        (("gif", tmp_path / "nope", "--out", tmp_path / "a.gif"), "no such run folder"),
        (("gif", trained_run, "--out", tmp_path / "missing-dir" / "a.gif"), "does not exist"),
        (("gif", trained_run / "checkpoint.pt", "--view", "field", "--out", tmp_path / "a.gif"), "is a file"),
        (("metrics", tmp_path, "--out", tmp_path / "m.csv"), "not a GAN Studio run folder"),
        (("open", tmp_path / "nope"), "no such run folder"),
        (("compare", "ring8", "--b", "k=0"), "must be at least 1, got 0"),
        (("compare", "ring8", "--b", "dataset=grid25"), "compare mode"),
    ]
    for args, msg in cases:
        p = run_cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert msg in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
    broken = tmp_path / "broken"
    shutil.copytree(trained_run, broken)
    (broken / "run.json").write_text('{"format": "gan-studio/run", "vers')
    p = run_cli("gif", broken, "--out", tmp_path / "b.gif")
    assert p.returncode == 2 and "damaged" in p.stderr
    assert not list(tmp_path.glob("*.gif")) and not list(tmp_path.glob(".*.tmp"))


def test_open_replays_a_recorded_run_at_the_chosen_step(trained_run, tmp_path):
    shot = tmp_path / "replay.png"
    p = run_cli("open", trained_run, "--position", "3", "--exit-after", "3", "--screenshot", shot,
                env={"QT_QPA_PLATFORM": "offscreen"}, check=True)
    res = last_json(p.stdout)
    rf = RunFolder(trained_run)
    assert res["state"] == "replay" and res["iterations"] == rf.iterations[3]
    assert Image.open(shot).size[0] >= 1280


# ------------------------------------------------------------------------------------------ the studio
def test_remedy_switched_on_mid_run_reaches_the_trainer_and_the_recording(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, preset="ring8-collapse", autoplay=True)
    try:
        qtbot.waitUntil(lambda: w.run.latest().iteration > 60, timeout=30_000)
        w.controls.unroll.setValue(5)  # what the spin box's arrows do
        qtbot.waitUntil(lambda: w.run.latest().config.get("unroll") == 5, timeout=10_000)
        w.controls.mbstd.click()
        qtbot.waitUntil(lambda: w.run.latest().config.get("mbstd") is True, timeout=10_000)
        it = w.run.latest().iteration
        qtbot.waitUntil(lambda: w.run.latest().iteration > it + 20, timeout=30_000)  # still training
        rec = w.record_dir
        assert rec is not None
        qtbot.waitUntil(lambda: len(RunFolder(rec).events()) >= 2, timeout=10_000)
        ev = RunFolder(rec).events()
        assert ev[0]["event"] == "set" and ev[0]["changes"] == {"unroll": 5} and ev[0]["iteration"] >= 60
        assert ev[1]["changes"] == {"mbstd": True}
    finally:
        w.close()


def test_studio_exports_gif_csv_pictures_and_refuses_bad_places(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, preset="ring8", autoplay=True)
    try:
        qtbot.waitUntil(lambda: len(RunFolder(w.record_dir).index) >= 6, timeout=60_000)
        # GIF of the toy field, in a worker thread
        out = tmp_path / "field.gif"
        job = w.exporter.export_gif("field", str(out), progress_dialog=False)
        qtbot.waitUntil(lambda: job.is_done, timeout=60_000)
        n, loop, _ = gif_info(out)
        assert n >= 6 and loop == 0
        # a cancelled export writes nothing (not even a temp file)
        out2 = tmp_path / "cancelled.gif"
        job = w.exporter.export_gif("field", str(out2), progress_dialog=False)
        job.cancel()
        qtbot.waitUntil(lambda: job.is_done, timeout=60_000)
        assert not out2.exists() and not list(tmp_path.glob(".cancelled.gif*"))
        # latent-walk loop GIF, computed by the training process
        out3 = tmp_path / "latent.gif"
        w.exporter.export_gif("latent", str(out3))
        qtbot.waitUntil(lambda: out3.exists(), timeout=60_000)
        assert gif_info(out3)[:2] == (48, 0)
        # the generator alone, written by the training process
        gen = tmp_path / "G.safetensors"
        w.exporter.export_generator(str(gen))
        qtbot.waitUntil(lambda: gen.exists() and gen.with_suffix(".json").exists(), timeout=30_000)
        from gan_studio.core.train.checkpoint import load_generator

        G, cfg = load_generator(gen)[:2]
        assert cfg["dataset"] == "ring8"
        # metrics CSV
        csv = w.exporter.export_metrics_csv(str(tmp_path / "m.csv"))
        lines = csv.read_text().splitlines()
        assert lines[0].startswith("iteration,") and len(lines) > 5
        # panels as PNG and SVG
        png = w.exporter.export_panel(w.field, "png", str(tmp_path / "field.png"))
        img = QtGui.QImage(str(png))
        assert img.width() >= 2 * w.field.width() - 2  # saved at twice the screen resolution
        svg = w.exporter.export_panel(w.losses, "svg", str(tmp_path / "losses.svg"))
        assert "<svg" in svg.read_text()[:2000]
        # an unwritable or missing destination: a message, no file
        assert w.exporter.export_panel(w.field, "png", str(tmp_path / "no" / "x.png")) is None
        assert "does not exist" in w.banner.label.text()
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            if not os.access(ro, os.W_OK):  # (root ignores permissions)
                assert w.exporter.export_metrics_csv(str(ro / "m.csv")) is None
                assert "not writable" in w.banner.label.text()
                assert list(ro.iterdir()) == []
        finally:
            ro.chmod(0o700)
        # save the recording elsewhere, then replay it in the same window
        saved = w.exporter.save_run_folder(str(tmp_path / "kept"))
        assert (saved / "run.json").is_file()
        assert w.open_run_folder(str(saved))
        rf = RunFolder(saved)
        w.replay_bar.slider.setValue(2)
        qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.iteration == rf.iterations[2], timeout=5_000)
        assert w.field.last_iteration == rf.iterations[2]  # the panel drew the recorded step
        assert w.status.st_state.text() == "● replay" and not w.controls_dock.widget().isEnabled()
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)  # → steps the replay
        qtbot.waitUntil(lambda: w.snapshot.iteration == rf.iterations[3], timeout=5_000)
    finally:
        w.close()


def test_checkpoint_resumes_in_the_studio_and_bad_files_are_explained(qtbot, tmp_path, trained_run):
    w = make_window(qtbot, tmp_path, preset="ring8")
    try:
        w.open_checkpoint(str(trained_run / "checkpoint.pt"))
        qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.state == "paused" and w.snapshot.iteration == 400,
                        timeout=LOAD_MS)
        assert w.status.st_iter.text() == "iteration 400"
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)  # one more iteration from where it stopped
        qtbot.waitUntil(lambda: w.run.latest().iteration == 401, timeout=10_000)
        bad = tmp_path / "bad.pt"
        bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
        w.open_checkpoint(str(bad))
        qtbot.waitUntil(lambda: w.banner.isVisible() and "corrupt" in w.banner.label.text(), timeout=LOAD_MS)
        w.open_checkpoint(str(tmp_path / "missing.pt"))
        assert "no such file" in w.banner.label.text()
        broken = tmp_path / "broken-run"
        broken.mkdir()
        (broken / "run.json").write_text("{not json")
        assert not w.open_run_folder(str(broken))
        assert "damaged" in w.banner.label.text()
    finally:
        w.close()


def test_compare_mode_runs_two_settings_in_lockstep(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, preset="saturating-vs-nonsaturating")
    try:
        c = w.open_compare({"a": {"loss": "minimax"}, "b": {"loss": "nonsaturating"}})
        qtbot.addWidget(c)
        assert "loss = minimax" in c.sides[0].header.text() and "loss = nonsaturating" in c.sides[1].header.text()
        qtbot.waitUntil(lambda: min(c.iterations()) >= 50, timeout=LOAD_MS)
        its = c.iterations()
        assert abs(its[0] - its[1]) <= 10, its  # lockstep: never more than one barrier apart
        c.toggle_play()  # pause: both stop at the same barrier
        qtbot.waitUntil(lambda: c.iterations()[0] == c.iterations()[1] == c.target, timeout=10_000)
        t = c.target
        qtbot.keyClick(c, QtCore.Qt.Key.Key_Right)  # one step for both
        qtbot.waitUntil(lambda: c.iterations() == [t + 1, t + 1], timeout=10_000)
        assert c.sides[0].run.latest().config["loss"] == "minimax"
        assert c.sides[1].run.latest().config["loss"] == "nonsaturating"
        for side in c.sides:  # both sides draw: the toy field shown, the loss curves redrawn
            assert side.field.isVisible() and side.losses.isVisible() and side.losses.frames > 0
        c.close()
    finally:
        w.close()


def test_presentation_mode_enlarges_text_and_lines_and_esc_restores(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, preset="ring8")
    try:
        label_pt = w.status.st_iter.font().pointSizeF()
        curve = w.losses.c_d
        pen_w = curve.opts["pen"].widthF()
        qtbot.keyClick(w, QtCore.Qt.Key.Key_F5)
        assert w.presenting and w.isFullScreen() and not w.controls_dock.isVisible()
        assert w.status.st_iter.font().pointSizeF() >= 1.5 * label_pt
        assert curve.opts["pen"].widthF() >= 1.9 * pen_w
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Escape)
        assert not w.presenting and not w.isFullScreen()
        assert w.status.st_iter.font().pointSizeF() == label_pt
        assert curve.opts["pen"].widthF() == pen_w
        name = w.preset_name
        qtbot.keyClick(w, QtCore.Qt.Key.Key_PageDown)  # a presenter's clicker: next preset, no dialog
        assert w.preset_name != name
    finally:
        w.close()


def test_evaluation_panel_raises_the_collapse_alarm_in_both_kinds_of_collapse(qtbot):
    from gan_studio.gui.panels import EvaluationPanel

    p = EvaluationPanel()
    qtbot.addWidget(p)
    p.show()

    def feed(it, cov):
        p.add_metrics({"iteration": it, "modes_covered": cov, "n_modes": 8, "high_quality": 0.1})
        p.show_snapshot(None)

    feed(200, 1)
    assert not p.alarm.isVisible()  # early in a run: no verdict yet
    feed(1200, 0)  # never found more than one mode
    assert p.alarm.isVisible() and "0 of 8" in p.alarm.text()
    assert "#b3261e" in p.headline.text()
    p._reset_history()
    p.alarm.setVisible(False)
    feed(500, 6)
    feed(800, 8)
    assert not p.alarm.isVisible() and "#b3261e" not in p.headline.text()
    feed(1500, 3)  # lost more than half of what it had
    assert p.alarm.isVisible() and "it was 8" in p.alarm.text()
    feed(2500, 8)  # recovered (e.g. a remedy was switched on)
    assert not p.alarm.isVisible()


def test_replay_and_exports_need_no_torch(trained_run, tmp_path):
    """The studio's window process never imports torch: replaying and exporting a recording must not either."""
    import subprocess
    import sys

    code = (f"import sys\nfrom gan_studio.core.record.replay import ReplayRun\nfrom gan_studio.core.export.slides import run_gif\n"
            f"from gan_studio.core.record.runfolder import write_metrics_csv\n"
            f"r = ReplayRun({str(trained_run)!r}); r.seek(3); r.latest(); r.drain_stats()\n"
            f"run_gif(r.folder, 'field', {str(tmp_path / 'g.gif')!r}, max_frames=4)\n"
            f"write_metrics_csv(r.folder.metrics, {str(tmp_path / 'm.csv')!r})\n"
            f"print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert oct((tmp_path / "g.gif").stat().st_mode & 0o777) != "0o600"  # not the temp file's private mode


def test_studio_exports_the_papers_figures_for_an_image_run(qtbot, tmp_path, monkeypatch):
    """Export → Figure 2 / Figure 3 on a live image run: G in the training process draws them; a toy run is
    told the figures are for images."""
    from PIL import Image

    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    w = make_window(qtbot, tmp_path, preset="digits", autoplay=True)
    try:
        qtbot.waitUntil(lambda: w.snapshot.iteration >= 20, timeout=60_000)
        f2, f3 = tmp_path / "fig2.png", tmp_path / "fig3.svg"
        w.exporter.export_figure("figure2", str(f2))
        w.exporter.export_figure("figure3", str(f3))
        qtbot.waitUntil(lambda: f2.exists() and f3.exists(), timeout=60_000)
        with Image.open(f2) as im:
            assert im.size[0] > 100 and im.size[1] > 100
        assert f3.read_text().lstrip().startswith("<svg")
        assert not w.banner.isVisible()
    finally:
        w.close()
    w2 = make_window(qtbot, tmp_path, preset="ring8")
    try:
        w2.exporter.export_figure("figure2", str(tmp_path / "toy.png"))
        assert w2.banner.isVisible() and "image runs" in w2.banner.label.text()
        assert not (tmp_path / "toy.png").exists()
    finally:
        w2.close()
