"""Latent walk: how G maps a plane of noise space.

Images: a 7×7 grid of G(z0 + a·u + b·v) over two latent directions (random, or the plane through the two
picked samples) and below it a linear interpolation between the picked samples (the paper's Figure 3).
2-D points: the generator's image of a latent grid, a warped mesh over the real data. 1-D: the curve x = G(z).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from ...core.export.render import image_grid
from ...core.views.viewspec import LATENT
from .. import theme
from .base import Panel


def _polyline(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L×P×2 lines → x, y, connect arrays for one PlotCurveItem (no segment between lines)."""
    L, P, _ = lines.shape
    connect = np.ones(L * P, bool)
    connect[P - 1::P] = False
    return lines[..., 0].ravel(), lines[..., 1].ravel(), connect


class LatentPanel(Panel):
    title = "Latent walk"
    key = LATENT

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode = QtWidgets.QComboBox()
        self.mode.addItem("random directions", "random")
        self.mode.addItem("through picked A, B", "picked")
        self.mode.setToolTip("the latent plane: two random directions, or the plane through the samples you "
                             "picked in the Samples panel (click = A, right-click = B)")
        self.mode.currentIndexChanged.connect(lambda _: self.optionsChanged.emit())
        self.tools.addWidget(self.mode)
        self.reroll = QtWidgets.QPushButton("New directions")
        self.reroll.setToolTip("draw two new random latent directions")
        self.reroll.clicked.connect(self._new_dirs)
        self.tools.addWidget(self.reroll)
        self.seed = 0
        self.stack = QtWidgets.QStackedWidget()
        self.body.addWidget(self.stack, 1)
        # images
        self.glw_img = pg.GraphicsLayoutWidget()
        self.vb = self.glw_img.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.grid_img = pg.ImageItem()
        self.line_img = pg.ImageItem()
        self.vb.addItem(self.grid_img)
        self.vb.addItem(self.line_img)
        self.line_label = pg.TextItem("interpolation A → B", color=theme.TEXT, anchor=(0, 1))
        self.vb.addItem(self.line_label)
        self.stack.addWidget(self.glw_img)
        # points
        self.glw_pts = pg.GraphicsLayoutWidget()
        self.plot = self.glw_pts.addPlot()
        theme.style_plot(self.plot)
        self.real = pg.ScatterPlotItem(size=3, pen=None, brush=theme.brush(theme.MUTED, 90))
        self.plot.addItem(self.real)
        self.rows = pg.PlotCurveItem(pen=theme.pen(theme.REAL, 1.6))
        self.cols = pg.PlotCurveItem(pen=theme.pen(theme.FAKE, 1.6))
        self.plot.addItem(self.rows)
        self.plot.addItem(self.cols)
        self.curve = self.plot.plot(pen=theme.pen(theme.PG, 3))
        self.stack.addWidget(self.glw_pts)
        self.glw_img.setMinimumSize(*theme.PLOT_MIN)
        self.glw_pts.setMinimumSize(*theme.PLOT_MIN)

    def _new_dirs(self) -> None:
        self.seed += 1
        self.mode.setCurrentIndex(0)
        self.optionsChanged.emit()

    def applies(self, static) -> bool:
        return static is not None and (static.kind == "images" or static.dim <= 2)

    def views(self, static) -> set[str]:
        return {"latent"} if self.applies(static) else set()

    def options(self) -> dict:
        return {"walk_seed": self.seed, "walk_mode": self.mode.currentData()}

    def set_static(self, static) -> None:
        super().set_static(static)
        self.grid_img.clear()
        self.line_img.clear()
        for c in (self.rows, self.cols, self.curve):
            c.setData([], [])
        if static is None:
            return
        images = static.kind == "images"
        self.stack.setCurrentWidget(self.glw_img if images else self.glw_pts)
        self.mode.setVisible(images or static.dim == 2)
        self.reroll.setVisible(images or static.dim == 2)
        if images:
            self.subtitle.setText("G(z₀ + a·u + b·v), and A → B")
            self.real.setData([], [])
        elif static.dim == 2:
            self.subtitle.setText("G's image of a latent grid (lines of constant z₁ and z₂)")
            self.real.setData(static.real[:, 0], static.real[:, 1])
            lo, hi = static.bounds
            self.plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
            self.plot.setAspectLocked(True)
            theme.set_label(self.plot, "bottom", "x₁")
            theme.set_label(self.plot, "left", "x₂")
        else:
            self.subtitle.setText("the generator as a function: x = G(z)")
            self.real.setData([], [])
            self.plot.setAspectLocked(False)
            theme.set_label(self.plot, "bottom", "z")
            theme.set_label(self.plot, "left", "x = G(z)")
            lo, hi = static.bounds
            self.plot.setYRange(lo[0], hi[0], padding=0)

    def show_snapshot(self, snap) -> bool:
        v = snap.views.get("latent")
        if v is None or snap.views_iteration == self.last_iteration or self.static is None:
            return False
        self.last_iteration = snap.views_iteration
        if "grid" in v:
            g = image_grid(v["grid"], ncol=v["n"], pad=1, scale=1)
            self.grid_img.setImage(g, autoLevels=False, levels=(0, 255))
            line = image_grid(v["interp"], ncol=len(v["interp"]), pad=1, scale=1)
            # scale the row to the grid's width
            w = g.shape[1] / line.shape[1]
            self.line_img.setImage(line, autoLevels=False, levels=(0, 255))
            self.line_img.setTransform(pg.QtGui.QTransform.fromScale(w, w))
            gap = max(6, g.shape[0] * 0.08)
            self.line_img.setPos(0, g.shape[0] + gap)
            self.line_label.setPos(0, g.shape[0] + gap)
            if self.frames == 0:
                self.vb.autoRange(padding=0.02)
        elif "rows" in v:
            self.rows.setData(*_polyline(v["rows"])[:2], connect=_polyline(v["rows"])[2])
            self.cols.setData(*_polyline(v["cols"])[:2], connect=_polyline(v["cols"])[2])
        else:
            self.curve.setData(v["z"], v["x"][:, 0])
            if self.frames == 0:
                self.plot.setXRange(float(v["z"].min()), float(v["z"].max()), padding=0.02)
        self.frames += 1
        return True
