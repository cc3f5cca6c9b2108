"""The studio window, driven the way a user drives it: key presses and clicks on real widgets, with real
training -- in the studio's real child process where the test is about that process (pausing it, changing
its settings across the pipe, stopping it on close, the command line's window), else in a thread of this
process (the same run loop, no interpreter to start per window). Qt warnings fail these tests (pyproject:
qt_log_level_fail)."""
from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from conftest import LOAD_MS, REMEMBERED, make_window, run_cli
from gan_studio.core.live.handles import STAT_COLUMNS

COL = {name: i for i, name in enumerate(STAT_COLUMNS)}
def iteration(w) -> int:
    return w.run.latest().iteration


def stats_rows(w) -> np.ndarray:
    return np.concatenate(list(w.recent_stats)) if w.recent_stats else np.zeros((0, len(STAT_COLUMNS)))


def test_space_pauses_and_resumes_training(studio, qtbot):
    w = studio(autoplay=True, process=True)
    qtbot.waitUntil(lambda: iteration(w) > 20, timeout=30_000)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.run.latest().state == "paused", timeout=5_000)
    it = iteration(w)
    qtbot.wait(800)
    assert iteration(w) == it, "training went on after pause"
    assert w.status.st_state.text() == "● paused"
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: iteration(w) > it + 10, timeout=10_000)
    assert w.run.latest().state == "running"


def test_step_buttons_and_keys_run_exactly_what_they_say(studio, qtbot):
    w = studio()
    assert w.run.latest().state == "paused"
    tb = w.toolbar
    for action, expect in ((w.acts["step_d"], (1, 0)), (w.acts["step_g"], (0, 1))):
        before = iteration(w)
        qtbot.mouseClick(tb.widgetForAction(action), QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: iteration(w) == before + 1, timeout=5_000)
        qtbot.waitUntil(lambda: len(stats_rows(w)) and stats_rows(w)[-1, COL["iteration"]] == before + 1, timeout=5_000)
        row = stats_rows(w)[-1]
        assert (row[COL["d_steps"]], row[COL["g_steps"]]) == expect
    before = iteration(w)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)  # one full iteration: k D-steps then one G-step
    qtbot.waitUntil(lambda: len(stats_rows(w)) and stats_rows(w)[-1, COL["iteration"]] == before + 1, timeout=5_000)
    assert tuple(stats_rows(w)[-1, [COL["d_steps"], COL["g_steps"]]]) == (1, 1)
    qtbot.wait(300)
    assert iteration(w) == before + 1 and w.run.latest().state == "paused"


def test_typed_lr_and_k_reach_the_trainer_at_the_next_iteration(studio, qtbot):
    w = studio(autoplay=True, process=True)
    qtbot.waitUntil(lambda: iteration(w) > 10, timeout=30_000)
    edit = w.controls.lr_d.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "2e-4")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    w.controls.k.setValue(3)  # arrows / wheel commit at once
    qtbot.waitUntil(lambda: (stats_rows(w)[:, COL["d_steps"]] == 3).any(), timeout=10_000)
    rows = stats_rows(w)
    lr = rows[:, COL["lr_d"]]
    changed = np.flatnonzero(np.isclose(lr, 2e-4))
    assert len(changed), "the optimiser never used the typed learning rate"
    first = changed[0]
    # before the change: the old rate; from the change on: the new one, every iteration, in order
    assert np.allclose(lr[:first], 1e-3) and np.allclose(lr[first:], 2e-4)
    k_first = np.flatnonzero(rows[:, COL["d_steps"]] == 3)[0]
    assert k_first >= first, "the k change overtook the lr change made before it"
    assert (rows[k_first:, COL["d_steps"]] == 3).all()
    assert rows[:, COL["lr_g"]].min() == pytest.approx(1e-3), "lr_G must not change"
    qtbot.waitUntil(lambda: w.run.latest().lr_d == pytest.approx(2e-4), timeout=5_000)


@pytest.mark.parametrize("text, reason", [("abc", "not a number"), ("50", "(0, 10]"), ("-1", "(0, 10]")])
def test_invalid_learning_rate_is_refused_at_the_widget_with_the_reason(studio, qtbot, text, reason):
    w = studio()
    edit = w.controls.lr_g.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    assert w.controls.error_label.isVisible()
    assert reason in w.controls.error_label.text()
    assert "border" in edit.styleSheet()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: len(stats_rows(w)) > 0, timeout=5_000)
    assert stats_rows(w)[-1, COL["lr_g"]] == pytest.approx(1e-3), "a refused value reached the optimiser"


