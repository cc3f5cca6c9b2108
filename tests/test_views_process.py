"""The views helper process (core/live/views_process.py): while a run trains, the panels' views are computed
in a second process from a copy of the weights, so the training thread only trains. Real processes, real
training, real files: the helper must show exactly what the training thread would, follow live setting
changes and replaced noise, record what a recording needs, and never take a run down when it fails."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import torch

from gan_studio.core.live import handles
from gan_studio.core.live.handles import ThreadRun
from gan_studio.core.live.views_process import ViewsHelper, frame_views, start_helper
from gan_studio.core.record.runfolder import RunFolder
from gan_studio.core.record.states import available_states
from gan_studio.core.train.presets import get_preset
from gan_studio.core.train.trainer import Trainer
from gan_studio.core.views import views as V
from gan_studio.core.views.viewspec import ViewRequest

SMALL = dict(batch_size=64, model_args={"hidden": 32, "layers": 2})
#: iterations per second of the live runs here: what they test comes at the display's rate, and a run at full
#: speed would spend a core on iterations nobody looks at
PACE = 100
PANELS = ViewRequest(names=frozenset({"samples", "d_hist", "field", "latent", "metrics"}))


def wait_for(cond, timeout=60.0, what="condition"):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def assert_same_views(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    np.testing.assert_allclose(a["samples"], b["samples"], rtol=1e-5, atol=1e-6)
    for x, y in zip(a["d_hist"], b["d_hist"]):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["field"]["d"], b["field"]["d"], rtol=1e-5, atol=1e-6)
    for x, y in zip(a["field"]["arrows"], b["field"]["arrows"]):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a["latent"]["rows"], b["latent"]["rows"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["latent"]["cols"], b["latent"]["cols"], rtol=1e-5, atol=1e-6)


@pytest.fixture
def helper():
    h = ViewsHelper(*start_helper())
    yield h
    h.close()


def started(helper: ViewsHelper, steps: int):
    """A small ring8 trainer after ``steps`` iterations, the helper started like it → (trainer, static,
    the training thread's own LiveViews, the view names)."""
    tr = Trainer(get_preset("ring8").config.replace(**SMALL))
    tr.run(steps)
    static = V.static_info(tr)
    helper.begin(tr, static)
    wait_for(lambda: helper.poll() or helper.ready, what="the helper to start")
    return tr, static, V.LiveViews(static), PANELS.names - {"metrics"}


def ask(h: ViewsHelper, tr, req=PANELS, frame=1, metrics=False) -> dict:
    assert h.request(tr, req, req.names - {"metrics"}, frame, metrics=metrics)
    return wait_for(lambda: h.poll(), what="the helper's views")


def test_the_helper_computes_exactly_the_views_the_training_thread_would(helper):
    tr, static, here, names = started(helper, 30)
    assert helper.usable and helper.idle

    got = ask(helper, tr, metrics=True)
    assert got["iteration"] == 30 and got["error"] is None and helper.idle
    assert not os.path.exists(helper._path)  # the shared buffer's file is gone once both processes map it
    assert_same_views(got["views"], frame_views(here, tr, PANELS, 1, names, nn=False))
    m_here = V.metrics(tr, static, PANELS, 1)  # the live metrics: the same modes and theory maps
    assert got["metrics"]["scalars"]["modes_covered"] == m_here["scalars"]["modes_covered"]
    np.testing.assert_allclose(got["metrics"]["theory"]["d_star"], m_here["theory"]["d_star"], rtol=1e-5, atol=1e-6)

    tr.run(50)  # new weights reach the helper with the next request
    got = ask(helper, tr)
    assert got["iteration"] == 50
    assert_same_views(got["views"], frame_views(here, tr, PANELS, 2, names, nn=False))


def test_the_helper_follows_live_changes_a_new_discriminator_and_replaced_noise(helper):
    tr, static, here, names = started(helper, 10)
    ask(helper, tr)

    tr.submit(pack=2, loss="lsgan")  # PacGAN: D is rebuilt with a wider input; another loss maps D's output
    tr.run(15)
    got = ask(helper, tr, frame=3)
    assert got["error"] is None
    assert_same_views(got["views"], frame_views(here, tr, PANELS, 3, names, nn=False))

    tr.fixed_z = torch.randn_like(tr.fixed_z)  # a checkpoint or a rewind replaces the fixed noise
    got = ask(helper, tr, frame=4)
    assert_same_views(got["views"], frame_views(here, tr, PANELS, 4, names, nn=False))


def test_a_cancelled_request_is_dropped_and_the_helper_is_free_again(helper):
    tr = Trainer(get_preset("ring8").config.replace(**SMALL))
    helper.begin(tr, V.static_info(tr))
    wait_for(lambda: helper.poll() or helper.ready, what="the helper to start")
    assert helper.request(tr, PANELS, PANELS.names, 1)
    assert not helper.request(tr, PANELS, PANELS.names, 2)  # one request in flight at a time
    helper.cancel()
    late = wait_for(lambda: helper.poll(), what="the cancelled result")
    assert late["stale"] and helper.idle  # it comes back marked: not to be shown (its recording part still counts)
    fresh = ask(helper, tr)
    assert fresh["iteration"] == 0 and not fresh["stale"]


@pytest.fixture
def quick_helper(monkeypatch):
    monkeypatch.setattr(handles, "HELPER_DELAY", 0.0)


def run_until(run: ThreadRun, cond, timeout=90.0, what="condition"):
    events = []

    def check():
        events.extend(run.drain_events())
        run.drain_stats()
        return cond(events)

    wait_for(check, timeout, what)
    return events


def test_a_live_run_publishes_and_records_the_helpers_views_and_computes_its_own_when_paused(tmp_path, quick_helper):
    cfg = get_preset("ring8").config.replace(**SMALL)
    run = ThreadRun(cfg, views_process=True, record_dir=str(tmp_path / "run"), record_every=20)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()
    try:
        run_until(run, lambda ev: run.perf["helper_views"] >= 20, what="20 frames of views from the helper")
        s = run.latest()
        assert s.state == "running" and 0 < s.views_iteration <= s.iteration
        assert {"samples", "d_hist", "field", "latent", "theory"} <= set(s.views)
        # the training thread's share of a helper's frame: sending the weights, not computing the views (~3 ms)
        assert run.perf["request_cpu_s"] / run.perf["requests"] < 0.0015
        run.pause()
        run_until(run, lambda ev: (run.latest().state == "paused"
                                   and run.latest().views_iteration == run.latest().iteration), what="paused views")
    finally:
        assert run.stop(10)
    f = RunFolder(tmp_path / "run")
    its = f.iterations
    assert len(its) >= 5 and its == sorted(its)
    # every recorded snapshot holds the field and samples computed for its own iteration, and the states
    # written for the helper's snapshots sit at those iterations, so any of them can be continued from
    assert set(available_states(tmp_path / "run")) <= set(its)
    views = f.load(len(its) // 2)
    assert views["samples"].shape == (1024, 2) and views["field"]["d"].ndim == 2


def test_when_the_helper_dies_the_run_goes_on_and_draws_its_own_views(quick_helper):
    cfg = get_preset("ring8").config.replace(**SMALL)
    run = ThreadRun(cfg, views_process=True)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()
    try:
        run_until(run, lambda ev: run.perf["helper_views"] >= 5, what="views from the helper")
        os.kill(run._helper._proc.pid, signal.SIGKILL)
        events = run_until(run, lambda ev: any(e.kind == "warning" for e in ev), what="a warning")
        assert any("computed by the training process" in e.message for e in events if e.kind == "warning")
        inline = run.perf["views"] - run.perf["helper_views"]
        it0 = run.latest().views_iteration
        run_until(run, lambda ev: run.perf["views"] - run.perf["helper_views"] > inline + 10
                  and run.latest().views_iteration > it0, what="views from the training thread")
        assert run.latest().state == "running"
    finally:
        assert run.stop(10)


def test_with_the_helper_turned_off_no_process_is_started(monkeypatch, quick_helper):
    monkeypatch.setenv("GAN_STUDIO_VIEWS_PROCESS", "0")
    run = ThreadRun(get_preset("ring8").config.replace(**SMALL), views_process=True)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()
    try:
        run_until(run, lambda ev: run.perf["views"] >= 10, what="views")
        assert run._helper is None and run.perf["helper_views"] == 0
    finally:
        assert run.stop(10)


def test_the_studios_training_process_hands_its_views_to_a_helper_that_ends_with_it(tmp_path, monkeypatch):
    import json

    from gan_studio.core.live.process_run import ProcessRun

    perf = tmp_path / "perf.jsonl"
    monkeypatch.setenv("GAN_STUDIO_PERF", str(perf))  # the training process writes what its display path did
    run = ProcessRun(get_preset("ring8").config.replace(**SMALL), threads=1)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()  # (returns at once: the reader thread starts the processes)
    helper = run._helper_proc
    assert helper is not None
    wait_for(helper.is_alive, 120, "the helper to start")
    lagged = set()  # views the helper computed arrive an iteration or more after the one they show

    def helper_frames():
        s = run.latest()
        if s is not None and s.state == "running" and 0 < s.views_iteration < s.iteration:
            lagged.add(s.views_iteration)
            assert {"samples", "d_hist", "field", "latent"} <= set(s.views)
        return len(lagged) >= 20

    try:
        wait_for(helper_frames, 180, "20 frames of views from the helper")
    finally:
        assert run.stop(10)
    wait_for(lambda: not helper.is_alive(), 10, "the helper to end")
    p = json.loads(perf.read_text().splitlines()[-1])
    # frames came from the helper; sending one cost the training thread far less than computing it (~3 ms)
    assert p["helper_views"] >= 20 and p["requests"] >= p["helper_views"]
    assert p["request_cpu_s"] / p["requests"] < 0.0015


def test_a_view_the_helper_cannot_draw_is_tried_on_the_training_thread_and_reported_once(quick_helper):
    run = ThreadRun(get_preset("ring8").config.replace(**SMALL), views_process=True)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()
    try:
        run_until(run, lambda ev: run.perf["helper_views"] >= 3, what="views from the helper")
        run.set_views(ViewRequest(names=frozenset({"field"}), field_res=-5))  # no grid can have -5 points
        events = run_until(run, lambda ev: any(e.kind == "error" for e in ev), what="the error")
        errors = [e.message for e in events if e.kind == "error"]
        assert len(errors) == 1 and errors[0].startswith("could not draw a panel")
        assert any("computed by the training process" in e.message for e in events if e.kind == "warning")
        it = run.latest().iteration
        run_until(run, lambda ev: run.latest().iteration > it + 100, what="training to go on")
    finally:
        assert run.stop(10)


def test_a_run_stopped_while_the_helper_works_waits_for_its_views_and_records_them(tmp_path, quick_helper):
    run = ThreadRun(get_preset("ring8").config.replace(**SMALL), views_process=True,
                    record_dir=str(tmp_path / "run"), record_every=10)
    run.set_views(PANELS)
    run.set_speed(PACE)
    run.start()
    try:
        run_until(run, lambda ev: run.perf["helper_views"] >= 10, what="views from the helper")
        pid = run._helper._proc.pid
        os.kill(pid, signal.SIGSTOP)  # a slow helper: the next request stays in flight
        time.sleep(0.2)
        assert not run._helper.idle
        threading.Timer(0.3, lambda: os.kill(pid, signal.SIGCONT)).start()
    finally:
        assert run.stop(10)
    events = run.drain_events()
    assert not [e for e in events if e.kind in ("warning", "error")]  # the helper was not cut off mid-request
    assert run._helper.idle and not run._helper.dead
    its = RunFolder(tmp_path / "run").iterations
    assert set(available_states(tmp_path / "run")) <= set(its)  # every state has its snapshot
