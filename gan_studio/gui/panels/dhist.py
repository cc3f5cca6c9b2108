"""Discriminator output: histograms of D(x) on real and D(G(z)) on generated examples, overlaid.

For sigmoid losses the axis is the probability [0, 1] with the 0.5 line (D cannot tell them apart there);
for critic losses (least squares, hinge, WGAN-GP) it is the raw score.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.views.viewspec import D_HIST
from .. import theme
from ..ranges import SteppedRange
from .base import Panel


class DHistPanel(Panel):
    title = "Discriminator output"
    key = D_HIST

    def __init__(self, parent=None, bins: int = 40) -> None:
        super().__init__(parent)
        self.bins = bins
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumSize(*theme.PLOT_MIN)
        self.body.addWidget(self.glw, 1)
        self.plot = self.glw.addPlot()
        theme.style_plot(self.plot, left="share of examples", bottom="D output")
        # the key sits in the subtitle, in the curves' colours: an in-plot legend always covers some bars
        self.c_real = self.plot.plot(stepMode="center", fillLevel=0, pen=theme.pen(theme.REAL),
                                     brush=theme.brush(theme.REAL, 70), name="D(x), real")
        self.c_fake = self.plot.plot(stepMode="center", fillLevel=0, pen=theme.pen(theme.FAKE),
                                     brush=theme.brush(theme.FAKE, 70), name="D(G(z)), generated")
        self.half = pg.InfiniteLine(pos=0.5, angle=90, pen=theme.pen(theme.REF, 1.5, "dash"), label="0.5",
                                    labelOpts={"position": 0.92, "color": theme.REF})
        self.plot.addItem(self.half, ignoreBounds=True)
        self.plot.setMouseEnabled(x=False, y=False)
        self.sigmoid = True
        self.y_range = SteppedRange(shrink=0.4, margin=0.05)
        self.x_range = SteppedRange(shrink=0.5, margin=0.02)

    def views(self, static) -> set[str]:
        return {D_HIST}

    def set_static(self, static) -> None:
        super().set_static(static)
        self.c_real.setData([0, 1], [0])
        self.c_fake.setData([0, 1], [0])
        self.y_range.reset()
        self.x_range.reset()
        if static is not None:
            self.set_sigmoid(static.sigmoid)

    def set_sigmoid(self, sigmoid: bool) -> None:
        self.sigmoid = sigmoid
        self.half.setVisible(sigmoid)
        self.x_range.reset()
        if sigmoid:
            self.plot.setXRange(0, 1, padding=0.02)
        theme.fit_axis_label(self.plot, "bottom", ("D output (probability of “real”)", "D output: P(real)",
                                                   "D output") if sigmoid else ("critic score",))
        real = f'<span style="color:{theme.hexcolor(theme.REAL)}; font-weight:600">■ real</span>'
        fake = f'<span style="color:{theme.hexcolor(theme.FAKE)}; font-weight:600">■ generated</span>'
        tail = " · 0.5: can't tell" if sigmoid else " (critic scores)"
        self.subtitle.setText(f"{real} &nbsp; {fake}{tail}")

    def show_snapshot(self, snap) -> bool:
        v = snap.views.get(D_HIST)
        if v is None or snap.views_iteration == self.last_iteration:
            return False
        self.last_iteration = snap.views_iteration
        real, fake = (np.asarray(a, np.float64) for a in v)
        real, fake = real[np.isfinite(real)], fake[np.isfinite(fake)]
        if self.sigmoid:
            lo, hi = 0.0, 1.0
        else:
            both = np.concatenate([real, fake]) if len(real) + len(fake) else np.zeros(1)
            lo, hi = float(np.percentile(both, 0.5)), float(np.percentile(both, 99.5))
            if self.x_range.update(lo, hi):
                self.plot.setXRange(self.x_range.lo, self.x_range.hi, padding=0)
            lo, hi = self.x_range.lo, self.x_range.hi
        edges = np.linspace(lo, hi, self.bins + 1)
        hr = np.histogram(np.clip(real, lo, hi), edges)[0] / max(len(real), 1)
        hf = np.histogram(np.clip(fake, lo, hi), edges)[0] / max(len(fake), 1)
        self.c_real.setData(edges, hr)
        self.c_fake.setData(edges, hf)
        # the y range grows at once and shrinks only when the bars use little of it
        top = float(max(hr.max(), hf.max(), 0.02))
        if self.y_range.update(0.0, top):
            self.plot.setYRange(0, self.y_range.hi, padding=0)
        self.frames += 1
        return True
