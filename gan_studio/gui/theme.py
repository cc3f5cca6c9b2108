"""Colours, pens and fonts: a light theme readable on a projector (thick lines, large ticks)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui

REAL = (40, 100, 200)  # real data / D(x): blue
FAKE = (230, 100, 20)  # generated / D(G(z)): orange
D_COLOR = (30, 60, 200)
PDATA = (20, 20, 20)
PG = (20, 150, 60)
MUTED = (120, 120, 120)
REF = (110, 110, 110)
TEXT = (30, 30, 30)
WARN = "#b45309"
ERROR = "#b91c1c"
OK = "#15803d"

_configured = False


def configure() -> None:
    global _configured
    if _configured:
        return
    pg.setConfigOptions(background="w", foreground=TEXT, antialias=False, imageAxisOrder="row-major")
    _configured = True


def hexcolor(color) -> str:
    """'#rrggbb' for an (r, g, b) tuple, for rich-text labels that match the curves."""
    return "#%02x%02x%02x" % tuple(color[:3])


def pen(color, width: float = 2.5, style=None) -> QtGui.QPen:
    p = pg.mkPen(color=color, width=width)
    if style == "dash":
        p.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
    elif style == "dot":
        p.setStyle(pg.QtCore.Qt.PenStyle.DotLine)
    p.setCosmetic(True)
    return p


def brush(color, alpha: int = 255):
    return pg.mkBrush(*color[:3], alpha)


def style_plot(plot: pg.PlotItem, title: str | None = None, left: str | None = None, bottom: str | None = None,
               font_pt: int = 11) -> None:
    """Big tick labels and axis titles; no mouse menu clutter."""
    font = QtGui.QFont()
    font.setPointSize(font_pt)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.enableAutoSIPrefix(False)  # "share (x0.001)" helps nobody
        ax.setTickFont(font)
        ax.setPen(pg.mkPen(TEXT, width=1))
        ax.setTextPen(pg.mkPen(TEXT))
    if left:
        plot.setLabel("left", left, **{"font-size": f"{font_pt}pt"})
    if bottom:
        plot.setLabel("bottom", bottom, **{"font-size": f"{font_pt}pt"})
    if title:
        plot.setTitle(title, size=f"{font_pt + 1}pt")
    # no grid: pyqtgraph draws it inside the axes, which then repaint with every data update
    plot.setMenuEnabled(False)


def diverging_lut(n: int = 256):
    """D's colour map: red (D→0, "fake") through white (D = 0.5) to blue (D→1, "real")."""
    import numpy as np

    t = np.linspace(-1, 1, n)[:, None]
    white = np.array([255, 255, 255], float)
    blue = np.array([70, 120, 215], float)
    red = np.array([215, 75, 75], float)
    lut = np.where(t > 0, white + t * 0.75 * (blue - white), white - t * 0.75 * (red - white))
    return lut.astype(np.uint8)
