"""Presentation mode and full screen: large type, thick lines, high contrast, readable from the back of a
hall; the keys a presenter uses are the action table's ``presentation`` entries."""
from __future__ import annotations

from PySide6 import QtCore

from . import theme


class Presenter(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.on = False
        self._was_full = False

    def toggle(self) -> None:
        self.set(not self.on)

    def leave(self) -> None:
        if self.on:
            self.set(False)
        elif self.w.isFullScreen():
            self.toggle_full_screen()

    def toggle_full_screen(self) -> None:
        w = self.w
        w.showNormal() if w.isFullScreen() else w.showFullScreen()
        w.acts["full_screen"].setChecked(w.isFullScreen())

    def set(self, on: bool) -> None:
        w = self.w
        self.on = on
        w.acts["present"].setChecked(on)
        theme.set_presentation(w, on)
        # high contrast: pure black text on white (the light theme's greys fade on a projector)
        w.setStyleSheet("QLabel, QCheckBox, QToolButton, QMenuBar { color: black; }" if on else "")
        # at 1.6× type the small print would wrap over the plots: keep headings, big numbers and curves
        for p in w.layout_:
            p.subtitle.setVisible(not on)
        w.evaluation.tabs.setVisible(not on)
        w.preset_summary.setVisible(not on)
        w.narrator.presenting(on)  # the Algorithm 1 panel is part of the lecture
        if on:
            self._was_full = w.isFullScreen()
            w.controls_dock.setVisible(False)
            w.showFullScreen()
        else:
            w.controls_dock.setVisible(True)
            if not self._was_full:
                w.showNormal()
        w.acts["full_screen"].setChecked(w.isFullScreen())
