"""Losses: D and G losses over iterations with their equilibrium values, and mean D(x), mean D(G(z)).

Curves are bucket means in bounded memory (:class:`DecimatingSeries`), so a run of millions of
iterations draws as fast as one of a thousand.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg

from ...core.columns import COL
from ...core.views.viewspec import LOSSES
from .. import theme
from ..ranges import SteppedRange, nice_ceil
from ..series import DecimatingSeries
from .base import Panel, WrapLabel

_EQ_NAMES = {math.log(4): "log 4", math.log(2): "log 2", -math.log(2): "−log 2"}


def _eq_label(v: float) -> str:
    for val, name in _EQ_NAMES.items():
        if abs(v - val) < 1e-9:
            return name
    return f"{v:g}"


class LossesPanel(Panel):
    title = "Losses"
    key = LOSSES

    #: curves over thousands of iterations need no more than this many redraws per second
    max_fps = 8.0

    def __init__(self, parent=None, capacity: int = 1024) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumSize(*theme.PLOT2_MIN)
        self.body.addWidget(self.glw, 1)
        self.p_loss = self.glw.addPlot(row=0, col=0)
        self.p_d = self.glw.addPlot(row=1, col=0)
        self.p_d.setXLink(self.p_loss)
        theme.style_plot(self.p_loss, left="loss")
        theme.style_plot(self.p_d, left="mean D", bottom="iteration")
        self.c_d = self.p_loss.plot(pen=theme.pen(theme.REAL), name="D loss")
        self.c_g = self.p_loss.plot(pen=theme.pen(theme.FAKE), name="G loss")
        self.c_dx = self.p_d.plot(pen=theme.pen(theme.REAL), name="D(x)")
        self.c_dg = self.p_d.plot(pen=theme.pen(theme.FAKE), name="D(G(z))")
        for p in (self.p_loss, self.p_d):
            p.disableAutoRange()
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
        self.x_range = 0.0
        self.y_loss = SteppedRange()
        self.y_d = SteppedRange()
        self._last_draw = 0.0
        lab = {"position": 0.98, "anchors": [(1, 1), (1, 1)], "color": theme.REF, "fill": (255, 255, 255, 200)}
        # equilibrium values are named in the subtitle: in-plot labels collide when the two lines are close
        self.eq_d = pg.InfiniteLine(angle=0, pen=theme.pen(theme.REAL, 1.5, "dash"))
        self.eq_g = pg.InfiniteLine(angle=0, pen=theme.pen(theme.FAKE, 1.5, "dash"))
        self.half = pg.InfiniteLine(pos=0.5, angle=0, pen=theme.pen(theme.REF, 1.5, "dash"), label="0.5",
                                    labelOpts=lab)
        for ln, p in ((self.eq_d, self.p_loss), (self.eq_g, self.p_loss), (self.half, self.p_d)):
            p.addItem(ln, ignoreBounds=True)
        self.series = {k: DecimatingSeries(capacity) for k in ("d_loss", "g_loss", "d_real", "d_fake")}
        self.readout = WrapLabel("")
        f = self.readout.font()
        f.setPointSize(11)
        self.readout.setFont(f)
        self.body.addWidget(self.readout)

    def set_static(self, static) -> None:
        super().set_static(static)
        for s in self.series.values():
            s.clear()
        for c in (self.c_d, self.c_g, self.c_dx, self.c_dg):
            c.setData([], [])
        self.readout.setText("")
        self.x_range = 0.0
        self.y_loss.reset()
        self.y_d.reset()
        if static is not None:
            self.set_loss(static.loss, static.sigmoid, static.d_equilibrium, static.g_equilibrium)

    def reset_after_error(self) -> None:
        self._dirty = False  # keep the curves: they hold the run's whole history

    def set_loss(self, loss: str, sigmoid: bool, d_eq: float, g_eq: float) -> None:
        """Reference lines for the chosen loss (it can change mid-run)."""
        self.eq_d.setValue(d_eq)
        self.eq_g.setValue(g_eq)
        self.half.setVisible(sigmoid)
        theme.fit_axis_label(self.p_d, "left", ("mean D",) if sigmoid else ("mean critic score", "critic score",
                                                                            "critic"))
        self.subtitle.setText(f"{loss} loss · dashed: equilibrium, D = {_eq_label(d_eq)}, G = {_eq_label(g_eq)}")

    def add_stats(self, stats: np.ndarray) -> None:
        """Append drained per-iteration statistics (rows of the statistics columns, core/columns.py)."""
        if len(stats) == 0:
            return
        it = stats[:, COL["iteration"]]
        for k in self.series:
            col = stats[:, COL[k]]
            ok = np.isfinite(col)  # a D-only or G-only step leaves the other loss undefined
            if ok.any():
                self.series[k].append(it[ok], col[ok])
        self._dirty = True

    def show_snapshot(self, snap) -> bool:
        now = time.perf_counter()
        if not getattr(self, "_dirty", False) or now - self._last_draw < 1.0 / self.max_fps:
            return False
        self._dirty = False
        self._last_draw = now
        x_max = 0.0
        for curve, k in ((self.c_d, "d_loss"), (self.c_g, "g_loss"), (self.c_dx, "d_real"), (self.c_dg, "d_fake")):
            x, y = self.series[k].data()
            curve.setData(x.copy(), y.copy())
            if len(x):
                x_max = max(x_max, float(x[-1]))
        if x_max > self.x_range:
            self.x_range = nice_ceil(x_max * 1.05)
            self.p_loss.setXRange(0, self.x_range, padding=0)
        for plot, rng, keys, extra in ((self.p_loss, self.y_loss, ("d_loss", "g_loss"),
                                        (self.eq_d.value(), self.eq_g.value())),
                                       (self.p_d, self.y_d, ("d_real", "d_fake"),
                                        (0.5,) if self.half.isVisible() else ())):
            ys = [self.series[k].data()[1] for k in keys if len(self.series[k])]
            if ys:
                allv = np.concatenate(ys)
                lo, hi = float(np.percentile(allv, 1)), float(np.percentile(allv, 99))
                lo, hi = min([lo, *extra]), max([hi, *extra])
                if rng.update(lo, hi):
                    plot.setYRange(rng.lo, rng.hi, padding=0)
        last = {k: s.data()[1][-1] for k, s in self.series.items() if len(s)}
        if last:
            # the readout doubles as the legend: each name in its curve's colour
            blue, orange = theme.hexcolor(theme.REAL), theme.hexcolor(theme.FAKE)
            self.readout.setText("&nbsp; ".join(  # (wraps between the entries when the panel is narrow)
                f"<span style='color:{col}'><b>━&nbsp;{name.replace(' ', '&nbsp;')}</b>&nbsp;{last[k]:.3f}</span>"
                for name, k, col in
                (("D loss", "d_loss", blue), ("G loss", "g_loss", orange), ("D(x)", "d_real", blue),
                 ("D(G(z))", "d_fake", orange)) if k in last))
        self.frames += 1
        return True
