"""Algorithm 1, narrated: the trainer reports its real sub-steps, the worker stops after each one until told
to go on, and the studio highlights the line of the pseudo-code that just ran (issue 16, part 1)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from gan_studio.core.live.handles import ThreadRun
from gan_studio.core.protocol import SubStep
from gan_studio.core.train.config import TrainConfig
from gan_studio.core.train.trainer import Trainer


def expected(k: int, g_steps: int = 1) -> list[tuple[str, int, int]]:
    """One iteration's sub-steps as Algorithm 1 prints them: (kind, i, of)."""
    d = [(kind, i, k) for i in range(1, k + 1) for kind in ("d_noise", "d_data", "d_update")]
    return d + [(kind, i, g_steps) for i in range(1, g_steps + 1) for kind in ("g_noise", "g_update")]


def weights(tr) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*tr.G.parameters(), *tr.D.parameters()]]


# ------------------------------------------------------------------------------------------------ core
@pytest.mark.parametrize("k", [1, 3])
def test_the_trainer_reports_each_sub_step_in_the_order_of_algorithm_1(k):
    tr = Trainer(TrainConfig(dataset="ring8", k=k, batch_size=32, device="cpu", seed=1))
    seen: list[SubStep] = []
    tr.substep_hook = seen.append
    tr.step()
    tr.step()
    assert [(s.kind, s.step, s.steps) for s in seen] == expected(k) * 2
    assert [s.iteration for s in seen] == [1] * (3 * k + 2) + [2] * (3 * k + 2)
    assert [s.last for s in seen] == ([False] * (3 * k + 1) + [True]) * 2
    by = {s.kind: s for s in seen[: 3 * k + 2]}
    assert by["d_noise"].fakes.shape == (32, 2) and by["d_noise"].real is None
    assert by["d_data"].real.shape == (32, 2)
    d = by["d_update"]
    assert np.isfinite([d.loss, d.d_real, d.d_fake]).all() and 0 < d.d_real < 1
    g = by["g_update"]
    assert g.fakes.shape == g.grad.shape == g.after.shape == (32, 2)
    assert np.isfinite(g.loss) and np.abs(g.grad).max() > 0
    assert not np.allclose(g.after, g.fakes), "G's update moved its fakes"
    # the D loss reported for the iteration's last D-step is the one the statistics carry
    assert seen[3 * k - 1].loss == pytest.approx(tr.history["d_loss"][0], rel=1e-6)


def test_narration_changes_nothing_the_trainer_computes():
    plain = Trainer(TrainConfig(dataset="ring8", k=2, batch_size=32, device="cpu", seed=4))
    told = Trainer(TrainConfig(dataset="ring8", k=2, batch_size=32, device="cpu", seed=4))
    told.substep_hook = lambda s: None
    for _ in range(6):
        a, b = plain.step(), told.step()
        assert (a.d_loss, a.g_loss, a.d_real, a.d_fake) == (b.d_loss, b.g_loss, b.d_real, b.d_fake)
    assert all(torch.equal(p, q) for p, q in zip(weights(plain), weights(told)))


def test_the_simultaneous_update_and_unrolled_look_aheads_are_reported_as_what_they_are():
    tr = Trainer(TrainConfig(dataset="ring8", update="simultaneous", batch_size=16, device="cpu"))
    seen = []
    tr.substep_hook = seen.append
    tr.step()
    assert [(s.kind, s.last) for s in seen] == [("joint", True)]
    assert seen[0].fakes.shape == seen[0].real.shape == (16, 2) and np.isfinite(seen[0].g_loss)
    tr = Trainer(TrainConfig(dataset="bimodal1d", unroll=3, batch_size=16, device="cpu"))
    seen = []
    tr.substep_hook = seen.append
    tr.step()
    assert [s.kind for s in seen] == [k for k, _, _ in expected(1)]  # the 3 look-ahead D steps are not Algorithm 1's
    assert seen[-1].after.shape == (16, 1)


# ------------------------------------------------------------------------------------------------ worker
def wait_for(cond, timeout=20.0):
    t0 = time.perf_counter()
    while not cond():
        assert time.perf_counter() - t0 < timeout, "timed out"
        time.sleep(0.01)


