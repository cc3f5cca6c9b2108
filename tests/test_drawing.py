"""Draw your own distribution: the brush, eraser and stamps put points where the user drew them; a drawn
distribution trains (the samples move onto it), travels inside the run's configuration and comes back from
its run folder; damaged drawn points are one clear line; in the studio, mouse drags on the toy field draw,
and "Train on this" starts a run on the drawing."""
from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

from gan_studio.core.record.runfolder import RunFolder, RunFolderError, RunWriter
from gan_studio.core.train.config import ConfigError, TrainConfig
from gan_studio.core.train.datasets import DatasetError, build_dataset
from gan_studio.core.train.data.drawing import (MAX_POINTS, DrawingError, DrawnPoints, decode_points, encode_points,
                                           stamp_count)
from gan_studio.core.train.trainer import Trainer

from conftest import run_cli


# ------------------------------------------------------------------------------------------ the tools
def test_the_brush_sprays_its_density_uniformly_inside_its_disc():
    d = DrawnPoints(seed=3)
    added = d.brush((1.0, -1.0), 0.5, density=400)
    assert added == round(400 * math.pi * 0.25) == len(d)
    r = np.hypot(*(d.points - (1.0, -1.0)).T)
    assert r.max() <= 0.5 + 1e-6
    assert 0.2 < np.mean(r ** 2) / 0.25 < 0.8  # uniform in the disc: E[r²] = R²/2 (not bunched at the centre)
    d.stroke((-2, 0), (2, 0), 0.25, density=100)  # a drag: dabs all along the way
    s = d.points[added:]
    assert s[:, 0].min() < -1.7 and s[:, 0].max() > 1.7 and np.abs(s[:, 1]).max() <= 0.25 + 1e-6


def test_the_eraser_removes_exactly_the_points_within_its_radius():
    g = np.stack(np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41)), -1).reshape(-1, 2)
    d = DrawnPoints(g)
    inside = np.hypot(g[:, 0] - 0.53, g[:, 1] - 0.02) <= 1.0  # (no grid point lies on the circle itself)
    assert d.erase((0.53, 0.02), 1.0) == inside.sum() > 0
    np.testing.assert_array_equal(d.points, g[~inside].astype(np.float32))  # the others untouched, in order
    assert d.erase_stroke((-2, -2), (2, -2), 0.05) == 41  # the bottom row, swept
    assert d.clear() == len(g) - inside.sum() - 41 and len(d) == 0


def test_the_stamps_draw_a_ring_a_line_and_a_blob():
    d = DrawnPoints(seed=1)
    assert d.ring((1, 2), 1.5, 2000, width=0.05) == 2000
    r = np.hypot(*(d.points - (1, 2)).T)
    assert abs(r.mean() - 1.5) < 0.01 and abs(r.std() - 0.05) < 0.01
    d.clear()
    d.line((-2, -1), (2, 1), 2000, width=0.05)
    p = d.points - (-2, -1)
    u = np.array([4, 2]) / math.hypot(4, 2)
    along, across = p @ u, p @ np.array([-u[1], u[0]])
    assert along.min() > -0.01 and along.max() < math.hypot(4, 2) + 0.01 and abs(across.std() - 0.05) < 0.01
    d.clear()
    d.blob((0.5, -0.5), 0.3, 4000)
    assert np.abs(d.points.mean(0) - (0.5, -0.5)).max() < 0.03 and np.abs(d.points.std(0) - 0.3).max() < 0.03
    assert stamp_count("ring", 2.0, 150) > stamp_count("ring", 1.0, 150) >= 16


def test_a_drawing_is_bounded_and_says_so():
    d = DrawnPoints(limit=1000)
    d.blob((0, 0), 1, 900)
    assert d.blob((0, 0), 1, 500) == 100 and len(d) == 1000
    assert "full" in d.message and "1,000" in d.message
    d.erase((0, 0), 10)
    assert d.blob((0, 0), 1, 10) == 10 and d.message is None
    with pytest.raises(DrawingError, match="more than the 100,000"):
        DrawnPoints(np.zeros((MAX_POINTS + 1, 2)))
    with pytest.raises(DrawingError, match="finite"):
        DrawnPoints([[0, 0], [np.nan, 1]])


