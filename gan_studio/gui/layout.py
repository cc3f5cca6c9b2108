"""The arrangement of the studio's panels: two rows of splitters (field | samples | latent above,
losses | D histogram | evaluation below), which panels apply to the run shown, and the state of the
arrangement and of each panel saved in and restored from the settings file.

The grid reflows to the space it has (:meth:`PanelLayout.reflow`): where three columns would be narrower
than :data:`COLUMN_MIN`, the lower row becomes two columns (the losses above the D histogram, beside the
evaluation), so the window never needs to be wider than the screen. Presentation mode may narrow the panels shown to a
``focus`` (what the preset is about). Which panels are shown and the splitters' sizes are kept per screen
size as well as for all screens."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.views.viewspec import D_HIST, EVALUATION, LOSSES, PANEL_KEYS
from .panels import DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel

TOP = PANEL_KEYS[:3]  # field, samples, latent
BOTTOM = PANEL_KEYS[3:]  # losses, D histogram, evaluation
#: below this width a column of the panel grid is too narrow: the lower row reflows to two columns
COLUMN_MIN = 250


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
        # the lower row's first two panels, one above the other, when it reflows to two columns (then the
        # first column of ``bottom``)
        self.bottom_row = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.bottom_row.setObjectName("bottom-row")
        for s in (self.top, self.bottom, self, self.bottom_row):
            s.setChildrenCollapsible(False)
        self.columns = 3
        self.focus: frozenset[str] | None = None  # presentation: only these panels (None: all that apply)
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
                p.setVisible(self._shown(p))
                self.actions[p.key].setEnabled(applies or p.key == "losses")
        self._sync_rows()

    def _shown(self, panel) -> bool:
        """Whether ``panel`` is to be shown now: it applies (the losses always do), the user has not hidden
        it, and it is in the presentation's focus (when there is one)."""
        applies = self.static is None or panel.key == "losses" or self.applies(panel)
        return applies and self.actions[panel.key].isChecked() and (self.focus is None or panel.key in self.focus)

    def _toggled(self, panel) -> None:
        panel.setVisible(self._shown(panel))
        self._sync_rows()
        self.visibilityChanged.emit()

    def set_focus(self, keys) -> None:
        """Show only these panels (of those that apply and are not hidden by the user), the upper row's
        (the field or the samples: what the data look like) on the left at full height and the others
        one above the other on the right; None: all again, in the grid."""
        self.focus = None if keys is None else frozenset(keys)
        Qt = QtCore.Qt.Orientation
        self.setOrientation(Qt.Vertical if keys is None else Qt.Horizontal)
        self.bottom.setOrientation(Qt.Horizontal if keys is None else Qt.Vertical)
        if self.static is not None:
            for p in self:
                p.setVisible(self._shown(p))
        self._sync_rows()
        if keys is not None:
            total = sum(self.sizes()) or self.width()
            self.setSizes([total * 3 // 5, total * 2 // 5])
            # on the right, the curves get the height; the evaluation's big numbers and alarm need little
            parts = [self.bottom.widget(i) for i in range(self.bottom.count())]
            tall = sum(self.bottom.sizes()) or self.height()
            weights = [0 if w.isHidden() else (2 if w is self.panels["evaluation"] else 3) for w in parts]
            if sum(weights):
                self.bottom.setSizes([tall * wt // sum(weights) for wt in weights])
        self.visibilityChanged.emit()

    # ---------------------------------------------------------------------------------- reflow
    def room(self) -> int:
        """The width this grid has, less what its window sticks out past the screen's edge: a window held
        wider than its screen by the grid's own minimum must still reflow."""
        win, screen = self.window(), self.screen()
        over = win.frameGeometry().width() - screen.availableGeometry().width() if screen is not None else 0
        return self.width() - max(0, over)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        if self.columns_for(self.room()) != self.columns:  # after this resize, not inside it
            QtCore.QTimer.singleShot(0, lambda: self.reflow(self.room()))

    def columns_for(self, width: int) -> int:
        """3 when three columns of :data:`COLUMN_MIN` fit in ``width``, else 2."""
        return 3 if width >= 3 * COLUMN_MIN else 2

    def reflow(self, width: int) -> bool:
        """Arrange the grid for ``width`` (the room the window can give it on its screen); True if it changed."""
        n = self.columns_for(width)
        if n == self.columns:
            return False
        self.columns = n
        P = self.panels
        if n == 2:
            self.bottom_row.insertWidget(0, P[LOSSES])
            self.bottom_row.insertWidget(1, P[D_HIST])
            self.bottom.insertWidget(0, self.bottom_row)
            self.bottom.insertWidget(1, P[EVALUATION])
        else:
            for i, key in enumerate(BOTTOM):
                self.bottom.insertWidget(i, P[key])
            self.bottom_row.setParent(None)
        if self.static is not None:
            for p in self:
                p.setVisible(self._shown(p))
        self._sync_rows()
        self.share_rows()
        return True  # (the window, held wider than its screen by the old arrangement, refits: window.py)

    def share_rows(self) -> None:
        """The upper and the lower part's heights: the lower holds one row of panels, or two (the losses
        above the D histogram)."""
        total = sum(self.sizes()) or self.height()
        self.setSizes([total * 2 // 5, total * 3 // 5] if self.columns == 2 else [total * 3 // 5, total * 2 // 5])



    def _sync_rows(self) -> None:
        """An inner row with nothing shown in it takes no room."""
        if self.columns == 2:
            self.bottom_row.setVisible(any(not self.panels[k].isHidden() for k in (LOSSES, D_HIST)))

    def wanted(self, window_visible: bool) -> list:
        """Panels whose views the training process should compute (before the window is shown, the ones
        that will be visible)."""
        st = self.static
        return [p for p in self if p.isVisible() or (not window_visible and st is not None and self.applies(p)
                                                      and self.actions[p.key].isChecked())]

    # ---------------------------------------------------------------------------------- settings
    def save_state(self, settings, screen: str | None = None) -> None:
        """Save the arrangement (for every screen, and for ``screen`` — e.g. "1280x720" — when given)."""
        shown = {k: a.isChecked() for k, a in self.actions.items()}
        settings.set("view/panels", shown)
        settings.set("view/panel-options", {k: p.save_state() for k, p in self.panels.items()})
        for prefix in ("window", *([f"screens/{screen}"] if screen else [])):
            for name, sp in self._splitters():
                settings.set(f"{prefix}/split-{name}", sp.saveState())
        if screen:
            settings.set(f"screens/{screen}/panels", shown)
            seen = settings.get("view/screens", [])
            if isinstance(seen, list) and screen not in seen:
                settings.set("view/screens", [*seen, screen][-16:])

    def _splitters(self):
        # the lower row's state depends on its arrangement: kept for the one it was saved in
        bottom = "bottom" if self.columns == 3 else "bottom-2"
        return (("grid", self), ("top", self.top), (bottom, self.bottom), ("bottom-row", self.bottom_row))

    def restore_state(self, settings, screen: str | None = None) -> None:
        """Put back what :meth:`save_state` saved. The panels shown are ``screen``'s own choice; a screen
        size not seen before starts with every panel (a settings file from before screens were told apart:
        its one choice)."""
        own = settings.get(f"screens/{screen}/panels", {}) if screen else {}
        seen = settings.get("view/screens", []) if screen else []
        if isinstance(own, dict) and own:
            shown = own
        elif seen:
            shown = {}
        else:
            shown = settings.get("view/panels", {})
        for k, on in (shown.items() if isinstance(shown, dict) else ()):
            if k in self.actions and isinstance(on, bool):
                self.actions[k].blockSignals(True)
                self.actions[k].setChecked(on)
                self.actions[k].blockSignals(False)
        opts = settings.get("view/panel-options", {})
        for k, p in self.panels.items():
            p.restore_state(opts.get(k, {}) if isinstance(opts, dict) else {})
        for name, sp in self._splitters():
            st = (settings.bytes(f"screens/{screen}/split-{name}") if screen else None) \
                or settings.bytes(f"window/split-{name}")
            if st is not None:
                sp.restoreState(st)
