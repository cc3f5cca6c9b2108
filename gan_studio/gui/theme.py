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

#: the smallest plot a panel is given (device-independent pixels, like every size here: Qt scales them on
#: high-DPI screens, and pens are cosmetic, so lines keep their width at 1×, 1.5× and 2×); a shown panel
#: with a smaller plot is unreadable (tests/test_screens.py fails it)
PLOT_MIN = (150, 120)
#: ... and a panel whose view holds two plots one above the other (losses and mean D; modes and nats)
PLOT2_MIN = (150, 200)

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
        set_label(plot, "left", left, **{"font-size": f"{font_pt}pt"})
    if bottom:
        set_label(plot, "bottom", bottom, **{"font-size": f"{font_pt}pt"})
    if title:
        plot.setTitle(title, size=f"{font_pt + 1}pt")
    # no grid: pyqtgraph draws it inside the axes, which then repaint with every data update
    plot.setMenuEnabled(False)


def set_axis_title(ax: pg.AxisItem, text: str, **style) -> None:
    """An axis title (in the style it has unless ``style`` is given), centred again: pyqtgraph places a title
    only when the axis is resized, so a new one sat where the old one's centre put it, cut off at the edge."""
    ax.setLabel(text, **style)
    ax.resizeEvent()


def set_label(plot: pg.PlotItem, side: str, text: str, **style) -> None:
    """:func:`set_axis_title` for one side of a plot (shown if it was hidden, as ``PlotItem.setLabel`` does)."""
    plot.showAxis(side)
    set_axis_title(plot.getAxis(side), text, **style)


def fit_axis_label(plot: pg.PlotItem, side: str, texts, font_pt: int = 11) -> None:
    """The axis title: the first of ``texts`` (longest first) that fits along the axis, chosen again whenever
    the axis changes size -- a long title cut off in a narrow panel ("D output (proba") reads as nonsense."""
    ax = plot.getAxis(side)
    ax.gs_texts = tuple(texts)

    def fit(*_) -> None:
        font = QtGui.QFont()
        font.setPointSize(font_pt)
        fm = QtGui.QFontMetrics(font)
        room = (ax.width() if side in ("bottom", "top") else ax.height()) - 8
        pick = next((t for t in ax.gs_texts if fm.horizontalAdvance(t) <= room), ax.gs_texts[-1])
        if pick != ax.labelText:
            set_label(plot, side, pick)

    if not getattr(ax, "gs_fitting", False):
        ax.gs_fitting = True
        ax.geometryChanged.connect(fit)
    fit()


def diverging_lut(n: int = 256):
    """D's colour map: red (D→0, "fake") through white (D = 0.5) to blue (D→1, "real")."""
    import numpy as np

    t = np.linspace(-1, 1, n)[:, None]
    white = np.array([255, 255, 255], float)
    blue = np.array([70, 120, 215], float)
    red = np.array([215, 75, 75], float)
    lut = np.where(t > 0, white + t * 0.75 * (blue - white), white - t * 0.75 * (red - white))
    return lut.astype(np.uint8)


# ------------------------------------------------------------------------------------------ presentation mode
PRESENT_FONT_SCALE = 1.6  # on a 1080-line screen; present_scales() sizes it from the screen itself
PRESENT_LINE_SCALE = 2.0
#: presentation type is sized from the screen: its height over this (device-independent pixels) is the
#: factor, kept between the bounds: 1080 lines → 1.6×; 720 → 1.5× (the floor: still readable from the back
#: of a hall, and the layout shows fewer panels instead); a 4K screen at 1× scaling (2160 lines) → 3×
PRESENT_LINES_PER_SCALE = 675
PRESENT_SCALE_BOUNDS = (1.5, 3.0)


def present_scales(screen=None) -> tuple[float, float]:
    """(type, lines) factors for presentation mode on ``screen`` (the primary one when None).

    From the screen's height in device-independent pixels — how big the projected picture is in type
    lines — not from its reported physical size: projectors report none or a made-up one."""
    from PySide6 import QtWidgets

    screen = screen or QtWidgets.QApplication.primaryScreen()
    if screen is None:
        return PRESENT_FONT_SCALE, PRESENT_LINE_SCALE
    lo, hi = PRESENT_SCALE_BOUNDS
    font = min(hi, max(lo, screen.geometry().height() / PRESENT_LINES_PER_SCALE))
    return round(font, 2), round(max(PRESENT_LINE_SCALE, font * 1.25), 2)


