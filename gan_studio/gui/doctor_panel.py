"""The doctor panel: what the GAN doctor says about the run shown, newest first, with its remedies.

* :class:`DoctorPanel` (a dock's widget) lists the findings as cards: a severity mark in its colour, the title
  and the iterations, the plain sentence, and one button per remedy ("Apply: unroll = 5"). "Healthy" is said
  plainly too, and before the doctor has seen enough, that it is too early to tell.
* :class:`DoctorPart` (owned by the window) feeds it: ``finding`` events of a live run (see
  :mod:`gan_studio.core.live.doctoring`), or for a recording the ``finding`` lines of its run folder up to the
  slider's iteration. A remedy goes through :meth:`RunManager.change_live` (recorded as any change). Clicking
  a card highlights its evidence on the panels (:mod:`.doctor_evidence`), and a warning or worse that
  appears while the window is not in front is a desktop notification (:class:`~.doctor_evidence.Notifier`).
"""
from __future__ import annotations

import html
import logging

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.columns import RunEvent
from ..core.doctor.finding import Finding
from ..core.doctor.rules import SEVERITIES
from .doctor_evidence import Evidence, Notifier

log = logging.getLogger(__name__)

#: severity → (mark, colour)
MARKS = {"ok": ("✔", "#15803d"), "info": ("ℹ", "#1d4ed8"), "warning": ("⚠", "#b45309"),
         "critical": ("✖", "#b91c1c")}


def change_text(change: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in change.items())


def span_text(d: dict) -> str:
    its = d.get("evidence", {}).get("iterations")
    if d["severity"] == "ok" and isinstance(its, list) and len(its) == 2:
        return f"iterations {its[0]:,}–{its[1]:,}"
    if not d.get("active", True):
        until = d.get("until")
        return f"iterations {d['since']:,}–{until:,} · no longer seen" if until is not None else "no longer seen"
    return f"since iteration {d['since']:,}"


