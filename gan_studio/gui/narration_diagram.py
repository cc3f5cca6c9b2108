"""The data-flow diagram of Algorithm 1 (z → G → G(z) → D ← x → loss), painted, the part a narrated
sub-step uses lit and the current numbers beside it."""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

#: the data-flow diagram: nodes (relative x, y) and which nodes and edges each sub-step lights
NODES = {"z": (0.08, 0.3), "G": (0.27, 0.3), "G(z)": (0.46, 0.3), "x": (0.46, 0.8), "D": (0.66, 0.55),
         "loss": (0.89, 0.55)}
EDGES = (("z", "G"), ("G", "G(z)"), ("G(z)", "D"), ("x", "D"), ("D", "loss"))
LIT = {"d_noise": {"z", "G", "G(z)"}, "d_data": {"x"}, "d_update": {"G(z)", "x", "D", "loss"},
       "g_noise": {"z", "G", "G(z)"}, "g_update": {"z", "G", "G(z)", "D", "loss"}, "joint": set(NODES)}
HILITE = "#fde68a"


class FlowDiagram(QtWidgets.QWidget):
    """z → G → G(z) → D ← x → loss, the part in use lit, the current numbers beside it (painted)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(300, 170)
        self.setMaximumHeight(320)
        self.kind: str | None = None
        self.notes: dict[str, str] = {}

    def show_substep(self, kind: str | None, notes: dict[str, str]) -> None:
        self.kind, self.notes = kind, notes
        self.update()

    def paintEvent(self, _ev) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        lit = LIT.get(self.kind, set())
        f = QtGui.QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        fm = QtGui.QFontMetrics(f)
        bw, bh = max(fm.horizontalAdvance("G(z)") + 18, 0.11 * w), fm.height() + 14
        pos = {n: QtCore.QPointF(x * w, y * (h - fm.height())) for n, (x, y) in NODES.items()}
        on_pen, off_pen = QtGui.QPen(QtGui.QColor("#b45309"), 3.5), QtGui.QPen(QtGui.QColor("#bbbbbb"), 2)
        for a, b in EDGES:
            on = a in lit and b in lit
            p.setPen(on_pen if on else off_pen)
            self._arrow(p, pos[a], pos[b], bw / 2, on_pen.color() if on else off_pen.color())
        # the gradients flow back from the loss (dashed, above the boxes): into D (blue) or, through D, into G
        for kinds, color, target, y, label in ((("g_update", "joint"), "#15803d", "G", pos["G"].y() - bh * 0.9, "∇θg"),
                                               (("d_update", "joint"), "#1d4ed8", "D", pos["D"].y() - bh * 1.05, "∇θd")):
            if self.kind not in kinds:
                continue
            p.setPen(QtGui.QPen(QtGui.QColor(color), 3, QtCore.Qt.PenStyle.DashLine))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            lx = pos["loss"].x() + (bw * 0.25 if target == "G" else 0)
            path = QtGui.QPainterPath(QtCore.QPointF(lx, pos["loss"].y() - bh / 2))
            path.lineTo(lx, y)
            path.lineTo(pos[target].x(), y)
            path.lineTo(pos[target].x(), pos[target].y() - bh / 2 - 3)
            p.drawPath(path)
            p.setPen(QtGui.QColor(color))
            p.drawText(QtCore.QPointF((pos[target].x() + lx) / 2 - 14, y - 4), label)
        for name, c in pos.items():
            on = name in lit
            r = QtCore.QRectF(c.x() - bw / 2, c.y() - bh / 2, bw, bh)
            p.setPen(QtGui.QPen(QtGui.QColor("#b45309" if on else "#999999"), 2.5 if on else 1.5))
            p.setBrush(QtGui.QColor(HILITE if on else "#f4f4f4"))
            p.drawRoundedRect(r, 7, 7)
            p.setPen(QtGui.QColor("black" if on else "#777777"))
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, name)
        small = QtGui.QFont(self.font())
        p.setFont(small)
        p.setPen(QtGui.QColor("black"))
        sfm = QtGui.QFontMetrics(small)
        for name, text in self.notes.items():
            if name in pos and text:
                c = pos[name]
                for j, line in enumerate(text.split("\n")):  # under the box, one line each
                    tw = sfm.horizontalAdvance(line)
                    x = min(max(2.0, c.x() - tw / 2), w - tw - 2)
                    p.drawText(QtCore.QPointF(x, c.y() + bh / 2 + sfm.height() * (j + 1)), line)
        p.end()

    @staticmethod
    def _arrow(p: QtGui.QPainter, a: QtCore.QPointF, b: QtCore.QPointF, inset: float, color) -> None:
        d = b - a
        n = math.hypot(d.x(), d.y()) or 1.0
        u = QtCore.QPointF(d.x() / n, d.y() / n)
        s, e = a + u * inset, b - u * (inset + 2)
        p.drawLine(s, e)
        left = e - u * 11 + QtCore.QPointF(-u.y(), u.x()) * 6
        right = e - u * 11 - QtCore.QPointF(-u.y(), u.x()) * 6
        p.setBrush(color)
        p.drawPolygon(QtGui.QPolygonF([e, left, right]))