def test_the_worker_stops_after_each_sub_step_until_told_to_go_on():
    run = ThreadRun(TrainConfig(dataset="ring8", k=2, batch_size=32, device="cpu"), start_paused=True).start()
    try:
        wait_for(lambda: run.latest() is not None and run.latest().static is not None)
        run.narrate(True)
        events = []

        def next_substep():
            run.substep()
            wait_for(lambda: events.extend(e for e in run.drain_events() if e.kind == "substep") or
                     len(events) > n)
        for n in range(len(expected(2)) + 1):
            next_substep()
            time.sleep(0.05)
            assert len(events) == n + 1, "one sub-step per request"
            if n == 2:  # mid-iteration: a setting change waits for the iteration's end
                run.set(lr_d=5e-4)
        assert [(e.data.kind, e.data.step) for e in events] == [(k, i) for k, i, _ in expected(2)] + [("d_noise", 1)]
        assert run.trainer.iteration == 1 and run.trainer.lr_d == 5e-4
        run.narrate(False)
        run.play()
        wait_for(lambda: run.latest().iteration > 20)  # narration off: training runs on by itself
    finally:
        assert run.stop(5.0)


def test_a_run_waiting_inside_a_narrated_iteration_stops_at_once():
    run = ThreadRun(TrainConfig(dataset="ring8", batch_size=32, device="cpu"), start_paused=True).start()
    wait_for(lambda: run.latest() is not None and run.latest().static is not None)
    run.narrate(True)
    run.substep()
    wait_for(lambda: run._narr.reported == 1)
    t0 = time.perf_counter()
    assert run.stop(5.0) and time.perf_counter() - t0 < 2.0
    assert run.latest().state == "stopped"


# ------------------------------------------------------------------------------------------------ studio
@pytest.fixture
def window(studio, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")

    def make(k: int, thread: bool):
        return studio("ring8", persist=False, overrides={"k": k, "batch_size": 64}, size=(1400, 900),
                      process=not thread)

    return make


@pytest.mark.parametrize("k, thread", [(1, True), (3, False)], ids=["k1-thread", "k3-process (the studio's default)"])
def test_narrating_highlights_the_line_of_each_real_sub_step(window, qtbot, k, thread):
    from gan_studio.gui.narration import LINE_OF

    w = window(k, thread)
    events = []
    w.controller.eventArrived.connect(lambda ev: ev.kind == "substep" and events.append(ev.data))
    assert not w.narrator.dock.isVisible()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_N)  # Run → Narrate
    assert w.acts["narrate"].isChecked() and w.narrator.dock.isVisible()
    panel = w.narrator.panel
    n_sub = 3 * k + 2
    for n in range(n_sub + 1):  # a whole iteration, and the first sub-step of the next
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
        qtbot.waitUntil(lambda: len(events) == n + 1, timeout=10_000)
        sub = events[-1]
        assert panel.highlighted_line() == LINE_OF[sub.kind]
        assert panel.lines[LINE_OF[sub.kind]].styleSheet().startswith("background: #fde68a")
        if sub.kind.startswith("d_"):
            assert f"D-step {sub.step} of {k}" in panel.status.text()
    assert [(s.kind, s.step) for s in events] == [(kind, i) for kind, i, _ in expected(k)] + [("d_noise", 1)]
    assert events[-1].iteration == 2
    qtbot.waitUntil(lambda: w.snapshot.iteration == 1, timeout=5_000)  # exactly one iteration ran
    assert w.narrator.overlay.fakes.isVisible()  # the sampled minibatch is on the field
    qtbot.wait(300)
    assert len(events) == n_sub + 1, "the trainer waits while nobody presses →"
    if thread:
        w.narrator.dock.hide()
        w.set_presentation(True)  # the lecture shows the panel
        assert w.narrator.dock.isVisible() and w.acts["algorithm"].isChecked()
        w.set_presentation(False)
        qtbot.keyClick(w, QtCore.Qt.Key.Key_A)  # View → Algorithm 1 hides and shows it
        assert not w.narrator.dock.isVisible()
        qtbot.keyClick(w, QtCore.Qt.Key.Key_A)
        assert w.narrator.dock.isVisible()
        qtbot.keyClick(w, QtCore.Qt.Key.Key_N)  # narration off: → is one whole iteration again
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Right)
        qtbot.waitUntil(lambda: w.snapshot.iteration >= 2, timeout=10_000)
        assert panel.highlighted_line() is None and not w.narrator.overlay.fakes.isVisible()
    else:  # playing: the timer advances it, one sub-step at a time
        panel.seconds.setValue(0.2)
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: len(events) >= n_sub + 4, timeout=15_000)
        assert [s.kind for s in events[n_sub + 1: n_sub + 4]] == ["d_data", "d_update", "d_noise"]
