"""The drawing mode's parts: :class:`PointCloud`, a plot item for many equal dots, and :class:`DrawToolbar`,
the tools above the canvas (see :mod:`.drawing`)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme

TOOLS = (("brush", "✎ Brush", "drag to spray points (radius and density below)"),
         ("eraser", "⌫ Eraser", "drag to remove the points under the brush"),
         ("ring", "◯ Ring", "press at the centre and drag out to the radius"),
         ("line", "╱ Line", "press at one end and drag to the other"),
         ("blob", "● Blob", "a Gaussian blob: press at the centre, drag to set σ (a click: σ = the radius)"))
DRAW_COLOR = (25, 60, 150)


class PointCloud(pg.GraphicsObject):
    """Many equal dots, fast: ``set_points`` only copies an array (no per-point objects, unlike
    ScatterPlotItem.setData, whose per-point bookkeeping takes ~200 ms at 50,000 points), and painting
    stamps one pre-drawn dot per point with QPainter.drawPixmapFragments (as pyqtgraph's scatter does)."""

    def __init__(self, color=DRAW_COLOR, alpha: int = 170, size: int = 5) -> None:
        super().__init__()
        self.pts = np.zeros((0, 2))
        self._rect = QtCore.QRectF()
        self.size = size
        dpr = 2  # drawn at twice the size: crisp on high-density screens and in 2× exports
        self.pixmap = QtGui.QPixmap(size * dpr, size * dpr)
        self.pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        qp = QtGui.QPainter(self.pixmap)
        qp.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        qp.setPen(QtCore.Qt.PenStyle.NoPen)
        qp.setBrush(QtGui.QColor(*color, alpha))
        qp.drawEllipse(QtCore.QRectF(0.5, 0.5, size * dpr - 1, size * dpr - 1))
        qp.end()
        self._dpr = dpr
        self._frags = pg.Qt.internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)

    def set_points(self, pts: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.pts = np.asarray(pts, np.float64).reshape(-1, 2)
        if len(self.pts):
            lo, hi = self.pts.min(0), self.pts.max(0)
            self._rect = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._rect = QtCore.QRectF()
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt's name
        if self._rect.isNull() and not len(self.pts):
            return QtCore.QRectF()
        pw, ph = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0  # room for the dots' pixels
        return self._rect.adjusted(-pw * self.size, -ph * self.size, pw * self.size, ph * self.size)

    def paint(self, p, *_args) -> None:
        if not len(self.pts):
            return
        xy = pg.functions.transformCoordinates(p.transform(), self.pts.T).T
        vr = p.viewport() if p.viewport().isValid() else None
        if vr is not None:  # only what is on screen
            m = self.size
            keep = ((xy[:, 0] > vr.left() - m) & (xy[:, 0] < vr.right() + m) &
                    (xy[:, 1] > vr.top() - m) & (xy[:, 1] < vr.bottom() + m))
            xy = xy[keep]
        if not len(xy):
            return
        p.resetTransform()
        self._frags.resize(len(xy))
        f = self._frags.ndarray()
        side = self.size * self._dpr
        f[:, 0:2] = xy
        f[:, 2:6] = (0, 0, side, side)
        f[:, 6:10] = (1 / self._dpr, 1 / self._dpr, 0.0, 1.0)
        p.drawPixmapFragments(*self._frags.drawargs(), self.pixmap)


class DrawToolbar(QtWidgets.QWidget):
    """The drawing tools: brush, eraser, stamps, radius and density, clear, the count, Train on this."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        f = self.font()
        f.setPointSize(12)
        self.setFont(f)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 4)
        lay.setSpacing(4)
        row1 = QtWidgets.QHBoxLayout()
        self.group = QtWidgets.QButtonGroup(self)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        for key, text, tip in TOOLS:
            b = QtWidgets.QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setObjectName(f"draw-{key}")
            self.group.addButton(b)
            self.buttons[key] = b
            row1.addWidget(b)
        self.buttons["brush"].setChecked(True)
        row1.addStretch(1)
        self.clear = QtWidgets.QPushButton("Clear")
        self.clear.setToolTip("remove every point")
        row1.addWidget(self.clear)
        lay.addLayout(row1)
        row2 = QtWidgets.QHBoxLayout()
        self.radius = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.radius.setRange(5, 150)  # hundredths of a unit
        self.radius.setValue(30)
        self.radius.setToolTip("brush and eraser radius; the width of rings and lines")
        self.radius_label = QtWidgets.QLabel()
        self.density = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.density.setRange(50, 170)  # 10^(pos/50): 10 … 2,500 points per unit area
        self.density.setValue(109)
        self.density.setToolTip("points per unit area the brush sprays (and how dense stamps are)")
        self.density_label = QtWidgets.QLabel()
        for w in (self.radius_label, self.density_label):
            w.setMinimumWidth(56)
        row2.addWidget(QtWidgets.QLabel("radius"))
        row2.addWidget(self.radius, 1)
        row2.addWidget(self.radius_label)
        row2.addSpacing(8)
        row2.addWidget(QtWidgets.QLabel("density"))
        row2.addWidget(self.density, 1)
        row2.addWidget(self.density_label)
        lay.addLayout(row2)
        row3 = QtWidgets.QHBoxLayout()
        self.count = QtWidgets.QLabel("0 points")
        fc = self.count.font()
        fc.setBold(True)
        self.count.setFont(fc)
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        self.train = QtWidgets.QPushButton("▶ Train on this")
        self.train.setToolTip("start a new run whose data are these points (the data picker's “drawn”)")
        self.train.setStyleSheet(f"font-weight: bold; color: {theme.OK};")
        self.done = QtWidgets.QPushButton("Done")
        self.done.setToolTip("leave the drawing mode (the drawing is kept)")
        row3.addWidget(self.count)
        row3.addWidget(self.note, 1)
        row3.addWidget(self.train)
        row3.addWidget(self.done)
        lay.addLayout(row3)
        self.radius.valueChanged.connect(self._labels)
        self.density.valueChanged.connect(self._labels)
        self._labels()

    def _labels(self, _=None) -> None:
        self.radius_label.setText(f"{self.radius_value():.2f}")
        self.density_label.setText(f"{self.density_value():,.0f}/u²")

    def tool(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def set_tool(self, key: str) -> None:
        self.buttons[key].setChecked(True)

    def radius_value(self) -> float:
        return self.radius.value() / 100

    def density_value(self) -> float:
        return float(round(10 ** (self.density.value() / 50)))
