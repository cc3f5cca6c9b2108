"""The run controller: owns a run handle and the display timer, and tells the window what happened.

Every view of a run — the studio window, each side of the compare window, replay — consumes one of
these. It drains the handle on a ~30 Hz timer and emits typed signals; nobody else polls a handle:

* ``staticChanged(snapshot)``: a new run's data are known (the panels that apply can be shown);
* ``snapshotChanged(snapshot)``: a snapshot not drawn before (redraw the panels);
* ``tick(snapshot)``: every display tick (the losses panel draws statistics between snapshots);
* ``statsArrived(array)``: per-iteration statistics since the last tick (``protocol.STAT_COLUMNS``);
* ``eventArrived(event)``: an :class:`~gan_studio.core.protocol.Event` (errors, metrics, saves, …);
* ``stateChanged(state, message)``: the run's state changed;
* ``rewound()``: a replay went back in time (curves restart from the beginning).

Replay's extras (following a folder that still grows, the recorded mode metrics) are turned into the
same signals, so the window has one refresh path for live runs and recordings alike.

A handle that fails while it is drained (a damaged recording, a bug) is reported once as an ``error`` event
and drained again at the next tick: a timer slot that raised would print a traceback 30 times a second.
"""
from __future__ import annotations

import logging
import time

import numpy as np
from PySide6 import QtCore

from ..core.protocol import Capability, Event, EventKind, RunHandle

log = logging.getLogger(__name__)


class RunController(QtCore.QObject):
    staticChanged = QtCore.Signal(object)
    snapshotChanged = QtCore.Signal(object)
    tick = QtCore.Signal(object)
    statsArrived = QtCore.Signal(object)
    eventArrived = QtCore.Signal(object)
    stateChanged = QtCore.Signal(str, str)
    rewound = QtCore.Signal()

    def __init__(self, parent=None, interval_ms: int = 33) -> None:
        super().__init__(parent)
        self.handle: RunHandle | None = None
        self.snapshot = None  # the latest snapshot drawn (public: tests and exports read it)
        self.static = None
        self.frames = 0  # ticks that brought a snapshot not drawn before
        self.follow = False  # replay: keep reading a folder that still grows
        self._old: list = []
        self._static_run = None
        self._state = None
        self._modes_fed = -1
        self._last_follow = 0.0
        self._failure: str | None = None  # the last failure reported (not repeated at every tick)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(interval_ms)

    # ------------------------------------------------------------------------------------- the handle
    @property
    def capabilities(self) -> Capability:
        return getattr(self.handle, "capabilities", Capability.NONE) if self.handle is not None else Capability.NONE

    @property
    def is_replay(self) -> bool:
        return Capability.SEEK in self.capabilities

    @property
    def can_train(self) -> bool:
        return Capability.TRAIN in self.capabilities and self.state in ("running", "paused", "diverged")

    @property
    def state(self) -> str:
        return getattr(self.handle, "state", "stopped") if self.handle is not None else "stopped"

    @property
    def iteration(self) -> int:
        return self.snapshot.iteration if self.snapshot is not None else 0

    def set_handle(self, handle: RunHandle | None, start: bool = True) -> None:
        """Show ``handle`` from now on; the previous one is stopped (it ends in the background)."""
        if self.handle is not None:
            self.handle.stop(timeout=0)
            self._old.append(self.handle)
        self._old = [h for h in self._old if h.is_alive()]
        self.handle = handle
        self.snapshot = self.static = None
        self._static_run = None
        self._state = None
        self._modes_fed = -1
        self._failure = None
        self.follow = Capability.FOLLOW in self.capabilities
        self._last_follow = time.perf_counter()
        if handle is not None and start:
            handle.start()

    def stop_all(self, timeout: float = 1.5) -> bool:
        """Stop every handle this controller started; True when all have finished."""
        self.timer.stop()
        deadline = time.perf_counter() + timeout
        handles = [h for h in [self.handle, *self._old] if h is not None]
        for h in handles:
            h.stop(timeout=0)
        ok = True
        for h in handles:
            ok &= h.stop(timeout=max(0.0, deadline - time.perf_counter()))
        return ok

    # ------------------------------------------------------------------------------------- the tick
    def refresh(self) -> None:
        """One display tick: drain the handle and emit what changed."""
        h = self.handle
        if h is None:
            return
        try:
            self._refresh(h)
        except Exception as exc:  # noqa: BLE001 - reported, and the window keeps running
            log.debug("draining the run failed", exc_info=True)
            text = f"Could not read the run: {(str(exc).splitlines() or [''])[0][:200] or type(exc).__name__}"
            if text != self._failure:
                self._failure = text
                self.eventArrived.emit(Event(EventKind.ERROR, text))

    def _refresh(self, h) -> None:
        replay = self.is_replay
        if replay:
            self._follow(h)
        for ev in h.drain_events():
            self.eventArrived.emit(ev)
            if self.handle is not h:  # a handler switched runs
                return
        snap = h.latest()
        if snap is None or snap.run_id != h.run_id:
            return
        if (snap.static is not None or replay) and self._static_run != h.run_id:
            self._static_run = h.run_id
            self.static = snap.static
            self.staticChanged.emit(snap)
        if replay and h.take_rewound():
            self._modes_fed = -1
            self.rewound.emit()
        stats = h.drain_stats()
        if self._static_run == h.run_id and len(stats):
            self.statsArrived.emit(stats)
        if replay:
            for m in h.modes_history(upto=snap.iteration):
                if m["iteration"] > self._modes_fed:
                    self._modes_fed = m["iteration"]
                    self.eventArrived.emit(Event(EventKind.METRICS, "", m))
        if snap.state != self._state:
            self._state = snap.state
            self.stateChanged.emit(snap.state, snap.message)
        if snap is not self.snapshot:
            self.snapshot = snap
            if self._static_run == h.run_id:
                self.frames += 1
                self.snapshotChanged.emit(snap)
        self.tick.emit(snap)

    def _follow(self, h) -> None:
        now = time.perf_counter()
        if self.follow and now - self._last_follow > 1.0:
            self._last_follow = now
            h.follow = True
            h.refresh()


