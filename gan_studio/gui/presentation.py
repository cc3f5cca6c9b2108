"""Presentation mode and full screen: large type, thick lines, high contrast, readable from the back of a
hall; the keys a presenter uses are the action table's ``presentation`` entries.

Presentation fills exactly the screen the window is on, sizes its type from that screen
(:func:`theme.present_scales`) and shows what the preset is about (:func:`focus_for`: for the Gaussian
mixtures — the collapse presets and their remedies — the toy field, the losses and the collapse alarm),
so the panels shown get the room the large type needs on a 1280×720 projector too."""
from __future__ import annotations

from PySide6 import QtCore

from ..core.views.viewspec import D_HIST, EVALUATION, FIELD, LOSSES
from . import theme

#: the panels a preset's lecture is about, where the rule by data below does not fit it
PRESENT_FOCUS = {
    "saturating-vs-nonsaturating": (FIELD, LOSSES, D_HIST),  # D rejects the fakes: G's loss goes flat
    "figure1": (FIELD, LOSSES, EVALUATION),  # the paper's Figure 1, and JS(p_data ‖ p_g) falling
}


def focus_for(preset: str | None, static) -> tuple[str, ...] | None:
    """The panels presentation mode shows for ``preset`` with data ``static`` (None: every panel that
    applies). Gaussian mixtures: the field, the losses and the evaluation with the mode-collapse alarm;
    images: the samples, the latent walk and the losses."""
    if preset in PRESENT_FOCUS:
        return PRESENT_FOCUS[preset]
    if static is None:
        return None
    if getattr(static, "centers", None) is not None:
        return ("field", "losses", "evaluation")
    if getattr(static, "kind", None) == "images":
        return ("samples", "latent", "losses")
    return None


class Presenter(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.on = False
        self._was_full = False
        self.scales = (theme.PRESENT_FONT_SCALE, theme.PRESENT_LINE_SCALE)
        self._splits: list = []
        self._normal = None
        self._doctor_shown = False
        window.controller.staticChanged.connect(lambda _snap: self.on and self._focus())

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

    def _focus(self) -> None:
        w = self.w
        w.layout_.set_focus(focus_for(w.runs.preset_name, w.controller.static) if self.on else None)

    def set(self, on: bool) -> None:
        w = self.w
        if on and not self.on:
            self.scales = theme.present_scales(w.screen())
            self._was_full, self._normal = w.isFullScreen(), w.geometry()
            # the panels' sizes, given back as they were when presentation ends
            L = w.layout_
            self._splits = [(sp, sp.saveState()) for sp in (L, L.top, L.bottom, L.bottom_row)]
        self.on = on
        w.acts["present"].setChecked(on)
        theme.set_presentation(w, on, self.scales)
        # high contrast: pure black text on white (the light theme's greys fade on a projector)
        w.setStyleSheet("QLabel, QCheckBox, QToolButton, QMenuBar { color: black; }" if on else "")
        # at large type the small print would wrap over the plots: keep headings, big numbers and curves
        for p in w.layout_:
            p.subtitle.setVisible(not on)
        w.evaluation.tabs.setVisible(not on)
        # (a tool bar shows and hides its widgets through their actions)
        for a in w.toolbar.actions():
            if w.toolbar.widgetForAction(a) is w.preset_summary:
                a.setVisible(not on)
        self._focus()
        w.narrator.presenting(on)  # the Algorithm 1 panel, when narrating, is part of the lecture
        doctor = getattr(w, "doctor", None)
        if on:
            # the screen is the preset's panels': the controls and the doctor's dock step aside
            self._doctor_shown = doctor is not None and not doctor.dock.isHidden()
            w.controls_dock.setVisible(False)
            if doctor is not None:
                doctor.dock.setVisible(False)
            w.showFullScreen()  # exactly the screen it is on (its minimum never exceeds it: tests/test_screens.py)
        else:
            w.controls_dock.setVisible(True)
            if doctor is not None and self._doctor_shown:
                doctor.dock.setVisible(True)
            if not self._was_full:
                w.showNormal()
                if self._normal is not None:
                    w.setGeometry(self._normal)
            for sp, state in self._splits:
                sp.restoreState(state)
            self._splits = []
            w.layout_.share_rows()
        w.acts["full_screen"].setChecked(w.isFullScreen())
