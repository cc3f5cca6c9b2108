"""Samples: G(z) on a fixed z, so the same samples are seen to evolve (images only; toy data use the field).

Options: fresh z each frame; a column with each row's last sample beside its nearest training example
(the paper's Figure 2 memorisation check). Click a sample to pick A, right-click (or shift-click) to
pick B: the latent panel interpolates between them.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.export.render import image_grid
from ...core.views.viewspec import SAMPLES
from .. import theme
from .base import Panel


class SamplesPanel(Panel):
    title = "Samples"
    key = SAMPLES
    picked = QtCore.Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.fresh = self.check("fresh z", False, "draw new noise every frame instead of the fixed z")
        self.nn = self.check("nearest neighbours", True,
                             "show each row's last sample beside its nearest training example (memorisation check)")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumSize(*theme.PLOT_MIN)
        self.vb = self.glw.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.img = pg.ImageItem()
        self.nn_img = pg.ImageItem()
        self.vb.addItem(self.img)
        self.vb.addItem(self.nn_img)
        self.nn_label = pg.TextItem("", color=theme.TEXT, anchor=(0.5, 1))
        self.vb.addItem(self.nn_label)
        self.pick_a = QtWidgets.QGraphicsRectItem()
        self.pick_b = QtWidgets.QGraphicsRectItem()
        for r, c in ((self.pick_a, theme.REAL), (self.pick_b, (200, 30, 30))):
            p = QtGui.QPen(QtGui.QColor(*c))
            p.setWidthF(2.5)
            p.setCosmetic(True)
            r.setPen(p)
            r.setZValue(10)
            self.vb.addItem(r)
        self.body.addWidget(self.glw, 1)
        self.glw.scene().sigMouseClicked.connect(self._clicked)
        self._a, self._b = 0, 1
        self._cell = None  # (h, w, pad, ncol, n)
        self._extent = (0, 0)

    def applies(self, static) -> bool:
        return static is not None and static.kind == "images"

    def views(self, static) -> set[str]:
        if not self.applies(static):
            return set()
        return {"samples", "nn"} if self.nn.isChecked() else {"samples"}

    def options(self) -> dict:
        return {"fresh_z": self.fresh.isChecked(), "pick": (self._a, self._b)}

    def set_static(self, static) -> None:
        super().set_static(static)
        self.img.clear()
        self.nn_img.clear()
        self.nn_label.setText("")
        self._cell = None
        if static is not None and static.n_classes:
            self.subtitle.setText(f"{static.name}: fixed z; a row per class when conditional")
        else:
            self.subtitle.setText("fixed z" if static is not None else "")

    def show_snapshot(self, snap) -> bool:
        x = snap.views.get("samples")
        if x is None or snap.views_iteration == self.last_iteration:
            return False
        self.last_iteration = snap.views_iteration
        if np.ndim(x) != 4 or len(x) == 0:
            raise ValueError(f"expected N×C×H×W images, got shape {np.shape(x)}")
        n, c, h, w = x.shape
        nn = snap.views.get("nn") if self.nn.isChecked() else None
        ncol = self._columns(n, h, w, 0 if nn is None else len(nn[0]))
        grid = image_grid(x, ncol=ncol, pad=1, scale=1)
        self.img.setImage(grid, autoLevels=False, levels=(0, 255))
        relayout = self._cell is None or self._cell[3] != ncol
        self._cell = (h, w, 1, ncol, n)
        right, bottom = grid.shape[1], grid.shape[0]
        if nn is not None:
            last, near = nn
            pair = np.empty((len(last) * 2, c, h, w), np.float32)
            pair[0::2], pair[1::2] = last, near
            col = image_grid(pair, ncol=2, pad=1, scale=1)
            self.nn_img.setImage(col, autoLevels=False, levels=(0, 255))
            x0 = grid.shape[1] + max(4, w // 2)
            self.nn_img.setPos(x0, 0)
            self.nn_img.setVisible(True)
            self.nn_label.setText("sample | nearest real")
            self.nn_label.setPos(x0 + col.shape[1] / 2, 0)
            self.nn_label.setVisible(True)
            right, bottom = x0 + col.shape[1], max(bottom, col.shape[0])
        else:
            self.nn_img.setVisible(False)
            self.nn_label.setVisible(False)
        if relayout or self.frames == 0 or self._extent != (right, bottom):
            # the whole grid and the column, with room above for the column's label (autoRange ignores text)
            top = (h + 1) * 0.9 if nn is not None else 0
            self.vb.setRange(QtCore.QRectF(-0.5, -top, right + 1, bottom + top), padding=0.01)
            self._extent = (right, bottom)
        self._draw_picks()
        self.frames += 1
        self.subtitle.setText(("fresh z" if self.fresh.isChecked() else "fixed z") +
                              f" · iteration {snap.views_iteration:,}")
        return True

    def _columns(self, n: int, h: int, w: int, nn_rows: int) -> int:
        """The number of columns that makes the samples largest in the panel's plot area (a wide panel: a
        wide grid; a tall one, as in presentation mode: a tall grid), the nearest-neighbour column counted."""
        vw, vh = max(1.0, self.glw.width()), max(1.0, self.glw.height())
        best, best_cell = int(math.ceil(math.sqrt(n))), 0.0
        for ncol in range(1, n + 1):
            nrow = int(math.ceil(n / ncol))
            width = ncol * (w + 1) + 1 + ((2 * (w + 1) + 1 + max(4, w // 2)) if nn_rows else 0)
            height = max(nrow, nn_rows) * (h + 1) + 1 + ((h + 1) if nn_rows else 0)
            cell = min(vw / width, vh / height)
            if cell > best_cell * 1.001:
                best, best_cell = ncol, cell
        return best

    def resizeEvent(self, ev) -> None:  # a new shape: the next frame picks its columns again
        super().resizeEvent(ev)
        self.last_iteration = None

    def _rect(self, i: int) -> QtCore.QRectF:
        h, w, pad, ncol, _ = self._cell
        r, q = divmod(i, ncol)
        return QtCore.QRectF(pad + q * (w + pad) - 0.5, pad + r * (h + pad) - 0.5, w + 1, h + 1)

    def _draw_picks(self) -> None:
        if self._cell is None:
            return
        self.pick_a.setRect(self._rect(self._a))
        self.pick_b.setRect(self._rect(self._b))

    def pick(self, a: int, b: int) -> None:
        self._a, self._b = int(a), int(b)
        self._draw_picks()
        self.picked.emit(self._a, self._b)
        self.optionsChanged.emit()

    def _clicked(self, ev) -> None:
        if self._cell is None:
            return
        p = self.vb.mapSceneToView(ev.scenePos())
        h, w, pad, ncol, n = self._cell
        q, r = int((p.x() - pad) // (w + pad)), int((p.y() - pad) // (h + pad))
        if not (0 <= q < ncol and r >= 0):
            return
        i = r * ncol + q
        if i >= n:
            return
        second = ev.button() == QtCore.Qt.MouseButton.RightButton or \
            bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        self.pick(self._a if second else i, i if second else self._b)
