"""Small widgets of the studio window: the error banner, the status bar, the UI stall monitor."""
from __future__ import annotations

import collections
import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme

STATE_COLORS = {"replay": "#7c3aed", "running": theme.OK, "paused": "#1d4ed8", "loading": "#6b7280", "diverged": theme.WARN,
                "error": theme.ERROR, "stopped": "#6b7280"}


class StallMonitor(QtCore.QObject):
    """Measures how late the GUI event loop runs a 10 ms timer: its stalls, in ms."""

    def __init__(self, parent=None, interval_ms: int = 10, keep: int = 20000) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.samples: collections.deque = collections.deque(maxlen=keep)
        self.active = False
        self._last = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start(interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None and self.active:
            self.samples.append(max(0.0, (now - self._last - self.interval) * 1000))
        self._last = now

    def p99(self) -> float:
        return float(np.percentile(np.asarray(self.samples), 99)) if self.samples else 0.0

    def stop(self) -> None:
        self._timer.stop()


class Banner(QtWidgets.QFrame):
    """Errors and divergence, in the window (never only on a terminal)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.label.font()
        f.setPointSize(12)
        self.label.setFont(f)
        lay.addWidget(self.label, 1)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setToolTip("dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        color = {"error": theme.ERROR, "warn": theme.WARN, "info": "#1d4ed8"}[level]
        self.setStyleSheet(f"Banner {{ background: {color}22; border: 2px solid {color}; border-radius: 4px; }}"
                           f"QLabel {{ color: {color}; }}")
        self.label.setText(text)
        self.level = level
        self.show()


class StatusBar(QtWidgets.QStatusBar):
    """State, iteration, speed, device and seed in large type (readable from the back of a hall)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        f = self.font()
        f.setPointSize(13)
        self.st_state = QtWidgets.QLabel("● loading")
        self.st_iter = QtWidgets.QLabel("iteration 0")
        self.st_rate = QtWidgets.QLabel("— it/s")
        self.st_device = QtWidgets.QLabel("")
        self.st_seed = QtWidgets.QLabel("")
        self.st_msg = QtWidgets.QLabel("")
        self.st_msg.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        for w in (self.st_state, self.st_iter, self.st_rate, self.st_device, self.st_seed, self.st_msg):
            w.setFont(f)
            w.setContentsMargins(8, 0, 12, 0)
        bold = QtGui.QFont(f)
        bold.setBold(True)
        self.st_state.setFont(bold)
        self.st_iter.setFont(bold)
        self.st_iter.setMinimumWidth(190)
        self.st_rate.setMinimumWidth(110)
        for w in (self.st_state, self.st_iter, self.st_rate, self.st_device, self.st_seed):
            self.addWidget(w)
        self.addWidget(self.st_msg, 1)

    def show_state(self, state: str, message: str, snap=None) -> None:
        color = STATE_COLORS.get(state, "#333")
        self.st_state.setText(f"● {state}")
        self.st_state.setStyleSheet(f"color: {color};")
        if snap is not None:
            self.st_iter.setText(f"iteration {snap.iteration:,}")
            self.st_rate.setText("recorded" if state == "replay" else
                                 f"{snap.it_per_s:,.0f} it/s" if state == "running" else "— it/s")
            self.st_device.setText(snap.device or "")
            self.st_seed.setText(f"seed {snap.config.get('seed', 0)}")
        self.st_msg.setText(message if state in ("diverged", "error", "replay") else "")
        self.st_msg.setStyleSheet(f"color: {color};")

    def note(self, text: str, ms: int = 6000) -> None:
        """A message that stays a while, and its short form beside the figures."""
        self.showMessage(text, ms)