# ------------------------------------------------------------------------------------------ the config
def test_drawn_points_travel_in_the_config_exactly_and_damage_is_one_line():
    pts = DrawnPoints(seed=0)
    pts.ring((0, 0), 2, 5000)
    text = encode_points(pts.points)
    np.testing.assert_array_equal(decode_points(text), pts.points)
    cfg = TrainConfig(dataset="drawn", dataset_args={"points": text})
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    np.testing.assert_array_equal(decode_points(again.dataset_args["points"]), pts.points)
    ds = build_dataset("drawn", again.dataset_args)
    assert ds.name == "drawn" and ds.centers is None and "5,000 points drawn" in ds.description
    raw = lambda a: base64.b64encode(np.asarray(a, "<f4").tobytes()).decode()  # noqa: E731 - no checks
    for bad, why in ((text[:-8] + "!!!!!!!!", "not base64"), (text[:-4], "whole number"),
                     (raw([[np.nan, 0], [1, 1]]), "NaN or infinite"), (raw([[1e30, 0], [1, 1]]), "beyond"),
                     (raw([[1, 1]]), "at least 2")):
        with pytest.raises(ConfigError, match=f"dataset 'drawn': argument 'points'.*{why}") as e:
            TrainConfig(dataset="drawn", dataset_args={"points": bad})
        assert "\n" not in str(e.value)
    with pytest.raises(DatasetError, match="has no points: draw them in the studio"):
        build_dataset("drawn", {})
    with pytest.raises(ConfigError, match="too many"):
        TrainConfig(dataset="drawn", dataset_args={"points": "A" * 2_000_000})


# ------------------------------------------------------------------------------------------ training, run folders
def _ring_run(path, iterations=300):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # (a module fixture runs before conftest's one-thread fixture)
    try:
        return _train_ring(path, iterations)
    finally:
        torch.set_num_threads(threads)


def _train_ring(path, iterations):
    d = DrawnPoints(seed=1)
    d.ring((0, 0), 2.0, 2000, width=0.05)
    tr = Trainer(TrainConfig(dataset="drawn", dataset_args=d.dataset_args(), seed=0, device="cpu", batch_size=128))
    off = lambda: float(np.abs(np.hypot(*tr.fixed_samples(512).T) - 2.0).mean())  # noqa: E731
    before = off()
    w = tr.add_observer(RunWriter(path, tr, every=50))
    tr.run(iterations)
    w.close(tr)
    return d, before, off()


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("drawn") / "run"
    d, before, after = _ring_run(path)
    return path, d, before, after


def test_a_drawn_ring_trains_and_comes_back_from_its_run_folder(ring_run):
    path, d, before, after = ring_run
    assert after < 0.4 * before and after < 0.5, f"samples did not reach the drawn ring ({before:.2f} → {after:.2f})"
    run = RunFolder(path)
    assert not run.warnings and run.config.dataset == "drawn"
    np.testing.assert_array_equal(decode_points(run.config.dataset_args["points"]), d.points)
    real = run.static.real  # what the replay draws as "real": drawn points
    assert run.static.name == "drawn" and run.static.centers is None and len(real) > 500
    assert np.isin(real.view(np.complex64), d.points.view(np.complex64)).all()
    assert all("modes_covered" not in e for e in run.index)  # no modes to count on hand-drawn data
    assert len(run.load(len(run.index) - 1)["samples"]) > 0
    p = run_cli("doctor", path)  # no modes to look for: the doctor still reads the run
    assert p.returncode == 0 and "Traceback" not in p.stderr and "drawn" not in p.stderr, p.stderr


def test_damaged_drawn_points_in_a_run_folder_are_one_clear_line(ring_run, tmp_path):
    import shutil

    path = tmp_path / "run"
    shutil.copytree(ring_run[0], path)
    meta = json.loads((path / "run.json").read_text())
    meta["config"]["dataset_args"]["points"] = meta["config"]["dataset_args"]["points"][:-3]
    (path / "run.json").write_text(json.dumps(meta))
    with pytest.raises(RunFolderError, match="damaged.*dataset 'drawn': argument 'points'"):
        RunFolder(path)
    p = run_cli("open", path, "--exit-after", "1")
    assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "argument 'points'" in p.stderr
    p = run_cli("train", "--dataset", "drawn", "--steps", "1", "--out", tmp_path / "x")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "has no points" in p.stderr


