"""What a narrated sub-step draws over the toy field: the minibatch it sampled (real: black rings, fakes:
orange rings), and for G's update the gradient arrows on the fakes and their new positions (green); and D's
heatmap before → after its update, beside the pseudo-code."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme

ARROW = (150, 30, 30)
AFTER = (20, 150, 60)


class FieldOverlay:
    """Plot items added once to the field panel's plot; ``show_substep`` sets their data."""

    def __init__(self, field) -> None:
        self.field = field
        plot = field.plot
        self.real = pg.ScatterPlotItem(size=11, pen=pg.mkPen((0, 0, 0), width=2), brush=None)
        self.fakes = pg.ScatterPlotItem(size=12, pen=pg.mkPen(theme.FAKE, width=2.5), brush=None)
        self.after = pg.ScatterPlotItem(size=8, pen=pg.mkPen((255, 255, 255), width=1), brush=pg.mkBrush(*AFTER))
        self.moves = pg.PlotCurveItem(pen=pg.mkPen((*AFTER, 200), width=1.5))
        self.arrows = pg.PlotCurveItem(pen=pg.mkPen(ARROW, width=2.5))
        self.heads = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*ARROW), symbol="o")
        self.items = (self.real, self.fakes, self.moves, self.arrows, self.heads, self.after)
        for z, it in enumerate(self.items):
            it.setZValue(20 + z)
            plot.addItem(it)
        self.static = None
        self.kind: str | None = None
        self.hide()

    def set_static(self, static) -> None:
        self.static = static
        self.hide()

    def hide(self) -> None:
        self.kind = None
        for it in self.items:
            it.setVisible(False)
        self._dim(False)

    def _dim(self, on: bool) -> None:
        """While a minibatch is shown, the field's own points (fixed z, a sample of the data) step back."""
        for it in (self.field.real, self.field.fake):
            it.setOpacity(0.3 if on else 1.0)

    def _xy(self, a, row: float) -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(a, np.float64).reshape(len(a), -1)
        if a.shape[1] >= 2:
            return a[:, 0], a[:, 1]
        return a[:, 0], np.full(len(a), row)  # 1-D: on a line of the plot

    def _rows(self) -> tuple[float, float]:
        """1-D: the heights of the real and the fake minibatch (the field draws x = G(z) at -0.1·top)."""
        top = getattr(self.field, "_ytop", 1.0)
        return 0.04 * top, -0.1 * top

    def show_substep(self, sub) -> None:
        st = self.static
        if st is None or st.kind != "points" or st.dim not in (1, 2):
            self.hide()
            return
        self.kind = sub.kind
        self._dim(True)
        real_row, fake_row = self._rows()
        if sub.kind in ("d_noise", "g_noise"):  # a new minibatch: forget the last one's drawing
            for it in self.items:
                it.setVisible(False)
        if sub.fakes is not None:
            self.fakes.setData(*self._xy(sub.fakes, fake_row))
            self.fakes.setVisible(True)
        if sub.real is not None:
            self.real.setData(*self._xy(sub.real, real_row))
            self.real.setVisible(True)
        if sub.kind in ("g_update", "joint"):
            self.real.setVisible(sub.kind == "joint")
            fx, fy = self._xy(sub.fakes, fake_row)
            if sub.grad is not None:
                g = np.asarray(sub.grad, np.float64).reshape(len(fx), -1)
                gx, gy = g[:, 0], (g[:, 1] if g.shape[1] > 1 else np.zeros(len(g)))
                n = np.hypot(gx, gy)
                lo, hi = st.bounds
                span = float(max(np.subtract(hi, lo)))
                scale = 0.12 * span / max(float(n.max()), 1e-12)  # the longest arrow: 12% of the field
                ex, ey = fx + gx * scale, fy + gy * scale
                seg = np.empty((len(fx) * 2, 2))
                seg[0::2, 0], seg[0::2, 1] = fx, fy
                seg[1::2, 0], seg[1::2, 1] = ex, ey
                self.arrows.setData(seg[:, 0], seg[:, 1], connect="pairs")
                self.heads.setData(ex, ey)
                self.arrows.setVisible(True)
                self.heads.setVisible(True)
            if sub.after is not None:
                ax, ay = self._xy(sub.after, fake_row)
                self.after.setData(ax, ay)
                seg = np.empty((len(fx) * 2, 2))
                seg[0::2, 0], seg[0::2, 1] = fx, fy
                seg[1::2, 0], seg[1::2, 1] = ax, ay
                self.moves.setData(seg[:, 0], seg[:, 1], connect="pairs")
                self.after.setVisible(True)
                self.moves.setVisible(True)


