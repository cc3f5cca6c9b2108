"""Algorithm 1, narrated: the paper's pseudo-code with the line being executed highlighted, a small data-flow
diagram (z → G → G(z) → D ← x → loss) with the part in use lit, and the sub-step's minibatch, gradient arrows
and new positions drawn over the toy field.

Everything shown comes from the trainer's own sub-steps: in narrate mode the training process stops after
each one and reports it as a ``substep`` event (core/live/narrate.py); → (or the timer, while playing) lets
the next one run. The window only observes. The diagram is painted in narration_diagram.py; what is drawn
over the toy field, and D before → after, in narration_overlay.py.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ..core.protocol import EventKind
from . import screens
from .layout import COLUMN_MIN
from .narration_diagram import HILITE, FlowDiagram
from .narration_overlay import DBeforeAfter, FieldOverlay

#: the pseudo-code, one row per line: (id, indent, rich text); {k} and {m} are filled in from the run
LINES = (
    ("loop", 0, "<b>for</b> number of training iterations <b>do</b>"),
    ("k_loop", 1, "<b>for</b> <i>k</i> steps <b>do</b> &nbsp;<span style='color:#555'>({k_note})</span>"),
    ("d_noise", 2, "• Sample minibatch of <i>m</i> = {m} noise samples {{<i>z</i><sup>(1)</sup>, …, "
                   "<i>z</i><sup>(<i>m</i>)</sup>}} from the noise prior <i>p<sub>g</sub></i>(<i>z</i>)."),
    ("d_data", 2, "• Sample minibatch of <i>m</i> = {m} examples {{<i>x</i><sup>(1)</sup>, …, "
                  "<i>x</i><sup>(<i>m</i>)</sup>}} from the data distribution <i>p</i><sub>data</sub>(<i>x</i>)."),
    ("d_update", 2, "• Update the discriminator by <b>ascending</b> its stochastic gradient:<br>"
                    "&nbsp;&nbsp;∇<sub>θ<sub>d</sub></sub> (1/<i>m</i>) Σ<sub><i>i</i></sub> [ log <i>D</i>(<i>x</i>"
                    "<sup>(<i>i</i>)</sup>) + log(1 − <i>D</i>(<i>G</i>(<i>z</i><sup>(<i>i</i>)</sup>))) ]"),
    ("k_end", 1, "<b>end for</b>"),
    ("g_noise", 1, "• Sample minibatch of <i>m</i> = {m} noise samples {{<i>z</i><sup>(1)</sup>, …, "
                   "<i>z</i><sup>(<i>m</i>)</sup>}} from the noise prior <i>p<sub>g</sub></i>(<i>z</i>)."),
    ("g_update", 1, "• Update the generator by <b>descending</b> its stochastic gradient:<br>"
                    "&nbsp;&nbsp;∇<sub>θ<sub>g</sub></sub> (1/<i>m</i>) Σ<sub><i>i</i></sub> log(1 − <i>D</i>(<i>G</i>"
                    "(<i>z</i><sup>(<i>i</i>)</sup>)))"),
    ("loop_end", 0, "<b>end for</b>"),
)
#: on a screen narrower than this, the Algorithm 1 panel becomes a tab beside the controls (no third column)
NARROW_SCREEN = 1600
LINE_OF = {"d_noise": "d_noise", "d_data": "d_data", "d_update": "d_update", "g_noise": "g_noise",
           "g_update": "g_update", "joint": "g_update"}
LOSS_NOTES = {
    "minimax": "This run plays the paper's game exactly as printed.",
    "nonsaturating": "In practice (Section 3) G <b>maximises log D(G(z))</b> instead: the same fixed point, "
                     "strong gradients early on. This run does that.",
}
#: what each sub-step does, in one sentence (shown under the pseudo-code)
EXPLAIN = {
    "d_noise": "G maps m fresh noise vectors to m fakes G(z) (orange rings on the field).",
    "d_data": "m real examples are drawn from the data (black rings on the field).",
    "d_update": "D takes one gradient step to tell the rings apart: watch its heatmap change.",
    "g_noise": "G maps m fresh noise vectors to m fakes (orange rings): D stays fixed now.",
    "g_update": "The arrows show where G's gradient pushes each fake; green dots: the same z after G's step.",
    "joint": "Simultaneous update: D and G step at once on one minibatch (the paper's code).",
}


def _fmt(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.3f}"


class AlgorithmPanel(QtWidgets.QFrame):
    """The paper's Algorithm 1, the line being executed highlighted, with the diagram and the numbers."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("algorithm-panel")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(3)
        head = QtWidgets.QLabel("Algorithm 1 · minibatch SGD training of GANs")
        f = head.font()
        f.setPointSize(13)
        f.setBold(True)
        head.setFont(f)
        head.setWordWrap(True)
        lay.addWidget(head)
        self.status = QtWidgets.QLabel("Narrate (N) walks through the trainer's real sub-steps; → runs the next one.")
        self.status.setObjectName("alg-status")
        self.status.setWordWrap(True)
        sf = self.status.font()
        sf.setPointSize(12)
        sf.setBold(True)
        self.status.setFont(sf)
        self.status.setStyleSheet("color: #7c2d12;")
        lay.addWidget(self.status)
        self.explain = QtWidgets.QLabel("")
        self.explain.setWordWrap(True)
        lay.addWidget(self.explain)
        self.lines: dict[str, QtWidgets.QLabel] = {}
        for lid, indent, _ in LINES:
            lab = QtWidgets.QLabel()
            lab.setObjectName(f"alg-line-{lid}")
            lab.setWordWrap(True)
            lab.setTextFormat(QtCore.Qt.TextFormat.RichText)
            lab.setContentsMargins(18 * indent + 4, 0, 4, 0)
            lf = lab.font()
            lf.setPointSize(12)
            lab.setFont(lf)
            self.lines[lid] = lab
            lay.addWidget(lab)
        self.remark = QtWidgets.QLabel()
        self.remark.setWordWrap(True)
        self.remark.setStyleSheet("color: #333; padding: 4px; border-left: 3px solid #15803d;")
        lay.addWidget(self.remark)
        self.d_pair = DBeforeAfter()
        self.diagram = FlowDiagram()
        self.bottom = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.TopToBottom)  # side by side when wide
        self.bottom.addWidget(self.d_pair, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.bottom.addWidget(self.diagram, 1)
        lay.addLayout(self.bottom)
        lay.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("auto-advance every"))
        self.seconds = QtWidgets.QDoubleSpinBox()
        self.seconds.setObjectName("narration-seconds")
        self.seconds.setRange(0.2, 10.0)
        self.seconds.setSingleStep(0.25)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(1.5)
        self.seconds.setToolTip("while playing (Space), the next sub-step runs after this long; → runs one at once")
        row.addWidget(self.seconds)
        row.addStretch(1)
        lay.addLayout(row)
        self.current: str | None = None  # the highlighted line's id
        self.counter = ""  # "D-step i of k" (tests and the status line read it)
        self.set_config(1, 256, "nonsaturating")

    def set_config(self, k: int, m: int, loss: str, sigmoid: bool = True) -> None:
        self._k, self._m, self._sigmoid, self._loss = k, m, sigmoid, loss
        for lid, _, text in LINES:
            self.lines[lid].setText(text.format(k_note=f"k = {k}", m=m))
        self.remark.setText(LOSS_NOTES.get(loss, f"This run uses the <b>{loss}</b> loss: the same two alternating "
                                                 "updates, with that loss in place of log D."))
        self._paint_lines()

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        wide = self.width() > 380 + self.diagram.minimumWidth()
        self.bottom.setDirection(QtWidgets.QBoxLayout.Direction.LeftToRight if wide
                                 else QtWidgets.QBoxLayout.Direction.TopToBottom)

    def highlighted_line(self) -> str | None:
        return self.current

    def show_substep(self, sub) -> None:
        self.current = LINE_OF.get(sub.kind)
        d = sub.kind.startswith("d_")
        if d:
            self.counter = f"D-step {sub.step} of {sub.steps}"
            k_note = f"k = {sub.steps}: step <b>{sub.step} of {sub.steps}</b>"
        else:
            self.counter = f"G-step {sub.step} of {sub.steps}"
            k_note = f"k = {self._k}"
        self.lines["k_loop"].setText(LINES[1][2].format(k_note=k_note, m=sub.m))
        if d:
            self._k = sub.steps  # k is a live setting
        if sub.m != self._m:
            self.set_config(self._k, sub.m, self._loss, self._sigmoid)
        self._paint_lines()
        nums = {"d_update": f"D loss on this batch {_fmt(sub.loss)} · mean D(x) {_fmt(sub.d_real)} · "
                            f"mean D(G(z)) {_fmt(sub.d_fake)}",
                "g_update": f"G loss on this batch {_fmt(sub.loss)}",
                "joint": f"D loss {_fmt(sub.loss)} · G loss {_fmt(sub.g_loss)}"}.get(sub.kind, "")
        self.status.setText(f"Iteration {sub.iteration:,} · {self.counter}" + (f" · {nums}" if nums else ""))
        self.explain.setText(EXPLAIN.get(sub.kind, ""))
        notes = {"z": f"m = {sub.m}" if sub.kind in ("d_noise", "g_noise", "joint") else "",
                 "x": f"m = {sub.m}" if sub.kind in ("d_data", "joint") else "",
                 "G": self.counter if not d else "",
                 "D": (f"D(x) {_fmt(sub.d_real)}\nD(G(z)) {_fmt(sub.d_fake)}" if sub.kind in ("d_update", "joint")
                       else (self.counter if d else "")),
                 "loss": {"d_update": f"D loss\n{_fmt(sub.loss)}", "g_update": f"G loss\n{_fmt(sub.loss)}",
                          "joint": f"D {_fmt(sub.loss)}\nG {_fmt(sub.g_loss)}"}.get(sub.kind, "")}
        self.diagram.show_substep(sub.kind, notes)
        self.d_pair.show_substep(sub, self._sigmoid)

    def clear(self) -> None:
        self.current, self.counter = None, ""
        self.d_pair.clear()
        self._paint_lines()
        self.explain.setText("")
        self.diagram.show_substep(None, {})

    def _paint_lines(self) -> None:
        for lid, lab in self.lines.items():
            on = lid == self.current
            lab.setStyleSheet(f"background: {HILITE}; border: 2px solid #b45309; border-radius: 4px;" if on
                              else "background: transparent; border: 2px solid transparent;")