class FindingCard(QtWidgets.QFrame):
    """One finding: clicked to select it (its evidence is highlighted); its remedy buttons apply live changes."""

    clicked = QtCore.Signal(str)
    applyRequested = QtCore.Signal(dict)

    def __init__(self, d: dict, can_apply: bool, parent=None) -> None:
        super().__init__(parent)
        self.name = d["name"]
        self.finding = d
        mark, color = MARKS.get(d["severity"], MARKS["info"])
        self.color = color if d.get("active", True) else "#9ca3af"
        self.setObjectName("finding-card")
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(4)
        title, span = html.escape(d["title"], quote=False), html.escape(span_text(d), quote=False)
        self.head = QtWidgets.QLabel(f"<span style='color:{self.color}; font-size:16pt'>{mark}</span>&nbsp; "
                                     f"<b>{title}</b> <span style='color:#555'>· {span}</span>")
        self.head.setWordWrap(True)
        self.text = QtWidgets.QLabel(html.escape(d["sentence"], quote=False))
        self.text.setWordWrap(True)
        for lab, pt in ((self.head, 13), (self.text, 12)):
            f = lab.font()
            f.setPointSize(pt)
            lab.setFont(f)
            lab.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        if not d.get("active", True):
            self.text.setStyleSheet("color: #6b7280;")
        lay.addWidget(self.head)
        lay.addWidget(self.text)
        self.buttons: list[QtWidgets.QPushButton] = []
        for r in d.get("remedies", []) if d.get("active", True) else []:
            b = QtWidgets.QPushButton(f"Apply: {change_text(r['change'])}")
            f = b.font()
            f.setPointSize(12)
            b.setFont(f)
            b.setToolTip(r.get("why", "") if can_apply else "a recorded run cannot change; start a live run")
            b.setEnabled(can_apply)
            b.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _=False, c=dict(r["change"]): self.applyRequested.emit(c))
            lay.addWidget(b, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
            self.buttons.append(b)
        self.set_selected(False)

    def set_selected(self, on: bool) -> None:
        self.selected = on
        bg = "#fff7ed" if on and self.finding["severity"] in ("warning", "critical") else "#f0fdf4" if on else "white"
        self.setStyleSheet(f"#finding-card {{ background: {bg}; border: {3 if on else 1}px solid "
                           f"{self.color if on else '#d1d5db'}; border-left: 6px solid {self.color}; "
                           "border-radius: 4px; }")

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:
        self.clicked.emit(self.name)
        super().mousePressEvent(ev)


class DoctorPanel(QtWidgets.QWidget):
    """The findings, newest first; ``selected(name)`` when one is clicked ("" when none)."""

    selected = QtCore.Signal(str)
    picked = QtCore.Signal(str)  # the user clicked a finding
    applyRequested = QtCore.Signal(dict)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("doctor-panel")
        self.setMinimumWidth(300)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        f = self.summary.font()
        f.setPointSize(12)
        self.summary.setFont(f)
        lay.addWidget(self.summary)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QtWidgets.QWidget()
        self.list = QtWidgets.QVBoxLayout(inner)
        self.list.setContentsMargins(0, 0, 0, 0)
        self.list.setSpacing(6)
        self.list.addStretch(1)
        self.scroll.setWidget(inner)
        lay.addWidget(self.scroll, 1)
        self.cards: list[FindingCard] = []
        self.current = ""
        self._shown = None
        self.show_findings([], "The doctor is waiting for the run to start.", False)

    def show_findings(self, findings: list[dict], summary: str, can_apply: bool) -> None:
        """``findings``: newest first. Cards are rebuilt only when something changed (findings are rare)."""
        key = ([(d["name"], d.get("active"), d.get("sentence"), d.get("until")) for d in findings], summary, can_apply)
        if key == self._shown:
            return
        self._shown = key
        self.summary.setText(summary)
        for c in self.cards:
            self.list.removeWidget(c)
            c.deleteLater()
        self.cards = []
        for i, d in enumerate(findings):
            c = FindingCard(d, can_apply)
            c.clicked.connect(self._clicked)
            c.applyRequested.connect(self.applyRequested)
            self.list.insertWidget(i, c)
            self.cards.append(c)
        if self.current and not any(c.name == self.current for c in self.cards):
            self.current = ""
            self.selected.emit("")
        for c in self.cards:
            c.set_selected(c.name == self.current)

    def _clicked(self, name: str) -> None:
        self.picked.emit(name)
        self.select(name)

    def select(self, name: str) -> None:
        self.current = name
        for c in self.cards:
            c.set_selected(c.name == name)
            if c.name == name:  # its sentence and remedies in view
                QtCore.QTimer.singleShot(30, lambda c=c: c in self.cards and self.scroll.ensureWidgetVisible(c, 0, 8))
        self.selected.emit(name)

    def card(self, name: str) -> FindingCard | None:
        return next((c for c in self.cards if c.name == name), None)


class DoctorPart(QtCore.QObject):
    """The doctor's part of the window: the dock, what it lists, highlights and notifications."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.panel = DoctorPanel()
        self.dock = QtWidgets.QDockWidget("Doctor", window)
        self.dock.setObjectName("doctor-dock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable |
                              QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        # below the controls: the window gets no wider (it is already as wide as most screens)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        window.splitDockWidget(window.controls_dock, self.dock, QtCore.Qt.Orientation.Vertical)
        window.resizeDocks([window.controls_dock, self.dock], [480, 420], QtCore.Qt.Orientation.Vertical)
        self.dock.visibilityChanged.connect(self._sync_action)
        self.evidence = Evidence(window)
        self.notifier = Notifier(window)
        self.findings: dict[str, dict] = {}  # problems by name (their latest state)
        self.order: list[str] = []  # names, newest first
        self.healthy: dict | None = None
        self.user_picked = False  # the user chose a finding: do not move the highlight to newer ones
        self._replay_key = None
        c = window.controller
        c.staticChanged.connect(self.clear)
        c.eventArrived.connect(self.on_event)
        c.snapshotChanged.connect(self.on_snapshot)
        self.panel.selected.connect(self._selected)
        self.panel.picked.connect(lambda _name: setattr(self, "user_picked", True))
        self.panel.applyRequested.connect(self.apply)

    # -------------------------------------------------------------------------------------- the dock
    def toggle(self) -> None:
        """View → Doctor."""
        self.dock.setVisible(self.w.acts["doctor"].isChecked())

    def bind(self) -> None:
        """The window's actions exist: View → Doctor shows whether the dock is shown."""
        self._sync_action()

    def _sync_action(self, _visible=None) -> None:
        a = getattr(self.w, "acts", {}).get("doctor")
        if a is not None:
            a.setChecked(not self.dock.isHidden())

    # -------------------------------------------------------------------------------------- findings
    def clear(self, _snap=None) -> None:
        """A new run or recording: forget the last one's findings."""
        self.findings, self.order, self.healthy = {}, [], None
        self.user_picked, self._replay_key = False, None
        self.notifier.reset()
        self.panel.current = ""
        self.show_evidence(None)
        self._sync_action()
        self.refresh()

    def on_event(self, ev) -> None:
        if ev.kind == "rewound" and not self.w.controller.is_replay:
            self.clear()  # the run went back: the doctor in the worker starts afresh from there too
            return
        if ev.kind != "finding" or self.w.controller.is_replay:
            return
        try:
            d = self.take(ev.data, ev.data.get("status") if isinstance(ev.data, dict) else None)
        except ValueError as exc:
            log.debug("a finding event that is no finding: %s", exc)
            return
        self.notifier.consider(d)
        self.refresh()

    def take(self, data, status: str | None = None) -> dict:
        """Add or update one finding (a dict as ``Finding.to_dict()``); ValueError if it is not one."""
        d = Finding.from_dict(data).to_dict()
        if d["severity"] == "ok":
            d["status"] = "healthy"
            self.healthy = d if d["active"] else None
            return d
        d["status"] = status or ("new" if d["active"] else "cleared")
        if d["active"]:
            self.healthy = None
        if d["name"] not in self.findings or d["status"] in ("new", "back"):
            self.order = [d["name"]] + [n for n in self.order if n != d["name"]]
        self.findings[d["name"]] = d
        return d

    def listed(self) -> list[dict]:
        """What the panel lists, newest first (the healthy finding on top while no problem holds)."""
        out = [self.findings[n] for n in self.order]
        if self.healthy is not None and not any(d["active"] for d in out):
            out.insert(0, self.healthy)
        return out

    def refresh(self) -> None:
        c = self.w.controller
        listed = self.listed()
        active = [d for d in listed if d["severity"] != "ok" and d["active"]]
        it = c.iteration
        upto = f" up to iteration {it:,}" if c.is_replay else ""
        if active:
            summary = (f"<b>{len(active)} problem{'s' if len(active) > 1 else ''}</b>{upto}, newest first. "
                       "Click one to see its evidence on the panels.")
        elif self.healthy is not None:
            summary = "<b style='color:#15803d'>✔ Healthy</b>: no problem holds."
        elif c.is_replay:
            summary = f"No problem recorded up to iteration {it:,}."
        elif c.handle is None:
            summary = "The doctor is waiting for the run to start."
        else:
            summary = "Too early to tell: the doctor needs a few hundred iterations before it says anything."
        self.panel.show_findings(listed, summary, can_apply=not c.is_replay)
        if not self.user_picked:  # follow the newest problem until the user picks one
            newest = next((d["name"] for d in listed if d["severity"] != "ok" and d["active"]), "")
            if newest != self.panel.current:
                self.panel.select(newest)
        elif self.panel.current:
            self.show_evidence(self.findings.get(self.panel.current))

    def select(self, name: str) -> None:
        """Select a finding as the user does (tests, scripts): its evidence is highlighted."""
        self.user_picked = True
        self.panel.select(name)

    def _selected(self, name: str) -> None:
        d = self.findings.get(name) or (self.healthy if name == "healthy" else None)
        self.show_evidence(d)

    def show_evidence(self, d: dict | None) -> None:
        try:
            self.evidence.show(d, self.w.controller.snapshot)
        except Exception as exc:  # noqa: BLE001 - a highlight that cannot be drawn must not stop the window
            log.debug("highlighting the evidence failed", exc_info=True)
            self.w.status.showMessage(f"doctor: cannot show this finding's evidence: {exc}", 6000)

    # -------------------------------------------------------------------------------------- replay
    def on_snapshot(self, snap) -> None:
        """A recording: the findings its run folder recorded up to the slider's iteration."""
        c = self.w.controller
        if not c.is_replay:
            self.evidence.follow(snap)
            return
        folder = getattr(c.handle, "folder", None)
        if folder is None:
            return
        key = (snap.iteration, len(folder.metrics))
        if key == self._replay_key:
            return
        self._replay_key = key
        self.findings, self.order, self.healthy = {}, [], None
        for rec in folder.events():
            if rec.get("event") != RunEvent.FINDING or rec.get("iteration", 0) > snap.iteration:
                continue
            try:
                self.take(rec)
            except ValueError:
                continue  # a damaged line: the others are still shown
        self.refresh()
        self.evidence.follow(snap)

    # -------------------------------------------------------------------------------------- remedies
    def apply(self, change: dict) -> None:
        """A remedy's button: the live change, through the run manager (recorded as a `set` event)."""
        c = self.w.controller
        if not c.can_train:
            self.w.status.showMessage("a recorded run cannot change: start a live run to apply a remedy", 6000)
            return
        self.w.runs.change_live(dict(change))
        self.w.status.showMessage(f"doctor: applied {change_text(change)}", 8000)


__all__ = ["DoctorPanel", "DoctorPart", "FindingCard", "MARKS", "SEVERITIES"]
