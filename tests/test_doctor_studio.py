"""The GAN doctor in the studio: the live worker reports findings as events (and in its recording), the doctor
panel lists them newest first, a click shows the evidence on the panels, a remedy button applies (and records)
the live change, warnings notify while the window is not in front, and a replay shows what was recorded up to
the slider. Real training, real widgets offscreen, real run folders."""
from __future__ import annotations

import json
import time

import pytest
from PySide6 import QtCore, QtWidgets

from gan_studio.core.live.handles import ThreadRun
from gan_studio.core.protocol import EventKind
from gan_studio.core.train.presets import get_preset
from gan_studio.gui.settings import Settings
from gan_studio.gui.window import StudioWindow

import conftest
from conftest import LOAD_MS



@pytest.fixture(scope="module")
def collapse_run(tmp_path_factory):
    """ring8-collapse trained live (ThreadRun, recorded) until the doctor reports mode collapse (≤ 1,500 it)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("runs") / "ring8-collapse"
    run = ThreadRun(get_preset("ring8-collapse").config, record_dir=str(folder), record_every=50).start()
    run.set_limit(1500)
    run.play()
    events, t0 = [], time.monotonic()
    try:
        while time.monotonic() - t0 < 240:
            time.sleep(0.05)
            events += [e for e in run.drain_events() if e.kind == EventKind.FINDING]
            snap = run.latest()
            if any(e.data["name"] == "mode-collapse" for e in events) or (snap and snap.iteration >= 1500):
                break
    finally:
        run.stop(10)
        torch.set_num_threads(threads)
    iteration = run.trainer.iteration
    return {"events": events, "folder": folder, "iteration": iteration}


def test_the_live_worker_reports_mode_collapse_as_an_event_and_records_it(collapse_run):
    events = collapse_run["events"]
    found = [e for e in events if e.data["name"] == "mode-collapse"]
    assert found, f"no mode-collapse finding within 1,500 iterations: {[e.data['name'] for e in events]}"
    d = found[0].data
    assert d["status"] == "new" and d["severity"] == "warning" and d["active"]
    assert found[0].message == d["sentence"] and "Mode collapse" in d["sentence"]
    first, last = d["evidence"]["iterations"]
    assert 0 <= first < last <= collapse_run["iteration"] <= 1500
    assert d["evidence"]["n_modes"] == 8 and d["evidence"]["effective_modes"] < 4
    assert {"unroll": 5} in [r["change"] for r in d["remedies"]]
    lines = [json.loads(x) for x in (collapse_run["folder"] / "metrics.jsonl").read_text().splitlines()]
    recorded = [x for x in lines if x.get("event") == "finding" and x["name"] == "mode-collapse"]
    assert recorded and recorded[0]["sentence"] == d["sentence"] and recorded[0]["iteration"] >= last


def make_window(qtbot, tmp_path, monkeypatch, preset="ring8-collapse") -> StudioWindow:
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return conftest.make_window(qtbot, tmp_path, preset=preset, persist=False, size=(1400, 860))


def test_panel_lists_findings_newest_first_shows_evidence_and_applies_a_remedy(collapse_run, qtbot, tmp_path,
                                                                                 monkeypatch):
    w = make_window(qtbot, tmp_path, monkeypatch)
    try:
        doc = w.doctor
        assert w.acts["doctor"].isChecked() and doc.dock.isVisible()
        assert "Too early to tell" in doc.panel.summary.text()
        # the real findings of the collapsing run, through the live handle's own event path
        for e in collapse_run["events"]:
            w.run._event(e.kind, e.message, e.data)
        problems = [e.data for e in collapse_run["events"] if e.data["severity"] != "ok"]
        qtbot.waitUntil(lambda: len(doc.panel.cards) == len(problems), timeout=5000)
        assert [c.name for c in doc.panel.cards] == [d["name"] for d in reversed(problems)]  # newest first
        assert "problem" in doc.panel.summary.text()
        card = doc.panel.card("mode-collapse")
        assert "⚠" in card.head.text() and "Mode collapse" in card.text.text()
        qtbot.mouseClick(card, QtCore.Qt.MouseButton.LeftButton)
        ev = next(d for d in problems if d["name"] == "mode-collapse")["evidence"]
        band = doc.evidence.bands[0]
        assert doc.panel.current == "mode-collapse" and card.selected and band.isVisible()
        assert doc.evidence.iterations == tuple(ev["iterations"])
        lo, hi = band.getRegion()
        assert lo <= ev["iterations"][0] and hi >= ev["iterations"][1]
        assert band in w.losses.p_loss.items and doc.evidence.bands[1] in w.losses.p_d.items
        # the modes G misses are circled on the toy field (an untrained G sits in one clump)
        qtbot.waitUntil(lambda: len(doc.evidence.missed) > 0, timeout=10_000)
        assert len(doc.evidence.circles.data) == len(doc.evidence.missed)
        assert "modes G misses" in doc.evidence.circle_label.textItem.toPlainText()
        # a newer finding does not move the user's selection
        doc.refresh()
        assert doc.panel.current == "mode-collapse"
        # the remedy: applied to the run and recorded as a `set` event
        button = next(b for b in doc.panel.card("mode-collapse").buttons if b.text() == "Apply: unroll = 5")
        assert button.isEnabled()
        qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.snapshot.config.get("unroll") == 5, timeout=10_000)
        metrics = w.runs.record_dir / "metrics.jsonl"
        qtbot.waitUntil(lambda: '"set"' in metrics.read_text(), timeout=10_000)
        sets = [json.loads(x) for x in metrics.read_text().splitlines() if '"set"' in x]
        assert sets[-1]["changes"] == {"unroll": 5}
        assert w.runs.overrides.get("unroll") == 5
        # View → Doctor hides and shows the dock
        w.acts["doctor"].trigger()
        assert not doc.dock.isVisible() and not w.acts["doctor"].isChecked()
        w.acts["doctor"].trigger()
        assert doc.dock.isVisible()
        # a new run starts with a clean slate
        w.runs.reset()
        qtbot.waitUntil(lambda: not doc.panel.cards, timeout=LOAD_MS)
        assert not doc.evidence.bands[0].isVisible()
    finally:
        w.close()


def test_a_warning_notifies_once_and_only_while_the_window_is_not_in_front(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", persist=False)
    qtbot.addWidget(w)
    w.show()
    other = QtWidgets.QWidget()
    qtbot.addWidget(other)
    n = w.doctor.notifier

    def finding(name, severity="warning", status="new"):
        return {"name": name, "title": name.title(), "severity": severity, "sentence": f"{name} happened.",
                "status": status, "active": status != "cleared"}

    try:
        w.activateWindow()
        qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is w, timeout=5000)
        assert n.window_in_front()
        assert not n.consider(finding("mode-collapse"))  # the user sees it in the panel
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is other, timeout=5000)
        assert not n.window_in_front()
        assert n.consider(finding("mode-collapse"))
        assert not n.consider(finding("mode-collapse", status="back"))  # once each
        assert n.consider(finding("divergence-ahead", "critical"))
        assert not n.consider(finding("healthy", "ok", "healthy"))
        assert not n.consider(finding("some-info", "info"))
        assert not n.consider(finding("d-wins", status="cleared"))
        assert [s["name"] for s in n.sent] == ["mode-collapse", "divergence-ahead"]
        assert n.sent[0]["text"] == "mode-collapse happened." and "GAN Studio" in n.sent[0]["title"]
        assert all(s["tray"] == QtWidgets.QSystemTrayIcon.isSystemTrayAvailable() for s in n.sent)
        w.showMinimized()
        qtbot.waitUntil(lambda: w.isMinimized(), timeout=5000)
        assert n.consider(finding("d-wins"))  # minimized counts as not in front
        n.reset()  # a new run: each finding may notify again
        assert n.consider(finding("mode-collapse"))
    finally:
        w.close()


def test_replay_shows_the_findings_recorded_up_to_the_slider(collapse_run, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", persist=False)
    qtbot.addWidget(w)
    w.show()
    try:
        assert w.open_run_folder(str(collapse_run["folder"]))
        doc, handle = w.doctor, w.run
        lines = [json.loads(x) for x in (collapse_run["folder"] / "metrics.jsonl").read_text().splitlines()]
        at = min(x["iteration"] for x in lines if x.get("event") == "finding" and x["name"] == "mode-collapse")
        its = handle.iterations
        before = max(i for i, it in enumerate(its) if it < at)
        w.replay_bar.slider.setValue(before)
        qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.iteration == its[before], timeout=10_000)
        qtbot.waitUntil(lambda: "up to iteration" in doc.panel.summary.text(), timeout=5000)
        assert doc.panel.card("mode-collapse") is None
        w.replay_bar.slider.setValue(len(its) - 1)
        qtbot.waitUntil(lambda: doc.panel.card("mode-collapse") is not None, timeout=10_000)
        card = doc.panel.card("mode-collapse")
        assert card.buttons and not any(b.isEnabled() for b in card.buttons)  # a recording cannot change
        qtbot.mouseClick(card, QtCore.Qt.MouseButton.LeftButton)
        assert doc.evidence.iterations is not None and doc.evidence.bands[0].isVisible()
        w.replay_bar.slider.setValue(before)  # back before it: gone again
        qtbot.waitUntil(lambda: doc.panel.card("mode-collapse") is None, timeout=10_000)
    finally:
        w.close()


def test_d_wins_marks_ds_mean_outputs_on_the_histogram_and_a_band_on_the_losses(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", persist=False)
    qtbot.addWidget(w)
    w.show()
    try:
        doc = w.doctor
        d = {"name": "d-wins", "title": "D wins", "severity": "warning", "sentence": "D wins: it tells real from fake.",
             "evidence": {"iterations": [1000, 2000], "d_real": 0.97, "d_fake": 0.03},
             "remedies": [{"change": {"lr_d": 2e-5}, "why": "a slower D"}], "iteration": 2000, "since": 1500,
             "until": None, "active": True}
        doc.take(d, "new")
        doc.refresh()
        assert doc.panel.current == "d-wins"  # nothing picked yet: the newest problem is shown
        assert [ln.value() for ln in doc.evidence.d_lines] == [0.97, 0.03]
        assert all(ln.isVisible() for ln in doc.evidence.d_lines)
        assert [lab.textItem.toPlainText() for lab in doc.evidence.d_labels] == ["mean D(x) 0.97", "mean D(G(z)) 0.03"]
        assert doc.evidence.iterations == (1000, 2000) and not len(doc.evidence.circles.data)
        doc.take(dict(d, active=False, until=2500))  # it stopped holding: greyed, no remedy buttons
        doc.refresh()
        card = doc.panel.card("d-wins")
        assert "no longer seen" in card.head.text() and not card.buttons
        assert "problem" not in doc.panel.summary.text()
    finally:
        w.close()
