"""The replay bar: a step slider over a recorded run's snapshots, with play, step and follow."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .run_steering import SteerStrip


class ReplayBar(QtWidgets.QFrame):
    seek = QtCore.Signal(int)  # a snapshot position
    closeRequested = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("replay-bar")
        self.setStyleSheet("#replay-bar { background: #f3e8ff; border: 1px solid #c4b5fd; border-radius: 4px; }")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        f = self.font()
        f.setPointSize(12)
        self.setFont(f)
        self.title = QtWidgets.QLabel("Replay")
        self.title.setStyleSheet("font-weight: bold; color: #5b21b6;")
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("play the recording (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.back = QtWidgets.QToolButton()
        self.back.setText("◀")
        self.back.setToolTip("previous snapshot (←)")
        self.back.clicked.connect(lambda: self.step(-1))
        self.fwd = QtWidgets.QToolButton()
        self.fwd.setText("▶|")
        self.fwd.setToolTip("next snapshot (→)")
        self.fwd.clicked.connect(lambda: self.step(1))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setToolTip("scrub through the recorded run")
        self.slider.valueChanged.connect(self.seek.emit)
        self.label = QtWidgets.QLabel("")
        self.label.setMinimumWidth(280)
        self.follow = QtWidgets.QCheckBox("follow")
        self.follow.setToolTip("keep reading what a running training adds to this folder")
        self.close_button = QtWidgets.QPushButton("Back to live training")
        self.close_button.clicked.connect(self.closeRequested.emit)
        for w in (self.title, self.back, self.play_button, self.fwd):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        self.steer = SteerStrip()  # a followed live run: pause, resume and changes through its control file
        self.follow.toggled.connect(self.steer.set_following)
        for w in (self.label, self.follow, self.steer, self.close_button):
            lay.addWidget(w)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(100)  # 10 snapshots a second
        self.timer.timeout.connect(self._tick)
        self.hide()

    def set_run(self, title: str, n: int, position: int, follow: bool) -> None:
        self.title.setText(title)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(position)
        self.slider.blockSignals(False)
        self.follow.setChecked(follow)
        self.show()

    def set_count(self, n: int, position: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(position)
        self.slider.blockSignals(False)

    def set_label(self, text: str) -> None:
        self.label.setText(text)

    def step(self, delta: int) -> None:
        self.slider.setValue(self.slider.value() + delta)

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
        else:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
        self.play_button.setText("❚❚" if self.timer.isActive() else "▶")

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            if not self.follow.isChecked():
                self.toggle_play()
            return
        self.step(1)

    def hideEvent(self, ev) -> None:
        self.timer.stop()
        self.play_button.setText("▶")
        super().hideEvent(ev)