def test_a_change_the_run_refuses_is_undone_in_the_controls(studio, qtbot):
    """k = 3 with the simultaneous update (which needs k = 1) is refused by the run handle: the spin box goes
    back to 1, the reason is shown, and the next iteration still runs one D step."""
    from gan_studio.core.train.presets import get_preset

    w = studio()
    w.runs.start_run(get_preset("ring8").config.replace(update="simultaneous"), autoplay=False)
    qtbot.waitUntil(lambda: w.run.latest() is not None and w.run.latest().config.get("update") == "simultaneous"
                    and w.controls._config.get("update") == "simultaneous", timeout=LOAD_MS)
    w.controls.k.setValue(3)
    assert w.controls.k.value() == 1, "a refused value still shows as accepted"
    assert w.controls.error_label.isVisible() and "simultaneous" in w.controls.error_label.text()
    w.run.step()
    qtbot.waitUntil(lambda: w.run.latest().iteration > 0 and len(stats_rows(w)) > 0, timeout=30_000)
    assert (stats_rows(w)[:, COL["d_steps"]] == 1).all() and w.run.latest().config["k"] == 1


@pytest.mark.parametrize("preset, shown, hidden", [
    ("ring8", {"field", "latent", "losses", "d_hist", "evaluation"}, {"samples"}),
    ("figure1", {"field", "latent", "losses", "d_hist", "evaluation"}, {"samples"}),
    ("digits", {"samples", "latent", "losses", "d_hist"}, {"field"}),
])
def test_every_panel_that_applies_receives_data_and_the_others_hide(studio, qtbot, preset, shown, hidden):
    w = studio(preset=preset, autoplay=True)
    panels = {p.key: p for p in w.panels}
    qtbot.waitUntil(lambda: all(panels[k].frames >= 2 for k in shown), timeout=60_000)
    for k in hidden:
        assert not panels[k].isVisible() and panels[k].frames == 0
        assert not w.panel_actions[k].isEnabled()
    if preset == "digits":
        img = w.samples.img.image
        assert img is not None and img.shape[0] > 60 and img.std() > 5, "the sample grid is blank"
        assert w.samples.nn_img.isVisible() and w.samples.nn_img.image is not None
        assert w.latent.grid_img.image is not None and w.latent.line_img.image is not None
    else:
        x, y = w.losses.c_d.getData()
        assert len(x) > 0 and np.isfinite(y).all()
        if preset == "ring8":
            assert w.field.heat.image is not None and w.field.heat.image.shape == (48, 48)
            assert len(w.field.fake.data) == 1024
            assert len(w.latent.rows.getData()[0]) > 0
        else:
            assert len(w.field.c_pg.getData()[0]) == 400 and len(w.latent.curve.getData()[0]) == 200
    x, y = w.dhist.c_real.getData()
    assert len(x) == w.dhist.bins + 1 and y.sum() == pytest.approx(1.0, abs=1e-6)


def test_closing_mid_run_stops_training_within_three_seconds(studio, qtbot):
    w = studio(autoplay=True, process=True)
    qtbot.waitUntil(lambda: iteration(w) > 5, timeout=30_000)
    run = w.run
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    assert took < 3.0  # 2.0 was met alone (11-15 s runs) but missed by 0.15 s after in-process CLI tests
    qtbot.waitUntil(lambda: not run.is_alive(), timeout=2_000)
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith("gan-studio")], names


def test_a_new_dataset_asks_first_and_keeps_the_run_when_declined(studio, qtbot, monkeypatch):
    w = studio(autoplay=True)
    qtbot.waitUntil(lambda: iteration(w) > 5, timeout=30_000)
    first = w.run
    answers = []

    def answer(*a, **k):
        answers.append(a[1])
        return QtWidgets.QMessageBox.StandardButton.No

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer)
    box = w.controls.dataset
    box.setCurrentIndex(box.findData("grid25"))
    box.activated.emit(box.currentIndex())
    assert answers and w.run is first
    assert box.currentData() == "ring8", "the picker must show the data actually in use"
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes)
    box.setCurrentIndex(box.findData("grid25"))
    box.activated.emit(box.currentIndex())
    assert w.run is not first
    qtbot.waitUntil(lambda: w.static is not None and w.static.name == "grid25", timeout=LOAD_MS)
    assert len(w.static.centers) == 25


def test_settings_a_user_changed_survive_a_restart(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, preset=None)
    w.controls.k.setValue(4)
    w.controls.set_speed(30)
    w.samples.nn.setChecked(False)
    qtbot.waitUntil(lambda: w.run.latest().config["k"] == 4, timeout=10_000)
    w.close()
    w2 = make_window(qtbot, tmp_path, preset=None, speed=REMEMBERED)
    try:
        assert w2.controls.k.value() == 4
        assert w2.run.latest().config["k"] == 4
        assert w2.controls.speed_value() == pytest.approx(30, rel=0.1)
        assert not w2.samples.nn.isChecked()
    finally:
        w2.close()