# ------------------------------------------------------------------------------------------ the studio
def _drag(qtbot, w, pts):
    from PySide6 import QtCore
    from PySide6.QtTest import QTest

    vb, vp = w.field.plot.vb, w.drawing.viewport
    px = [w.field.glw.mapFromScene(vb.mapViewToScene(QtCore.QPointF(*p))) for p in pts]
    L, NO = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    QTest.mousePress(vp, L, NO, px[0])
    for q in px[1:]:
        QTest.mouseMove(vp, q)
    QTest.mouseRelease(vp, L, NO, px[-1])
    w.drawing.flush()


def test_drawing_with_the_mouse_and_training_on_it(qtbot, tmp_path):
    from PySide6 import QtCore

    from conftest import LOAD_MS, make_window

    w = make_window(qtbot, tmp_path, autoplay=True)
    try:
        d, bar = w.drawing, w.drawing.bar
        assert w.controls.dataset.findData("drawn") < 0, "no drawing yet: no 'drawn' entry in the data picker"
        w.acts["draw"].trigger()
        assert d.active and bar.isVisible() and w.acts["draw"].isChecked()
        qtbot.waitUntil(lambda: w.run.latest().state == "paused", timeout=10_000)  # drawing pauses training
        _drag(qtbot, w, [(-2.0 + 0.2 * i, 1.0) for i in range(21)])  # a brush stroke along y = 1
        n = len(d.model)
        assert n > 200 and np.abs(d.points[:, 1] - 1.0).max() <= bar.radius_value() + 1e-3
        assert d.points[:, 0].min() < -1.7 and d.points[:, 0].max() > 1.7
        assert bar.count.text() == f"{n:,} points"
        qtbot.mouseClick(bar.buttons["eraser"], QtCore.Qt.MouseButton.LeftButton)
        _drag(qtbot, w, [(1.0, 1.0), (2.5, 1.0)])  # rub out the right end
        assert len(d.model) < n and d.points[:, 0].max() < 1.0
        qtbot.mouseClick(bar.buttons["ring"], QtCore.Qt.MouseButton.LeftButton)
        k = len(d.model)
        _drag(qtbot, w, [(0.0, -1.0), (0.8, -1.0), (1.5, -1.0)])  # centre, dragged out to radius 1.5
        r = np.hypot(*(d.points[k:] - (0.0, -1.0)).T)
        assert len(r) >= 16 and abs(np.median(r) - 1.5) < 0.1
        assert w.controls.dataset.findData("drawn") >= 0, "a drawing is listed in the data picker"
        drawn = d.points

        first = w.run
        qtbot.mouseClick(bar.train, QtCore.Qt.MouseButton.LeftButton)
        assert w.run is not first and not d.active and not bar.isVisible()
        qtbot.waitUntil(lambda: w.static is not None and w.static.name == "drawn", timeout=LOAD_MS)
        cfg = w.runs.current_config()
        assert cfg.dataset == "drawn" and w.controls.dataset.currentData() == "drawn"
        np.testing.assert_array_equal(decode_points(cfg.dataset_args["points"]), drawn)
        assert np.isin(w.static.real.view(np.complex64), drawn.view(np.complex64)).all()
        qtbot.waitUntil(lambda: w.run.latest().iteration > 20, timeout=60_000)  # it trains

        # the recording keeps the drawing; reopening it and drawing again starts from the same points
        rec = w.runs.record_dir
        qtbot.waitUntil(lambda: (rec / "run.json").exists() and len(RunFolder(rec).index) > 1, timeout=30_000)
        np.testing.assert_array_equal(decode_points(RunFolder(rec).config.dataset_args["points"]), drawn)
        assert w.open_run_folder(str(rec))
        d.clear()
        d.enter()
        np.testing.assert_array_equal(d.points, drawn)
        d.leave()
    finally:
        w.close()
