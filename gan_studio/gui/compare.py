"""Compare mode: two runs side by side — same data and seed, differing in the settings the user picks —
stepped in lockstep (each trains only up to a shared iteration limit that moves when both reach it),
with paired panels: the field or samples above, the losses below, modes covered in big type."""
from __future__ import annotations

import json
import time

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.config import LIVE_KEYS, ConfigError, TrainConfig, validate_values
from ..core.live import LiveRun
from ..core.viewspec import ViewRequest
from . import theme
from .panels import FieldPanel, LossesPanel, SamplesPanel

#: what a user can set apart, and how to read a typed value
COMPARE_KEYS = ("loss", "k", "g_steps", "lr_d", "lr_g", "unroll", "pack", "mbstd", "batch_size", "optimizer")
CHUNK = 10  # iterations between lockstep barriers


def parse_value(key: str, text: str):
    """A typed value for ``key`` ("5", "2e-4", "true", "minimax") → a validated Python value."""
    text = text.strip()
    try:
        v = json.loads(text)
    except ValueError:
        v = text
    if key in ("k", "g_steps", "unroll", "pack", "batch_size") and isinstance(v, float) and v.is_integer():
        v = int(v)
    if key == "mbstd" and isinstance(v, str):
        v = {"on": True, "off": False, "yes": True, "no": False}.get(v.lower(), v)
    validate_values({key: v})
    return v


def describe(changes: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in changes.items()) or "as configured"


class CompareDialog(QtWidgets.QDialog):
    """Pick the setting that differs and its two values (pre-filled from the preset's suggestion)."""

    def __init__(self, base: TrainConfig, suggestion: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare two runs")
        self.base = base
        lay = QtWidgets.QFormLayout(self)
        self.key = QtWidgets.QComboBox()
        for k in COMPARE_KEYS:
            self.key.addItem(k, k)
        a, b = suggestion.get("a", {}), suggestion.get("b", {})
        key = next(iter(b or a), "k")
        self.key.setCurrentIndex(max(0, self.key.findData(key)))
        self.a = QtWidgets.QLineEdit(str(a.get(key, getattr(base, key))).lower() if key == "mbstd" else
                                     str(a.get(key, getattr(base, key))))
        self.b = QtWidgets.QLineEdit(str(b.get(key, "")))
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet(f"color: {theme.ERROR};")
        self.error.setWordWrap(True)
        lay.addRow(QtWidgets.QLabel("Same data, model and seed; one setting differs:"))
        lay.addRow("setting", self.key)
        lay.addRow("run A", self.a)
        lay.addRow("run B", self.b)
        lay.addRow(self.error)
        self.key.currentIndexChanged.connect(lambda _: self.a.setText(str(getattr(base, self.key.currentData()))))
        bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok |
                                        QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self._accept)
        bb.rejected.connect(self.reject)
        lay.addRow(bb)
        self._result = ({}, {})

    def _accept(self) -> None:
        key = self.key.currentData()
        try:
            va, vb = parse_value(key, self.a.text()), parse_value(key, self.b.text())
        except ConfigError as exc:
            self.error.setText(str(exc))
            return
        if va == vb:
            self.error.setText("the two values are the same: choose a different value for run B")
            return
        self._result = ({key: va}, {key: vb})
        self.accept()

    def result_changes(self) -> tuple[dict, dict]:
        return self._result