def test_automation_prints_figures_and_saves_a_screenshot(tmp_path):
    png = tmp_path / "shot.png"
    p = run_cli("--preset", "ring8", "--exit-after", "100", "--exit-at", "300", "--screenshot", str(png),
                env={"QT_QPA_PLATFORM": "offscreen", "GAN_STUDIO_CONFIG_DIR": str(tmp_path / "cfg")}, timeout=150)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    for key in ("iterations", "it_per_s", "ui_frames", "ui_stall_p99_ms", "startup_s", "open_s"):
        assert key in out
    # --exit-at: closed once the window showed iteration 300, long before --exit-after's 100 s
    assert out["iterations"] >= 300 and out["it_per_s"] > 0 and out["ui_frames"] > 0 and out["open_s"] < 100
    assert 0 < out["startup_s"] < 10
    from PySide6 import QtGui

    img = QtGui.QImage(str(png))
    assert img.width() >= 1000 and img.height() >= 600
    assert not list(tmp_path.glob(".*.tmp.png"))


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope", "--exit-after", "1"], "unknown preset"),
    (["--screenshot", "x.png"], "needs --exit-after"),
    (["--preset", "ring8", "--exit-after", "1", "--screenshot", "/no/such/folder/x.png"], "does not exist"),
    (["--exit-after", "-3"], "must be more than 0"),
    (["--exit-at", "30"], "needs --exit-after"),
    (["--size", "10x10"], "out of range"),
])
def test_bad_studio_arguments_get_one_clear_line(tmp_path, args, message):
    p = run_cli(*args, env={"QT_QPA_PLATFORM": "offscreen", "GAN_STUDIO_CONFIG_DIR": str(tmp_path)}, timeout=60)
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr


def test_evaluate_shows_a_parzen_result_while_the_iteration_counter_keeps_moving(studio, qtbot):
    w = studio(autoplay=True)
    qtbot.waitUntil(lambda: iteration(w) > 50, timeout=30_000)
    # live mode coverage arrives by itself, about twice a second
    qtbot.waitUntil(lambda: "modes_covered" in w.evaluation.latest, timeout=20_000)
    assert "modes" in w.evaluation.headline.text()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_E, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.evaluator.busy, timeout=5_000)
    it0 = iteration(w)
    seen_during = []
    qtbot.waitUntil(lambda: (seen_during.append(iteration(w)) or bool(w.evaluation.results)), timeout=90_000)
    assert max(seen_during) > it0 + 50, "training stopped while the evaluation ran"
    r = w.evaluation.results[-1]
    assert it0 - 5 <= r["iteration"] <= max(seen_during)
    assert r["parzen"]["n_samples"] == 10000 and math.isfinite(r["parzen"]["mean"])
    assert w.evaluation.table.rowCount() == 1 and "±" in w.evaluation.table.item(0, 2).text()
    assert "Parzen" in w.evaluation.headline.text()
    assert w.run.latest().state == "running"


def test_an_evaluation_can_be_cancelled_and_training_goes_on(studio, qtbot):
    w = studio(autoplay=True)
    qtbot.waitUntil(lambda: iteration(w) > 20, timeout=30_000)
    cancelled = []
    w.evaluator.cancelled.connect(lambda: cancelled.append(True))
    w.evaluate()
    qtbot.waitUntil(lambda: w.evaluator.proc is not None, timeout=20_000)  # the job's process is running
    qtbot.mouseClick(w.evaluation.cancel_btn, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(cancelled), timeout=10_000)
    assert not w.evaluator.busy and not w.evaluation.results
    assert w.evaluation.eval_btn.isEnabled() and not w.evaluation.cancel_btn.isEnabled()
    it = iteration(w)
    qtbot.waitUntil(lambda: iteration(w) > it + 50, timeout=20_000)


def test_the_discriminator_histograms_axis_title_is_never_cut_off(qtbot):
    """At 1280x720 the D-output panel is ~230 px wide: its axis title shortens to what fits and stays centred
    (it used to read "D output (proba": too long, and placed by the centre of the title before it), and is whole
    again when the panel is wide."""
    from PySide6 import QtGui

    from gan_studio.gui.panels.dhist import DHistPanel

    p = DHistPanel()
    qtbot.addWidget(p)
    p.set_sigmoid(True)
    ax = p.plot.getAxis("bottom")
    font = QtGui.QFont()
    font.setPointSize(11)
    fm = QtGui.QFontMetrics(font)
    seen = {}
    p.show()
    for width in (900, 300, 230, 900):
        p.resize(width, 320)
        qtbot.waitUntil(lambda: abs(ax.width() - (p.plot.width() - p.plot.getAxis("left").width())) < 40,
                        timeout=5_000)
        qtbot.wait(50)
        assert fm.horizontalAdvance(ax.labelText) <= ax.width(), (width, ax.labelText, ax.width())
        x, w = ax.label.pos().x(), ax.label.boundingRect().width()  # placed inside the axis (centred)
        assert 0 <= x and x + w <= ax.width() + 1 and abs(x + w / 2 - ax.width() / 2) < 2, (width, x, w, ax.width())
        seen[width] = (ax.labelText, p.width())
    assert seen[900][0] == "D output (probability of “real”)" and seen[230][0] != seen[900][0], seen
    p.set_sigmoid(False)
    assert ax.labelText == "critic score" and abs(ax.label.pos().x() + ax.label.boundingRect().width() / 2
                                                 - ax.width() / 2) < 2
