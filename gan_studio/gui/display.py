"""What the window shows of a run: the handlers of the run controller's signals. They update the panels
(through the layout), the status bar, the controls and the replay bar, and tell the training process which
views the visible panels need. This is the one display path for live runs, recordings and checkpoints.

Nothing a run hands over may stop the window: each handler is guarded, and each panel draws on its own
(:meth:`Panel.show_guarded`), so data one panel cannot draw leave that panel empty, put one message in the
banner and let the rest go on."""
from __future__ import annotations

import collections
import functools
import logging
import os
import time

from PySide6 import QtCore

from ..core.views.viewspec import ViewRequest
from . import actions as A

log = logging.getLogger(__name__)


def _reason(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__


def guarded(fn):
    """A handler that reports its failure in the banner (once) instead of raising into Qt's event loop."""
    @functools.wraps(fn)
    def handler(self, *args):
        try:
            return fn(self, *args)
        except Exception as exc:  # noqa: BLE001 - the window must keep running
            log.debug("display handler %s failed", fn.__name__, exc_info=True)
            self.report(f"Could not show this part of the run: {_reason(exc)}")
    return handler


class Display(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.recent_stats: collections.deque = collections.deque(maxlen=256)  # the last few hundred iterations
        self.iterations_at_ready = self.ready_time = None
        self._loss_shown = None
        c = window.controller
        c.staticChanged.connect(self.on_static)
        c.snapshotChanged.connect(self.on_snapshot)
        c.tick.connect(self.on_tick)
        c.statsArrived.connect(self.on_stats)
        c.eventArrived.connect(self.on_event)
        c.stateChanged.connect(self.on_state)
        c.rewound.connect(self.on_rewound)

    def clear(self, replay: bool) -> None:
        """A new run or recording is about to be shown: forget the previous one."""
        self.iterations_at_ready = self.ready_time = None
        self.w.controls.new_run()
        self.w.layout_.set_static(None)
        self.on_state("loading", "")

    def send_view_request(self) -> None:
        w, c = self.w, self.w.controller
        if c.handle is None or c.static is None:
            return
        names: set[str] = set()
        opts: dict = {}
        for p in w.layout_:
            opts.update(p.options())
        for p in w.layout_.wanted(w.isVisible()):
            names |= p.views(c.static)
        c.handle.set_views(ViewRequest(names=frozenset(names), **opts))
        if w.persist:
            w.layout_.save_state(w.settings)

    def report(self, text: str, level: str = "error") -> None:
        """Put ``text`` in the banner, unless it is already there; a warning never hides an error."""
        b = self.w.banner
        shown = not b.isHidden()
        if shown and b.label.text() == text or level == "warn" and shown and getattr(b, "level", "") == "error":
            return
        b.show_message(text, level)

    def draw(self, snap) -> None:
        """Each visible panel draws the snapshot on its own; one that cannot is reported and left empty."""
        for p in self.w.layout_:
            if p.isVisible():
                _, error = p.show_guarded(snap)
                if error:
                    self.report(error)

    # ---------------------------------------------------------------------------- controller signals
    @guarded
    def on_static(self, snap) -> None:
        """A new run's data are known: show the panels that apply, hide the others."""
        w, st = self.w, snap.static
        w.layout_.set_static(st, replay=w.controller.is_replay)
        if st is not None:
            w.losses.set_static(st)
            if snap.loss_info:
                self._loss_changed(snap.loss_info)
        self.iterations_at_ready = snap.iteration
        self.ready_time = time.perf_counter()
        self.send_view_request()

    @guarded
    def on_rewound(self) -> None:
        w = self.w
        w.losses.set_static(w.controller.static)
        if w.evaluation.applies(w.controller.static):
            w.evaluation.set_static(w.controller.static)

    @guarded
    def on_stats(self, stats) -> None:
        self.recent_stats.append(stats)
        self.w.losses.add_stats(stats)

    @guarded
    def on_tick(self, snap) -> None:
        if snap is not self.w.controller.snapshot or snap.views_iteration < 0:
            return
        self.w.stall.active = snap.state == "running"
        _, error = self.w.losses.show_guarded(snap)  # statistics arrive between snapshots: the curves move every tick
        if error:
            self.report(error)

    @guarded
    def on_snapshot(self, snap) -> None:
        w, c = self.w, self.w.controller
        try:
            accepted = w.controls.show_in_force(snap.config)
            if accepted and not c.is_replay:
                w.runs.accepted(accepted)
            if snap.loss_info and snap.loss_info[0] != self._loss_shown:
                self._loss_changed(snap.loss_info)
            w.controls.show_rates(snap.lr_d, snap.lr_g)
            w.status.show_state(snap.state, snap.message, snap)
            if c.is_replay:
                w.replay_bar.set_count(len(c.handle), c.handle.position)
                w.replay_bar.set_label(f"{c.handle.position + 1} / {len(c.handle)} · {snap.message}")
        except Exception as exc:  # noqa: BLE001 - the panels are drawn all the same
            log.debug("showing the snapshot's settings failed", exc_info=True)
            self.report(f"Could not show the run's settings at iteration {snap.iteration:,}: {_reason(exc)}")
        self.draw(snap)

    def _loss_changed(self, info: tuple) -> None:
        name, sigmoid, d_eq, g_eq = info
        self.w.losses.set_loss(name, sigmoid, d_eq, g_eq)
        self.w.dhist.set_sigmoid(sigmoid)
        self._loss_shown = name

    @guarded
    def on_state(self, state: str, message: str) -> None:
        w = self.w
        w.status.show_state(state, message, w.controller.snapshot)
        replay = state == "replay"
        A.update_enabled(w.acts, ready=state not in ("loading", "error", "stopped"),
                         live=state in ("running", "paused", "diverged"))
        steer = w.replay_bar.steer
        if replay and steer.live:  # a followed live run: Play/Pause pause and resume the run itself
            w.acts["play"].setText("▶ Resume run" if steer.run_paused else "❚❚ Pause run")
            return
        playing = w.replay_bar.timer.isActive() if replay else state == "running"
        w.acts["play"].setText("❚❚ Pause" if playing else "▶ Play")

    @guarded
    def on_event(self, ev) -> None:
        w = self.w
        if ev.kind == "warning":  # e.g. what a damaged recording skipped
            self.report(ev.message, "warn")
        elif ev.kind == "error" and isinstance(ev.data, dict) and isinstance(ev.data.get("refused"), dict):
            w.controls.refuse(ev.message, ev.data["refused"])  # the run refused a change the handle let through
        elif ev.kind == "error":
            if not w.evaluator.on_save_failed(ev.message):  # the evaluator reports its own failures
                w.banner.show_message(ev.message, "error")
        elif ev.kind == "diverged":
            w.banner.show_message(f"Training {ev.message}. Lower the learning rates (or change the loss) and "
                                  "press Play to continue from those weights, or Reset.", "warn")
        elif ev.kind == "metrics":
            w.evaluation.add_metrics(ev.data)
        elif ev.kind == "saved" and w.evaluator.on_saved(ev.message):
            if w.evaluator.busy:
                w.evaluation.set_busy(True, "sampling 10,000 from G…")
        elif w.exporter.on_result(ev):
            pass
        elif ev.kind == "saved":
            w.status.showMessage(f"saved {ev.message}", 5000)
            w.status.st_msg.setText(f"saved {os.path.basename(ev.message)}")