class Narrator(QtCore.QObject):
    """Owns the Algorithm 1 dock, the field overlay and the auto-advance timer; talks to the run handle."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.on = False
        self.panel = AlgorithmPanel()
        self.dock = QtWidgets.QDockWidget("Algorithm 1", window)
        self.dock.setObjectName("algorithm-dock")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # lines wrap instead
        scroll.setMinimumWidth(340)  # a narrow screen's dock (the lines wrap; the diagram stacks below)
        self.dock.setWidget(scroll)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.overlay = FieldOverlay(window.field)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._auto_advance)
        self.waiting = False  # a sub-step was asked for and has not been reported yet
        self._asked_at = 0.0
        self._shown_before_presenting: bool | None = None
        self.panel.seconds.setValue(float(window.settings.get("narration/seconds", 1.5)))
        self.panel.seconds.valueChanged.connect(self._seconds_changed)
        c = window.controller
        c.eventArrived.connect(self.on_event)
        c.staticChanged.connect(self._new_run)
        c.stateChanged.connect(lambda state, _msg: self._sync_timer(state))

    # ------------------------------------------------------------------------------------ actions
    def toggle_panel(self) -> None:
        self.show_panel(not self.dock.isVisible())

    def show_panel(self, on: bool = True, share: float = 1 / 3) -> None:
        """Show (on top of any other dock on the right, as a tab, full height) or hide the panel."""
        if not on:
            self.dock.hide()
            return
        w = self.w
        Area = QtCore.Qt.DockWidgetArea
        if not self.dock.isVisible():
            room = screens.screen_of(w).availableGeometry().width()
            if room < NARROW_SCREEN and not w.controls_dock.isHidden() and not w.controls_dock.isFloating():
                # no room for a third column: the panel takes the controls' place, as a tab beside them
                if w.dockWidgetArea(self.dock) != w.dockWidgetArea(w.controls_dock):
                    w.addDockWidget(w.dockWidgetArea(w.controls_dock), self.dock)
                w.tabifyDockWidget(w.controls_dock, self.dock)
            else:
                if w.dockWidgetArea(self.dock) != Area.RightDockWidgetArea or self.dock.isFloating():
                    self.dock.setFloating(False)
                    w.addDockWidget(Area.RightDockWidgetArea, self.dock)
                others = [d for d in w.findChildren(QtWidgets.QDockWidget) if d is not self.dock and d.isVisible()
                          and w.dockWidgetArea(d) == Area.RightDockWidgetArea]
                if others:
                    w.tabifyDockWidget(others[0], self.dock)
            self.dock.show()

        def size_it() -> None:  # its share of the width, leaving the panels two readable columns
            most = w.width() - 2 * COLUMN_MIN - 40
            w.resizeDocks([self.dock], [max(self.dock.minimumSizeHint().width(), min(int(w.width() * share), most))],
                          QtCore.Qt.Orientation.Horizontal)
        QtCore.QTimer.singleShot(0, size_it)
        self.dock.raise_()

    def toggle(self) -> None:
        self.set_narrating(not self.on)

    def set_narrating(self, on: bool) -> None:
        self.on = on
        a = self.w.acts.get("narrate") if hasattr(self.w, "acts") else None
        if a is not None:
            a.setChecked(on)
        if on:
            self.show_panel()
        h = self.w.controller.handle
        if h is not None and hasattr(h, "narrate") and self.w.controller.can_train:
            h.narrate(on)
        self.waiting = False
        if not on:
            self.overlay.hide()
            self.panel.clear()
        self._sync_timer(self.w.controller.state)

    def step(self, kind: str = "full") -> None:
        """→ / Step: one sub-step while narrating, else what Step always does."""
        if self.on and kind == "full" and self.w.controller.can_train:
            self._ask()
        else:
            self.w.runs.step(kind)

    def presenting(self, on: bool) -> None:
        if on:
            self._shown_before_presenting = self.dock.isVisible()
            if self.on or self._shown_before_presenting:  # else the screen is the preset's panels'
                self.show_panel(share=0.5)  # large type: a wider panel, fewer wrapped lines
        elif self._shown_before_presenting is not None:
            self.dock.setVisible(self._shown_before_presenting or self.on)
            self._shown_before_presenting = None

    # ------------------------------------------------------------------------------------ events
    def on_event(self, ev) -> None:
        if ev.kind != EventKind.SUBSTEP or not self.on or ev.data is None:
            return
        self.waiting = False
        sub = ev.data
        self.panel.show_substep(sub)
        self.overlay.show_substep(sub)
        self.w.field.last_iteration = -1  # the snapshot that follows is mid-iteration: draw it all the same

    def _new_run(self, snap) -> None:
        cfg = snap.config or {}
        self.panel.set_config(int(cfg.get("k", 1)), int(cfg.get("batch_size", 0)), str(cfg.get("loss", "")),
                              bool(snap.loss_info[1]) if snap.loss_info else True)
        self.overlay.set_static(snap.static)
        self.panel.clear()
        self.waiting = False
        if self.on and hasattr(self.w.controller.handle, "narrate"):
            self.w.controller.handle.narrate(True)

    def _ask(self) -> None:
        self.w.controller.handle.substep()
        self.waiting = True
        self._asked_at = QtCore.QDateTime.currentMSecsSinceEpoch()

    def _auto_advance(self) -> None:
        c = self.w.controller
        stale = QtCore.QDateTime.currentMSecsSinceEpoch() - self._asked_at > 5000
        if self.on and c.state == "running" and c.can_train and (not self.waiting or stale):
            self._ask()

    def _sync_timer(self, state: str) -> None:
        if self.on and state == "running":
            self.timer.start(int(self.panel.seconds.value() * 1000))
        else:
            self.timer.stop()

    def _seconds_changed(self, v: float) -> None:
        if self.w.persist:
            self.w.settings.set("narration/seconds", float(v))
        self._sync_timer(self.w.controller.state)

    def _dock_visibility(self, visible: bool) -> None:
        a = self.w.acts.get("algorithm") if hasattr(self.w, "acts") else None
        if a is not None:
            a.setChecked(visible)
