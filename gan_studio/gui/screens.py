"""The studio on the screen it is on: the window's first size and place, what is kept per screen size, and
the check that every layout fits (used by tests/test_screens.py and by anyone who wants to know why a
layout does not fit). All sizes are device-independent pixels: Qt scales them on high-DPI screens."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

#: the window's size on a screen with room for it
PREFERRED = (1440, 900)
#: the smallest plot area (a plot's data box, inside its axes) that can still be read: width, height
READABLE_PLOT = (100, 50)


def screen_of(widget: QtWidgets.QWidget):
    return widget.screen() or QtWidgets.QApplication.primaryScreen()


def screen_key(widget: QtWidgets.QWidget) -> str:
    """'1280x720': the size of the screen the widget is on (device-independent pixels), for the settings
    that are kept per screen size."""
    s = screen_of(widget)
    if s is None:
        return "default"
    g = s.geometry()
    return f"{g.width()}x{g.height()}"


def fit_window(window: QtWidgets.QWidget, preferred: tuple[int, int] = PREFERRED) -> None:
    """Give a window that is not shown yet its first size: ``preferred`` where it fits on the screen with
    its frame, else the whole available screen."""
    s = screen_of(window)
    resize = QtWidgets.QWidget.resize  # (not a window's own resize(), which marks a size its caller chose)
    if s is None:
        resize(window, *preferred)
        return
    avail = s.availableGeometry()
    frame = 40  # a title bar and borders; the real margins are known only once the window is shown
    if preferred[0] + 16 <= avail.width() and preferred[1] + frame <= avail.height():
        resize(window, *preferred)
        window.move(avail.center() - QtCore.QPoint(preferred[0] // 2, (preferred[1] + frame) // 2))
    else:
        resize(window, avail.width() - 8, avail.height() - frame)  # (not maximised: a later resize() still works)
        window.move(avail.topLeft())


def clamp_to_screen(window: QtWidgets.QWidget) -> None:
    """A restored geometry that is larger than the screen (saved on a bigger one) is cut down to it."""
    s = screen_of(window)
    if s is None or window.isFullScreen():
        return
    # the minimum sizes of what just changed are settled first (else the old minimum holds the window)
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
    avail = s.availableGeometry()
    g = window.geometry()
    if g.width() > avail.width() or g.height() > avail.height() or not avail.intersects(g):
        fit_window(window, (min(g.width(), avail.width()), min(g.height(), avail.height())))


def _global_rect(w: QtWidgets.QWidget) -> QtCore.QRect:
    return QtCore.QRect(w.mapToGlobal(QtCore.QPoint(0, 0)), w.size())


def _visible_area(w: QtWidgets.QWidget) -> QtCore.QRect:
    """The part of ``w`` not clipped away by its ancestors (in global coordinates)."""
    r = _global_rect(w)
    p = w.parentWidget()
    while p is not None:
        r = r.intersected(_global_rect(p))
        p = p.parentWidget()
    return r


def layout_problems(window: QtWidgets.QWidget) -> dict:
    """What does not fit: the window outside its screen (or, presenting, not exactly the screen), a shown
    panel outside the window or clipped, a plot smaller than :data:`READABLE_PLOT`, a dock outside.
    Returns {"problems": [one line each], "window": [x, y, w, h], "panels": {key: [w, h] of its plot}}."""
    import pyqtgraph as pg

    from .panels.base import Panel

    problems: list[str] = []
    s = screen_of(window)
    sg, avail = s.geometry(), s.availableGeometry()
    fg, g = window.frameGeometry(), window.geometry()
    presenting = bool(getattr(window, "presenting", False))
    if presenting:
        if g != sg:
            problems.append(f"presentation does not fill the screen: window {_r(g)}, screen {_r(sg)}")
    elif not avail.contains(fg):
        problems.append(f"window {_r(fg)} (with its frame) lies outside the screen {_r(avail)}")
    if window.minimumSizeHint().width() > sg.width() or window.minimumSize().width() > sg.width():
        problems.append(f"minimum width {max(window.minimumSizeHint().width(), window.minimumSize().width())} > "
                        f"screen {sg.width()}")
    if window.minimumSizeHint().height() > sg.height() or window.minimumSize().height() > sg.height():
        problems.append(f"minimum height {max(window.minimumSizeHint().height(), window.minimumSize().height())} "
                        f"> screen {sg.height()}")
    panels: dict[str, list[int]] = {}
    shown = [p for p in window.findChildren(Panel) if p.isVisible()]
    if not shown:
        problems.append("no panel is shown")
    for p in shown:
        name = f"{p.key} panel"
        r, vis = _global_rect(p), _visible_area(p)
        if not g.contains(r):
            problems.append(f"{name} {_r(r)} lies outside the window {_r(g)}")
        if not sg.contains(r):
            problems.append(f"{name} {_r(r)} lies outside the screen {_r(sg)}")
        if vis != r:
            problems.append(f"{name} is clipped: {_r(vis)} of {_r(r)} visible")
        boxes = []
        for v in p.findChildren(pg.GraphicsView):
            if v.isVisible():
                boxes += [it for it in v.scene().items() if isinstance(it, pg.ViewBox) and it.isVisible()
                          and it.width() >= 30]  # (not a colour bar's strip)
        sizes = sorted((round(b.width()), round(b.height())) for b in boxes)
        panels[p.key] = [list(s) for s in sizes]
        for bw, bh in sizes:
            if bw < READABLE_PLOT[0] or bh < READABLE_PLOT[1]:
                problems.append(f"{name} has a plot of {bw}×{bh}, smaller than the readable "
                                f"{READABLE_PLOT[0]}×{READABLE_PLOT[1]}")
    for d in window.findChildren(QtWidgets.QDockWidget):
        if d.isVisible() and not d.isFloating() and not d.visibleRegion().isEmpty():  # (not a tab behind)
            r = _global_rect(d)
            if not g.contains(r):
                problems.append(f"dock {d.windowTitle()!r} {_r(r)} lies outside the window {_r(g)}")
            if d.width() < 120 and not d.visibleRegion().isEmpty():
                problems.append(f"dock {d.windowTitle()!r} is squeezed to {d.width()} px")
    return {"problems": problems, "window": [g.x(), g.y(), g.width(), g.height()], "panels": panels}


def _r(r: QtCore.QRect) -> str:
    return f"{r.width()}×{r.height()}+{r.x()}+{r.y()}"


def thin_pens(window: QtWidgets.QWidget) -> list[str]:
    """Curves and lines drawn with pens that scale with the view (not cosmetic): on a 2× screen or in an
    exported picture their width would change. The studio draws every one cosmetic."""
    import pyqtgraph as pg

    bad = []
    for gv in window.findChildren(pg.GraphicsView):
        for item in gv.scene().items():
            pen = None
            if isinstance(item, pg.PlotCurveItem):
                pen = item.opts.get("pen")
            elif isinstance(item, pg.InfiniteLine):
                pen = item.pen
            if pen is not None:
                pen = pg.mkPen(pen)
                if pen.style() != QtCore.Qt.PenStyle.NoPen and not pen.isCosmetic():
                    bad.append(f"{type(item).__name__} in {gv.parentWidget().objectName() or type(gv).__name__}")
    return bad