class DBeforeAfter(QtWidgets.QWidget):
    """D's heatmap just before and just after its update, side by side (2-D data; 1-D: D's curve before and
    after), from the fields the narrated sub-steps carry."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.pics: dict[str, QtWidgets.QLabel] = {}
        for name, text in (("before", "D before its update"), ("after", "D after")):
            col = QtWidgets.QVBoxLayout()
            cap = QtWidgets.QLabel(text)
            cap.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            pic = QtWidgets.QLabel()
            pic.setObjectName(f"d-{name}")
            pic.setFixedSize(150, 150)
            pic.setStyleSheet("border: 1px solid #999;")
            col.addWidget(cap)
            col.addWidget(pic)
            lay.addLayout(col)
            if name == "before":
                arrow = QtWidgets.QLabel("→")
                f = arrow.font()
                f.setPointSize(20)
                arrow.setFont(f)
                lay.addWidget(arrow)
            self.pics[name] = pic
        lay.addStretch(1)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed)
        self._lut = theme.diverging_lut()
        self.shown = {"before": False, "after": False}
        self.setVisible(False)

    def clear(self) -> None:
        for name, pic in self.pics.items():
            pic.clear()
            self.shown[name] = False
        self.setVisible(False)

    def show_substep(self, sub, sigmoid: bool = True) -> None:
        """d_data: D as the update will find it; d_update: D after it. Other sub-steps keep the last pair."""
        which = {"d_data": "before", "d_update": "after", "joint": "after"}.get(sub.kind)
        if sub.kind in ("g_noise", "g_update"):  # D is held fixed while G steps
            self.setVisible(False)
        if which is None or sub.field is None:
            return
        if which == "before" or sub.kind == "joint":
            self.clear()
        pix = self._picture(sub.field, sigmoid)
        if pix is not None:
            self.pics[which].setPixmap(pix)
            self.shown[which] = True
            self.setVisible(True)

    def _picture(self, field: dict, sigmoid: bool):
        w = h = 150
        if "xs" in field:  # 2-D: the heatmap, y up
            d = np.asarray(field["d"], np.float64)
            if d.ndim != 2 or not np.isfinite(d).all():
                return None
            lo, hi = (0.0, 1.0) if sigmoid else (float(d.min()), float(d.max()) or 1.0)
            idx = np.clip((d - lo) / max(hi - lo, 1e-12) * 255, 0, 255).astype(np.uint8)[::-1]
            rgb = np.ascontiguousarray(self._lut[idx])
            img = QtGui.QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1],
                               QtGui.QImage.Format.Format_RGB888).copy()
            return QtGui.QPixmap.fromImage(img).scaled(w, h, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                                                       QtCore.Qt.TransformationMode.FastTransformation)
        d = np.asarray(field.get("d", []), np.float64)  # 1-D: D's curve
        if d.ndim != 1 or len(d) < 2 or not np.isfinite(d).all():
            return None
        pix = QtGui.QPixmap(w, h)
        pix.fill(QtGui.QColor("white"))
        lo, hi = (0.0, 1.0) if sigmoid else (float(d.min()), float(d.max()) or 1.0)
        ys = h - 6 - (d - lo) / max(hi - lo, 1e-12) * (h - 12)
        xs = np.linspace(4, w - 4, len(d))
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setPen(QtGui.QPen(QtGui.QColor(*theme.D_COLOR), 2.5, QtCore.Qt.PenStyle.DashLine))
        p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(x, y) for x, y in zip(xs, ys)]))
        p.end()
        return pix