def set_presentation(root, on: bool, scales: tuple[float, float] | None = None) -> None:
    """Large type, thick lines and full-contrast text for a projector; ``on=False`` restores everything.

    Works on what is already built (fonts of widgets and axes, pens of curves), remembering the originals
    on each object, so toggling is lossless and new panels need no special code."""
    from PySide6 import QtWidgets

    font_scale, line_scale = scales or (PRESENT_FONT_SCALE, PRESENT_LINE_SCALE)
    widgets = [w for w in [root, *root.findChildren(QtWidgets.QWidget)] if not isinstance(w, pg.GraphicsView)]
    for w in widgets:  # remember every original size first: children inherit the parent's font
        if w.property("gs_font_pt") is None and w.font().pointSizeF() > 0:
            w.setProperty("gs_font_pt", w.font().pointSizeF())
    for w in widgets:
        f0 = w.property("gs_font_pt")
        if f0 is None:
            continue
        f = w.font()
        f.setPointSizeF(float(f0) * (font_scale if on else 1.0))
        w.setFont(f)
    for gv in root.findChildren(pg.GraphicsView):
        scene = gv.scene()
        if scene is None:
            continue
        for item in scene.items():
            _present_item(item, on, font_scale, line_scale)


def _present_item(item, on: bool, font_scale: float = PRESENT_FONT_SCALE,
                  line_scale: float = PRESENT_LINE_SCALE) -> None:
    if isinstance(item, pg.AxisItem):
        if not hasattr(item, "_gs_font"):
            item._gs_font = QtGui.QFont(item.style.get("tickFont") or QtGui.QFont())
            if item._gs_font.pointSizeF() <= 0:
                item._gs_font.setPointSizeF(11)
        f = QtGui.QFont(item._gs_font)
        if on:
            f.setPointSizeF(item._gs_font.pointSizeF() * font_scale)
            f.setBold(True)
        item.setTickFont(f)
        item.setPen(pg.mkPen((0, 0, 0), width=2 if on else 1))
        item.setTextPen(pg.mkPen((0, 0, 0) if on else TEXT))
        lab = getattr(item, "label", None)
        if lab is not None:
            if not hasattr(item, "_gs_label_font"):
                item._gs_label_font = QtGui.QFont(lab.font())
            lf = QtGui.QFont(item._gs_label_font)
            if on:
                lf.setPointSizeF(max(lf.pointSizeF(), 11) * font_scale)
            lab.setFont(lf)
    elif isinstance(item, (pg.PlotCurveItem, pg.PlotDataItem, pg.InfiniteLine)):
        if isinstance(item, pg.PlotCurveItem) and isinstance(item.parentItem(), pg.PlotDataItem):
            return  # its PlotDataItem sets it
        get = item.opts.get("pen") if isinstance(item, pg.PlotCurveItem) else (
            item.opts.get("pen") if isinstance(item, pg.PlotDataItem) else item.pen)
        if get is None:
            return
        if not hasattr(item, "_gs_pen"):
            item._gs_pen = QtGui.QPen(pg.mkPen(get))
        p = QtGui.QPen(item._gs_pen)
        if on:
            p.setWidthF(max(1.0, p.widthF()) * line_scale)
        item.setPen(p)
    elif isinstance(item, pg.ScatterPlotItem):
        if not hasattr(item, "_gs_size"):
            item._gs_size = item.opts.get("size", 5)
        item.setSize(item._gs_size * (0.75 * line_scale if on else 1.0))
    elif isinstance(item, pg.LabelItem) and hasattr(item, "item"):
        if not hasattr(item, "_gs_font"):
            item._gs_font = QtGui.QFont(item.item.font())
        f = QtGui.QFont(item._gs_font)
        if on and f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * font_scale)
        item.item.setFont(f)