class Side(QtWidgets.QFrame):
    """One run of the pair, with its panels."""

    def __init__(self, name: str, changes: dict, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.changes = changes
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.header = QtWidgets.QLabel(f"{name}: {describe(changes)}")
        f = self.header.font()
        f.setPointSize(15)
        f.setBold(True)
        self.header.setFont(f)
        self.status = QtWidgets.QLabel("loading…")
        f2 = self.status.font()
        f2.setPointSize(14)
        self.status.setFont(f2)
        lay.addWidget(self.header)
        lay.addWidget(self.status)
        self.field = FieldPanel()
        self.samples = SamplesPanel()
        self.losses = LossesPanel()
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        for p in (self.field, self.samples, self.losses):
            split.addWidget(p)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        lay.addWidget(split, 1)
        self.panels = (self.field, self.samples, self.losses)
        self.run = None
        self.static_run = None
        self.snap = None
        self.modes = None
        self.error = ""

    def views(self) -> ViewRequest:
        names = set()
        opts: dict = {}
        for p in self.panels:
            if p.applies(self.static_of()):
                names |= p.views(self.static_of())
                opts.update(p.options())
        if self.static_of() is not None and self.static_of().centers is not None:
            names.add("metrics")
        return ViewRequest(names=frozenset(names), **opts)

    def static_of(self):
        return self.snap.static if self.snap is not None else None


class CompareWindow(QtWidgets.QMainWindow):
    def __init__(self, base: TrainConfig, a: dict, b: dict, autoplay: bool = True, run_class=LiveRun,
                 threads: int | None = None) -> None:
        super().__init__()
        theme.configure()
        for ch in (a, b):
            bad = [k for k in ch if k not in LIVE_KEYS]
            if bad:
                raise ConfigError(f"compare mode sets apart settings a run can change ({', '.join(COMPARE_KEYS)}); "
                                  f"not {', '.join(bad)}")
        self.cfgs = (base.replace(**a) if a else base, base.replace(**b) if b else base)
        if self.cfgs[0].to_dict() == self.cfgs[1].to_dict():
            raise ConfigError("the two runs would be identical: give run B a different setting")
        self.setWindowTitle(f"GAN Studio — compare: {describe(a)}  vs  {describe(b)}")
        self.run_class = run_class
        self.threads = threads
        self.playing = autoplay
        self.target = 0
        self.sides = (Side("A", a), Side("B", b))
        central = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        for s in self.sides:
            lay.addWidget(s, 1)
        self.setCentralWidget(central)
        tb = QtWidgets.QToolBar("Compare")
        tb.setMovable(False)
        f = tb.font()
        f.setPointSize(12)
        tb.setFont(f)
        K = QtCore.Qt.Key
        self.act_play = self._action("❚❚ Pause" if autoplay else "▶ Play", self.toggle_play, K.Key_Space)
        self.act_step = self._action("Step both", self.step, K.Key_Right)
        self.act_close = self._action("Close", self.close, "Ctrl+W")
        for act in (self.act_play, self.act_step):
            tb.addAction(act)
        self.sync_label = QtWidgets.QLabel("")
        self.sync_label.setStyleSheet("padding-left: 12px; color: #444;")
        tb.addWidget(self.sync_label)
        self.addToolBar(tb)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)

    def _action(self, text, slot, shortcut) -> QtGui.QAction:
        act = QtGui.QAction(text, self)
        act.setShortcut(QtGui.QKeySequence(shortcut))
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    # -- runs --------------------------------------------------------------------------------------
    def start(self) -> None:
        self.target = CHUNK if self.playing else 0
        for side, cfg in zip(self.sides, self.cfgs):
            kw = {"threads": self.threads or 1} if self.run_class is not LiveRun else {}
            side.run = self.run_class(cfg, start_paused=False, **kw)
            side.run.set_limit(self.target)
            side.run.start()
        self.timer.start(33)

    def iterations(self) -> list[int]:
        return [s.snap.iteration if s.snap is not None else 0 for s in self.sides]

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self.act_play.setText("❚❚ Pause" if self.playing else "▶ Play")

    def step(self) -> None:
        """One more iteration for both (once both have reached the current limit)."""
        self.playing = False
        self.act_play.setText("▶ Play")
        if min(self.iterations()) >= self.target:
            self.target += 1
            for s in self.sides:
                s.run.set_limit(self.target)

    def refresh(self) -> None:
        for s in self.sides:
            if s.run is not None:
                self._refresh_side(s)
        its = self.iterations()
        if self.playing and all(s.snap is not None and s.snap.state == "running" for s in self.sides) \
                and min(its) >= self.target:
            self.target += CHUNK
            for s in self.sides:
                s.run.set_limit(self.target)
        self.sync_label.setText(f"lockstep: A at {its[0]:,}, B at {its[1]:,} (limit {self.target:,})")

    def _refresh_side(self, s: Side) -> None:
        run = s.run
        for ev in run.drain_events():
            if ev.kind == "metrics" and "modes_covered" in (ev.data or {}):
                s.modes = (ev.data["modes_covered"], ev.data["n_modes"])
            elif ev.kind in ("error", "diverged"):
                s.error = ev.message
        snap = run.latest()
        if snap is None:
            return
        if snap.static is not None and s.static_run != run.run_id:
            s.static_run = run.run_id
            s.snap = snap
            for p in s.panels:
                applies = p.applies(snap.static)
                p.set_static(snap.static if applies else None)
                p.setVisible(applies)
            run.set_views(s.views())
        stats = run.drain_stats()
        if s.static_run == run.run_id:
            s.losses.add_stats(stats)
        if snap is s.snap and s.snap is not None and s.snap.views_iteration >= 0:
            s.losses.show_snapshot(snap)
            return
        s.snap = snap
        text = f"iteration {snap.iteration:,}"
        if s.modes is not None:
            text += f"  ·  modes covered {s.modes[0]} of {s.modes[1]}"
        if s.error:
            text += f"  ·  {s.error}"
        s.status.setText(text)
        s.status.setStyleSheet(f"color: {theme.ERROR};" if s.error else "")
        for p in s.panels:
            if p.isVisible():
                p.show_snapshot(snap)

    def shutdown(self, timeout: float = 1.5) -> None:
        self.timer.stop()
        deadline = time.perf_counter() + timeout
        for s in self.sides:
            if s.run is not None:
                s.run.stop(timeout=0)
        for s in self.sides:
            if s.run is not None:
                s.run.stop(timeout=max(0.0, deadline - time.perf_counter()))

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        self.shutdown()
        ev.accept()
