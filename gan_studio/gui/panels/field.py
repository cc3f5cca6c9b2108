"""Toy field for 1-D and 2-D data.

2-D: real points (grey), generated points from the fixed z (orange), D as a heatmap (blue = "real",
red = "generated", white = 0.5) and, optionally, arrows along ∇ₓD on the generated points: the direction
in which the discriminator pushes them.
1-D: the paper's Figure 1: p_data (black, dotted), p_g (green), D (blue, dashed), and below them the mapping
x = G(z) from a uniform grid of z (lower line) onto x (upper line).
More than 2 dimensions (a plug-in's points): real and generated points projected on the real data's first two
principal axes (no D heatmap: D is a function of all d coordinates).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.views.viewspec import FIELD
from .. import theme
from .base import Panel

DSTAR = (150, 40, 170)  # the optimal discriminator D*: purple


class FieldPanel(Panel):
    title = "Toy field"
    key = FIELD

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.arrows_cb = self.check("gradient arrows", True, "arrows along ∇D on generated points")
        self.dstar_cb = self.check("D − D*", False, "show how far D is from the optimal discriminator "
                                   "D* = p_data / (p_data + p_g) (Prop. 1), with p_g estimated from samples")
        self.dstar_cb.toggled.connect(lambda _=None: self._heat_mode_changed())
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumSize(*theme.PLOT_MIN)
        self.body.addWidget(self.glw, 1)
        self.plot = self.glw.addPlot()
        theme.style_plot(self.plot)
        self.plot.addLegend(offset=(8, 8), labelTextSize="11pt", brush=(255, 255, 255, 200))
        # 2-D items
        self.heat = pg.ImageItem()
        self.heat.setLookupTable(theme.diverging_lut())
        self.heat.setZValue(-10)
        self.plot.addItem(self.heat)
        self.real = pg.ScatterPlotItem(size=4, pen=None, brush=theme.brush(theme.PDATA, 110), name="real")
        self.fake = pg.ScatterPlotItem(size=5, pen=None, brush=theme.brush(theme.FAKE, 200), name="generated")
        self.arrows = pg.PlotCurveItem(pen=theme.pen((120, 50, 0, 170), 1.2))
        self.plot.addItem(self.real)
        self.plot.addItem(self.fake)
        self.plot.addItem(self.arrows)
        self.cbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.ColorMap(np.linspace(0, 1, 256),
                                                                         theme.diverging_lut()),
                                    label="D(x)", interactive=False, width=14)
        self.cbar.setImageItem(self.heat)
        self.glw.addItem(self.cbar)
        # 1-D items
        self.c_pdata = self.plot.plot(pen=theme.pen(theme.PDATA, 3, "dot"), name="p_data")
        self.c_pg = self.plot.plot(pen=theme.pen(theme.PG, 3), name="p_g")
        self.c_d = self.plot.plot(pen=theme.pen(theme.D_COLOR, 3, "dash"), name="D")
        self.c_dstar = self.plot.plot(pen=theme.pen(DSTAR, 2.5, "dot"), name="D*", connect="finite")
        self.map_lines = pg.PlotCurveItem(pen=theme.pen((60, 60, 60), 1.2))
        self.z_axis = pg.PlotCurveItem(pen=theme.pen(theme.TEXT, 2))
        self.x_axis = pg.PlotCurveItem(pen=theme.pen(theme.TEXT, 2))
        for it in (self.map_lines, self.z_axis, self.x_axis):
            self.plot.addItem(it)
        self.z_text = pg.TextItem("z", color=theme.TEXT, anchor=(1, 0.5))
        self.x_text = pg.TextItem("x", color=theme.TEXT, anchor=(1, 0.5))
        self.plot.addItem(self.z_text)
        self.plot.addItem(self.x_text)
        self.plot.setMouseEnabled(x=False, y=False)
        self._ytop = 1.0
        self._items_2d = (self.heat, self.real, self.fake, self.arrows, self.cbar)
        self._items_1d = (self.c_pdata, self.c_pg, self.c_d, self.c_dstar, self.map_lines, self.z_axis, self.x_axis,
                          self.z_text, self.x_text)

    def applies(self, static) -> bool:
        return static is not None and static.kind == "points" and static.dim >= 1

    def views(self, static) -> set[str]:
        if not self.applies(static):
            return set()
        if static.dim > 2:  # the projected scatter: the samples only
            return {"samples"}
        base = {"field", "samples"} if static.dim == 2 else {"field", "latent", "metrics"}
        return base | ({"metrics"} if self.dstar_cb.isChecked() else set())

    def options(self) -> dict:
        return {"arrows": self.arrows_cb.isChecked()}

    def _legend(self, names: tuple) -> None:
        leg = self.plot.legend
        leg.clear()
        items = {"real": self.real, "generated": self.fake, "p_data": self.c_pdata, "p_g": self.c_pg, "D": self.c_d,
                 "D*": self.c_dstar}
        for n in names:
            leg.addItem(items[n], n)

    def set_static(self, static) -> None:
        super().set_static(static)
        if not self.applies(static):
            return
        two, many = static.dim == 2, static.dim > 2
        for it in self._items_2d:
            it.setVisible(two or (many and it in (self.real, self.fake)))
        for it in self._items_1d:
            it.setVisible(static.dim == 1)
        self.arrows_cb.setVisible(two)
        self.dstar_cb.setVisible(two)
        lo, hi = static.plane_bounds
        if many:
            self._legend(("real", "generated"))
            real = static.to_plane(static.real[:512])
            self.real.setData(real[:, 0], real[:, 1])
            self.fake.setData([], [])
            self.plot.setAspectLocked(True)
            self.plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
            theme.set_label(self.plot, "bottom", "principal axis 1")
            theme.set_label(self.plot, "left", "principal axis 2")
            self.subtitle.setText(f"{static.name}: {static.dim}-D points on the real data's first two principal axes "
                                  "· real · generated (fixed z)")
        elif two:
            self._legend(("real", "generated"))
            self.real.setData(static.real[:512, 0], static.real[:512, 1])
            self.fake.setData([], [])
            self.heat.clear()
            self._heat_key = self._levels = None
            self.arrows.setData([], [])
            self.plot.setAspectLocked(True)
            self.plot.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
            theme.set_label(self.plot, "bottom", "x₁")
            theme.set_label(self.plot, "left", "x₂")
            self.subtitle.setText(f"{static.name}: real · generated (fixed z) · D heatmap")
        else:
            self._legend(("p_data", "p_g", "D", "D*"))
            self.c_dstar.setData([], [])
            self.plot.setAspectLocked(False)
            self.c_pdata.setData(static.x_grid, static.p_data)
            self.c_pg.setData([], [])
            self.c_d.setData([], [])
            self._ytop = max(1.0, float(static.p_data.max()) * 1.25)
            self.plot.setXRange(lo[0], hi[0], padding=0)
            theme.set_label(self.plot, "bottom", "x")
            theme.set_label(self.plot, "left", "density · D(x)")
            self.subtitle.setText("the paper's Figure 1: p_data (dotted), p_g (green), D (dashed), "
                                  "optimal D* = p_data/(p_data+p_g) (purple)")
            self._axes_1d(lo[0], hi[0])

    def _heat_mode_changed(self) -> None:
        on = self.dstar_cb.isChecked()
        theme.set_axis_title(self.cbar.getAxis("left"), "½ + (D − D*)/2" if on else "D(x)")
        if self.static is not None and self.static.dim == 2:
            name = self.static.name
            self.subtitle.setText(f"{name}: real · generated · D − D* (red: D below the optimum, blue: above)" if on
                                  else f"{name}: real · generated (fixed z) · D heatmap")
        self.last_iteration = -1

    def _axes_1d(self, lo: float, hi: float) -> None:
        yz, yx = -0.36 * self._ytop, -0.1 * self._ytop
        self.z_axis.setData([lo, hi], [yz, yz])
        self.x_axis.setData([lo, hi], [yx, yx])
        self.z_text.setPos(lo, yz)
        self.x_text.setPos(lo, yx)
        self.plot.setYRange(-0.42 * self._ytop, self._ytop, padding=0)

    def show_snapshot(self, snap) -> bool:
        st = self.static
        v = snap.views.get("field" if st is None or st.dim <= 2 else "samples")
        if v is None or st is None or snap.views_iteration == self.last_iteration:
            return False
        self.last_iteration = snap.views_iteration
        lo, hi = st.plane_bounds
        th = snap.views.get("theory") or {}
        if st.dim > 2:
            p = st.to_plane(v)
            self.fake.setData(p[:, 0], p[:, 1])
            self.subtitle.setText(f"{st.name}: {st.dim}-D points on the real data's first two principal axes "
                                  f"· real · generated (fixed z) · iteration {snap.views_iteration:,}")
        elif st.dim == 2:
            d = np.asarray(v["d"], np.float32)
            xs, ys = np.asarray(v["xs"], np.float64), np.asarray(v["ys"], np.float64)
            # checked before any plot item sees them: an image item left holding bad data crashes when painted
            if xs.ndim != 1 or ys.ndim != 1 or len(xs) < 2 or len(ys) < 2 or d.shape != (len(ys), len(xs)):
                raise ValueError(f"D's field has shape {d.shape}, expected {len(ys)}×{len(xs)} on its grid")
            if not np.isfinite(d).all():
                raise ValueError("D's field has NaN or infinite values")
            diff = self.dstar_cb.isChecked() and "diff" in th and np.shape(th["diff"]) == d.shape
            if diff:
                d = np.asarray(th["diff"], np.float32) * 0.5 + 0.5  # D − D* ∈ [−1, 1] on the same colour scale
                levels = (0.0, 1.0)
            elif st.sigmoid:
                levels = (0.0, 1.0)
            else:  # critic scores: centre the map on the mean between real and generated
                m = float(np.abs(d - np.median(d)).max()) or 1.0
                levels = (float(np.median(d)) - m, float(np.median(d)) + m)
            self.heat.setImage(d, autoLevels=False, levels=levels)
            key = (float(xs[0]), float(xs[-1]), len(xs), float(ys[0]), float(ys[-1]), len(ys))
            if key != getattr(self, "_heat_key", None):  # geometry changes rarely: set it only then
                dx, dy = (xs[-1] - xs[0]) / (len(xs) - 1), (ys[-1] - ys[0]) / (len(ys) - 1)
                self.heat.setRect(pg.QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
                self._heat_key = key
            if levels != getattr(self, "_levels", None):
                self.cbar.setLevels(levels)
                self._levels = levels
            fakes = snap.views.get("samples")
            if fakes is not None:
                self.fake.setData(fakes[:, 0], fakes[:, 1])
            arr = v.get("arrows")
            if arr is not None and self.arrows_cb.isChecked():
                p, g = arr
                seg = np.empty((len(p) * 2, 2))
                seg[0::2], seg[1::2] = p, p + g
                self.arrows.setData(seg[:, 0], seg[:, 1], connect="pairs")
                self.arrows.setVisible(True)
            else:
                self.arrows.setVisible(False)
        else:
            x = np.asarray(v["x"], np.float64)
            if x.ndim != 1 or len(x) < 2 or np.shape(v["p_g"]) != x.shape or np.shape(v["d"]) != x.shape:
                raise ValueError(f"p_g and D must have one value per point of x ({len(x)})")
            self.c_pg.setData(x, v["p_g"])
            self.c_d.setData(x, v["d"])
            if "d_star" in th and len(th["d_star"]) == len(x):
                self.c_dstar.setData(x, th["d_star"])
            top = max(1.0, float(st.p_data.max()) * 1.25, float(np.max(v["p_g"])) * 1.1)
            if top > self._ytop * 1.05 or top < self._ytop * 0.7:
                self._ytop = top
                self._axes_1d(lo[0], hi[0])
            lat = snap.views.get("latent")
            if lat is not None:
                z, gx = lat["z"], lat["x"][:, 0]
                idx = np.linspace(0, len(z) - 1, 19).astype(int)
                zl, zh = float(z.min()), float(z.max())
                zx = lo[0] + (z[idx] - zl) / max(zh - zl, 1e-12) * (hi[0] - lo[0])  # z's line drawn under x's
                yz, yx = -0.36 * self._ytop, -0.1 * self._ytop
                seg = np.empty((len(idx) * 2, 2))
                seg[0::2, 0], seg[0::2, 1] = zx, yz
                seg[1::2, 0], seg[1::2, 1] = np.clip(gx[idx], lo[0], hi[0]), yx
                self.map_lines.setData(seg[:, 0], seg[:, 1], connect="pairs")
        self.frames += 1
        return True
