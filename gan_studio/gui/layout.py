"""The arrangement of the studio's panels: two rows of splitters (field | samples | latent above,
losses | D histogram | evaluation below), which panels apply to the run shown, and the state of the
arrangement and of each panel saved in and restored from the settings file."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.views.viewspec import PANEL_KEYS
from .panels import DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel

TOP = PANEL_KEYS[:3]  # field, samples, latent
BOTTOM = PANEL_KEYS[3:]  # losses, D histogram, evaluation


class PanelLayout(QtWidgets.QSplitter):
    """The panel grid. ``panels`` by key; ``actions`` are the View menu's show/hide toggles."""

    visibilityChanged = QtCore.Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(QtCore.Qt.Orientation.Vertical, parent)
        made = [FieldPanel(), SamplesPanel(), LatentPanel(), LossesPanel(), DHistPanel(), EvaluationPanel()]
        self.panels = {p.key: p for p in made}
        self.top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.bottom = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for key in TOP:
            self.top.addWidget(self.panels[key])
        for key in BOTTOM:
            self.bottom.addWidget(self.panels[key])
        self.addWidget(self.top)
        self.addWidget(self.bottom)
        for i, f in enumerate((4, 3, 4)):  # losses, D histogram, evaluation
            self.bottom.setStretchFactor(i, f)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        for s in (self.top, self.bottom, self):
            s.setChildrenCollapsible(False)
        self.static = None
        self.replay = False
        self.actions: dict[str, QtGui.QAction] = {}
        for p in made:
            a = QtGui.QAction(p.title, self, checkable=True, checked=True)
            a.toggled.connect(lambda _on, p=p: self._toggled(p))
            self.actions[p.key] = a

    def __iter__(self):
        return iter(self.panels.values())

    def applies(self, panel) -> bool:
        # a recording has no G to walk through its latent space
        return self.static is not None and panel.applies(self.static) and not (self.replay and panel.key == "latent")

    def set_static(self, static, replay: bool = False) -> None:
        """A new run's data are known (or None: no run yet): show the panels that apply, hide the others."""
        self.static, self.replay = static, replay
        for p in self:
            applies = static is not None and self.applies(p)
            if p.key == "losses":
                p.set_static(static)
            else:
                p.set_static(static if applies else None)
            if static is not None:
                p.setVisible((applies or p.key == "losses") and self.actions[p.key].isChecked())
                self.actions[p.key].setEnabled(applies or p.key == "losses")

    def _toggled(self, panel) -> None:
        panel.setVisible(self.actions[panel.key].isChecked() and (self.static is None or self.applies(panel)))
        self.visibilityChanged.emit()

    def wanted(self, window_visible: bool) -> list:
        """Panels whose views the training process should compute (before the window is shown, the ones
        that will be visible)."""
        st = self.static
        return [p for p in self if p.isVisible() or (not window_visible and st is not None and self.applies(p)
                                                      and self.actions[p.key].isChecked())]

    # ---------------------------------------------------------------------------------- settings
    def save_state(self, settings) -> None:
        settings.set("view/panels", {k: a.isChecked() for k, a in self.actions.items()})
        settings.set("view/panel-options", {k: p.save_state() for k, p in self.panels.items()})
        for name, sp in (("grid", self), ("top", self.top), ("bottom", self.bottom)):
            settings.set(f"window/split-{name}", sp.saveState())

    def restore_state(self, settings) -> None:
        shown = settings.get("view/panels", {})
        for k, on in (shown.items() if isinstance(shown, dict) else ()):
            if k in self.actions and isinstance(on, bool):
                self.actions[k].blockSignals(True)
                self.actions[k].setChecked(on)
                self.actions[k].blockSignals(False)
        opts = settings.get("view/panel-options", {})
        for k, p in self.panels.items():
            p.restore_state(opts.get(k, {}) if isinstance(opts, dict) else {})
        for name, sp in (("grid", self), ("top", self.top), ("bottom", self.bottom)):
            st = settings.bytes(f"window/split-{name}")
            if st is not None:
                sp.restoreState(st)
