"""Compare mode: two runs side by side — same data and seed, differing in the settings the user picks —
stepped in lockstep (each trains only up to a shared iteration limit that moves when both reach it),
with paired panels: the field or samples above, the losses below, modes covered in big type."""
from __future__ import annotations

import json
import time

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.settings import BY_NAME, setting
from ..core.train.config import LIVE_KEYS, ConfigError, TrainConfig, validate_values
from ..core.live.handles import ThreadRun
from ..core.views.viewspec import ViewRequest
from . import theme
from .panels import FieldPanel, LossesPanel, SamplesPanel
from .run_controller import RunController
from .screens import clamp_to_screen

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
    kind = setting(key).kind if key in BY_NAME else None
    if kind == "int" and isinstance(v, float) and v.is_integer():
        v = int(v)
    if kind == "bool" and isinstance(v, str):
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
        self.modes = None
        self.error = ""
        self.controller = RunController(self)
        c = self.controller
        c.staticChanged.connect(self._on_static)
        c.snapshotChanged.connect(self._on_snapshot)
        c.statsArrived.connect(self.losses.add_stats)
        c.eventArrived.connect(self._on_event)
        c.tick.connect(lambda snap: snap.views_iteration >= 0 and self.losses.show_guarded(snap))

    @property
    def run(self):
        return self.controller.handle

    @property
    def snap(self):
        return self.controller.snapshot

    def _on_static(self, snap) -> None:
        for p in self.panels:
            applies = p.applies(snap.static)
            p.set_static(snap.static if applies else None)
            p.setVisible(applies)
        self.run.set_views(self.views())

    def _on_event(self, ev) -> None:
        if ev.kind == "metrics" and "modes_covered" in (ev.data or {}):
            self.modes = (ev.data["modes_covered"], ev.data["n_modes"])
        elif ev.kind in ("error", "diverged"):
            self.error = ev.message

    def _on_snapshot(self, snap) -> None:
        text = f"iteration {snap.iteration:,}"
        if self.modes is not None:
            text += f"  ·  modes covered {self.modes[0]} of {self.modes[1]}"
        if self.error:
            text += f"  ·  {self.error}"
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {theme.ERROR};" if self.error else "")
        for p in self.panels:
            if p.isVisible():
                p.show_guarded(snap)  # data a panel cannot draw leave it empty, never crash the window

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
        return self.controller.static


class CompareWindow(QtWidgets.QMainWindow):
    def __init__(self, base: TrainConfig, a: dict, b: dict, autoplay: bool = True, run_class=ThreadRun,
                 threads: int | None = None, identical_ok: bool = False) -> None:
        super().__init__()
        theme.configure()
        for ch in (a, b):
            bad = [k for k in ch if k not in LIVE_KEYS]
            if bad:
                raise ConfigError(f"compare mode sets apart settings a run can change ({', '.join(COMPARE_KEYS)}); "
                                  f"not {', '.join(bad)}")
        self.cfgs = (base.replace(**a) if a else base, base.replace(**b) if b else base)
        if self.cfgs[0].to_dict() == self.cfgs[1].to_dict() and not identical_ok:  # (a branch may be unchanged)
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
        self.sides[0].controller.tick.connect(lambda _snap: self.keep_in_step())  # one refresh path

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
            kw = {"threads": self.threads or 1} if self.run_class is not ThreadRun else {}
            run = self.run_class(cfg, start_paused=False, **kw)
            run.set_limit(self.target)
            side.controller.set_handle(run)

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

    def keep_in_step(self) -> None:
        """Lockstep: once both runs reach the shared limit, move it on (while playing)."""
        its = self.iterations()
        if self.playing and all(s.snap is not None and s.snap.state == "running" for s in self.sides) \
                and min(its) >= self.target:
            self.target += CHUNK
            for s in self.sides:
                s.run.set_limit(self.target)
        self.sync_label.setText(f"lockstep: A at {its[0]:,}, B at {its[1]:,} (limit {self.target:,})")

    def shutdown(self, timeout: float = 1.5) -> None:
        deadline = time.perf_counter() + timeout
        for s in self.sides:
            s.controller.stop_all(max(0.0, deadline - time.perf_counter()))

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        self.shutdown()
        ev.accept()


def open_compare(window, changes: dict | None = None, autoplay: bool = True):
    """From the studio: two runs side by side, its configuration (A) and A with ``changes`` (B)."""
    base = window.current_config()
    if changes is None:
        preset = window.runs.presets.get(window.runs.preset_name)
        dlg = CompareDialog(base, getattr(preset, "compare", None) or {}, window)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        a, b = dlg.result_changes()
    else:
        a, b = changes.get("a", {}), changes.get("b", {})
    try:
        w = CompareWindow(base, a, b, autoplay=autoplay, run_class=window.runs.run_class)
    except ConfigError as exc:
        window.fail(str(exc))
        return None
    window.compare_windows = [c for c in window.compare_windows if c.isVisible()] + [w]
    w.resize(window.size())
    clamp_to_screen(w)  # (the studio's own size, but never past its screen's edge)
    w.show()
    w.start()
    return w
