"""The panel protocol: created once, fed snapshots at display rate, hidden when it does not apply."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..flow import FlowLayout


class ElidedLabel(QtWidgets.QLabel):
    """A one-line label that never widens its panel: plain text is cut short with "…" where the room
    ends (the whole text is its tooltip); rich text (a colour key) is cut at the edge."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(20, super().minimumSizeHint().height())

    def paintEvent(self, ev) -> None:
        if QtGui.Qt.mightBeRichText(self.text()):
            return super().paintEvent(ev)
        p = QtGui.QPainter(self)
        r = self.contentsRect()
        p.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        p.drawText(r, int(self.alignment()), self.fontMetrics().elidedText(self.text(), QtCore.Qt.TextElideMode.ElideRight,
                                                                           r.width()))


class WrapLabel(QtWidgets.QLabel):
    """A label that wraps its lines to the panel's width and asks for the height they then need (a plain
    wrapped label's minimum height ignores the wrapping, so a short panel would draw it over the plot)."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setMinimumWidth(60)

    def _fit(self) -> None:
        h = 0
        if self.text():
            # (QLabel's height for a width never goes below its minimum height: measured with the old minimum
            # in place, the height needed at a narrower width or a larger font -- presentation mode -- stuck,
            # and a 1280×720 window no longer fitted its screen after a presentation)
            self.setMinimumHeight(0)
            h = max(0, self.heightForWidth(max(1, self.width())))
        if h != self.minimumHeight():
            self.setMinimumHeight(h)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._fit()

    def changeEvent(self, ev) -> None:
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.FontChange:  # (presentation mode's type)
            self._fit()


class Panel(QtWidgets.QFrame):
    #: a user changed an option that needs different views (e.g. fresh z): the window re-sends its request
    optionsChanged = QtCore.Signal()
    #: the user asked to save this panel as a picture: "png" or "svg"
    exportRequested = QtCore.Signal(str)
    title = "Panel"
    key = "panel"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(f"panel-{self.key}")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(2)
        head = QtWidgets.QHBoxLayout()
        self.heading = QtWidgets.QLabel(self.title)
        f = self.heading.font()
        f.setPointSize(12)
        f.setBold(True)
        self.heading.setFont(f)
        head.addWidget(self.heading)
        self.subtitle = ElidedLabel("")  # one line: cut short with "…" (whole in its tooltip) when narrow
        self.subtitle.setStyleSheet("color: #555;")
        head.addWidget(self.subtitle, 1)
        tools = QtWidgets.QWidget()  # the panel's options wrap onto more rows when it is narrow
        self.tools = FlowLayout(tools)
        head.addWidget(tools, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.export_button = QtWidgets.QToolButton()
        self.export_button.setText("⤓")
        self.export_button.setAutoRaise(True)
        self.export_button.setToolTip(f"save the {self.title.lower()} panel as a picture (PNG or SVG)")
        self.export_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(self.export_button)
        menu.addAction("Save as PNG…", lambda: self.exportRequested.emit("png"))
        menu.addAction("Save as SVG…", lambda: self.exportRequested.emit("svg"))
        self.export_button.setMenu(menu)
        head.addWidget(self.export_button)
        lay.addLayout(head)
        self.body = QtWidgets.QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.body, 1)
        self._checks: dict[str, QtWidgets.QCheckBox] = {}  # options the panel saves and restores itself
        self.static = None
        self.frames = 0  # times this panel drew new data (tests and the ui_frames figure read it)
        self.last_iteration = -1
        self._failed = None  # the snapshot this panel could not draw (not tried again)

    # -- protocol -----------------------------------------------------------------------------------
    def applies(self, static) -> bool:
        return True

    def views(self, static) -> set[str]:
        """The view names this panel needs from the training thread."""
        return set()

    def options(self) -> dict:
        """Options for the view request (merged over all panels)."""
        return {}

    def set_static(self, static) -> None:
        self.static = static
        self.frames = 0
        self.last_iteration = -1

    def show_snapshot(self, snap) -> bool:
        """Draw the snapshot's views; return True when something was redrawn."""
        return False

    def show_guarded(self, snap) -> tuple[bool, str | None]:
        """:meth:`show_snapshot` for the drawing loops: data this panel cannot draw leave it empty (never
        half-drawn: a plot item left holding bad data can crash Qt when it paints) and are not tried again.
        Returns (redrawn, None) or (False, one line for the banner)."""
        if snap is self._failed:
            return False, None
        try:
            return bool(self.show_snapshot(snap)), None
        except Exception as exc:  # noqa: BLE001 - one panel's failure must not stop the others
            self._failed = snap
            try:
                self.reset_after_error()
            except Exception:  # noqa: BLE001 - it stays empty
                pass
            self.last_iteration = snap.views_iteration
            reason = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
            return False, f"The {self.title.lower()} panel cannot draw iteration {snap.iteration:,}: {reason}"

    def reset_after_error(self) -> None:
        """Back to the empty state after data it could not draw."""
        self.set_static(self.static)

    def save_state(self) -> dict:
        """This panel's options, as plain data for the settings file."""
        return {name: cb.isChecked() for name, cb in self._checks.items()}

    def restore_state(self, state: dict) -> None:
        """Put back options saved by :meth:`save_state` (unknown or mistyped entries are ignored)."""
        if not isinstance(state, dict):
            return
        for name, cb in self._checks.items():
            if isinstance(state.get(name), bool):
                cb.blockSignals(True)
                cb.setChecked(state[name])
                cb.blockSignals(False)

    def check(self, text: str, checked: bool, tip: str = "") -> QtWidgets.QCheckBox:
        cb = QtWidgets.QCheckBox(text)
        self._checks[text] = cb
        cb.setChecked(checked)
        cb.setToolTip(tip)
        cb.toggled.connect(lambda _=None: self.optionsChanged.emit())
        self.tools.addWidget(cb)
        return cb
