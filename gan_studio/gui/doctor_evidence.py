"""The doctor's marks on the panels and its desktop notifications.

* :class:`Evidence` highlights the selected finding's evidence: the iterations it covers as a shaded band on
  both loss plots (labelled with the finding and the range), the modes G misses circled on the toy field
  (mode collapse and hopping, D too weak: 3σ circles around the modes that get almost no samples), and the
  evidence's mean D(x) and D(G(z)) as lines on the D-output histogram (D wins, vanishing gradient, D too weak).
  The plot items are made once and shown, hidden or moved.
* :class:`Notifier` decides which findings become a desktop notification (a tray message): a new problem of
  severity "warning" or worse, once per finding and run, only while the window is not in front; without a
  system tray the window asks for attention instead (its taskbar entry flashes).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.doctor.rules import SEVERITIES
from . import theme

BAND = (245, 158, 11)  # the evidence's iterations: amber
MISSED = (200, 30, 30)  # the modes G misses: red
MODE_RULES = ("mode-collapse", "mode-hopping", "d-too-weak")
D_RULES = ("d-wins", "vanishing-gradient", "d-too-weak")


class Evidence:
    def __init__(self, window) -> None:
        self.w = window
        L = window.losses
        self.bands = []
        for plot in (L.p_loss, L.p_d):
            band = pg.LinearRegionItem(values=(0, 1), orientation="vertical", movable=False,
                                       brush=pg.mkBrush(*BAND, 70), pen=theme.pen(BAND, 2))
            band.setZValue(-5)
            plot.addItem(band, ignoreBounds=True)
            band.hide()
            self.bands.append(band)
        # above the curves, at the top of the band (moved when the plot's range changes)
        self.band_label = pg.TextItem("", color=(120, 60, 0), anchor=(0, 0), fill=(255, 255, 255, 220),
                                      border=theme.pen(BAND, 1.5))
        f = QtGui.QFont()
        f.setPointSize(11)
        f.setBold(True)
        self.band_label.setFont(f)
        self.band_label.setZValue(50)
        L.p_loss.addItem(self.band_label, ignoreBounds=True)
        self.band_label.hide()
        L.p_loss.sigRangeChanged.connect(lambda *_: self._place_label())
        fp = window.field.plot
        self.circles = pg.ScatterPlotItem(pxMode=False, symbol="o", brush=None, pen=theme.pen(MISSED, 3, "dash"))
        self.circles.setZValue(20)
        fp.addItem(self.circles)
        self.circle_label = pg.TextItem("", color=MISSED, anchor=(0, 1), fill=(255, 255, 255, 210))
        self.circle_label.setFont(f)
        self.circle_label.setZValue(21)
        fp.addItem(self.circle_label, ignoreBounds=True)
        self.circle_label.hide()
        dp = window.dhist.plot
        self.d_lines, self.d_labels = [], []
        for color in (theme.REAL, theme.FAKE):
            ln = pg.InfiniteLine(angle=90, pen=theme.pen(color, 4, "dash"))
            lab = pg.TextItem("", color=color, fill=(255, 255, 255, 220))
            lab.setFont(f)
            lab.setZValue(30)
            dp.addItem(ln, ignoreBounds=True)
            dp.addItem(lab, ignoreBounds=True)
            lab.hide()
            self.d_lines.append(ln)
            self.d_labels.append(lab)
        dp.sigRangeChanged.connect(lambda *_: self._place_d_labels())
        self.finding: dict | None = None
        self.iterations: tuple | None = None  # the band shown (tests read it)
        self.missed: list[int] = []  # the modes circled
        self._followed = 0.0
        self.show(None)

    def show(self, d: dict | None, snap=None) -> None:
        """Highlight the evidence of finding ``d`` (None: nothing)."""
        self.finding = d
        its = d.get("evidence", {}).get("iterations") if d else None
        if isinstance(its, (list, tuple)) and len(its) == 2 and d["severity"] != "ok":
            a, b = float(its[0]), float(its[1])
            width = max(self.w.losses.x_range, b, 1.0) * 0.006  # a single iteration still shows as a line
            lo, hi = (a - width, b + width) if b - a < 2 * width else (a, b)
            for band in self.bands:
                band.setRegion((lo, hi))
                band.show()
            _label(self.band_label, f"{d['title']}: iterations {int(a):,}–{int(b):,}")
            self.band_label.show()
            self.iterations = (int(a), int(b))
            self._place_label()
        else:
            for band in self.bands:
                band.hide()
            self.band_label.hide()
            self.iterations = None
        self._show_d(d)
        self._show_modes(d, snap)

    def _place_label(self) -> None:
        if self.iterations is not None:
            (x0, x1), (_, y1) = self.w.losses.p_loss.viewRange()
            self.band_label.setPos(min(max(self.iterations[0], x0), x0 + 0.5 * (x1 - x0)), y1)

    def follow(self, snap) -> None:
        """A new snapshot: the circled modes follow the samples (at most twice a second)."""
        d = self.finding
        if d is None or d["name"] not in MODE_RULES:
            return
        now = time.perf_counter()
        if now - self._followed >= 0.5:
            self._followed = now
            try:
                self._show_modes(d, snap)
            except Exception:  # noqa: BLE001 - samples it cannot read: no circles, the window goes on
                self.circles.setData([], [])
                _label(self.circle_label, "")

    def _show_d(self, d: dict | None) -> None:
        ev = d.get("evidence", {}) if d else {}
        on = bool(d) and d["name"] in D_RULES and self.w.dhist.sigmoid
        for ln, lab, key, name in zip(self.d_lines, self.d_labels, ("d_real", "d_fake"), ("D(x)", "D(G(z))")):
            v = ev.get(key)
            shown = bool(on and isinstance(v, (int, float)) and np.isfinite(v))
            if shown:
                ln.setValue(float(v))
                _label(lab, f"mean {name} {v:.2f}")
                lab.setAnchor((1, 0.5) if v > 0.5 else (0, 0.5))  # the text beside the line, inside the plot
            ln.setVisible(shown)
            lab.setVisible(shown)
        self._place_d_labels()

    def _place_d_labels(self) -> None:
        (_, _), (y0, y1) = self.w.dhist.plot.viewRange()
        for ln, lab, at in zip(self.d_lines, self.d_labels, (0.8, 0.6)):
            lab.setPos(ln.value(), y0 + at * (y1 - y0))

    def _show_modes(self, d: dict | None, snap) -> None:
        st = self.w.controller.static
        self.missed = []
        samples = snap.views.get("samples") if snap is not None else None
        if (d is None or d["name"] not in MODE_RULES or st is None or st.kind != "points" or st.dim < 2
                or st.centers is None or not st.sigma or samples is None or len(samples) == 0):
            self.circles.setData([], [])
            _label(self.circle_label, "")
            return
        c = np.asarray(st.centers, np.float64).reshape(len(st.centers), -1)
        x = np.asarray(samples, np.float64).reshape(len(samples), -1)
        x = x[np.isfinite(x).all(1)]
        near = ((x[:, None, :] - c[None]) ** 2).sum(-1).argmin(1) if len(x) else np.zeros(0, int)
        share = np.bincount(near, minlength=len(c)) / max(len(x), 1)
        self.missed = [i for i in range(len(c)) if share[i] < 0.25 / len(c)]  # under a quarter of a fair share
        lo, hi = st.plane_bounds  # more than 2-D: the modes drawn where the field panel projects them
        # a 3σ circle, or one a tenth of the field wide where the modes are too narrow for that to show
        size = max(6.0 * float(st.sigma), 0.1 * float(np.min(np.asarray(hi) - np.asarray(lo))))
        pts = st.to_plane(c)[self.missed]
        self.circles.setData(pts[:, 0], pts[:, 1], size=size)
        self.circle_label.setPos(float(lo[0]), float(lo[1]))
        _label(self.circle_label, f"circled: {len(self.missed)} of {len(c)} modes G misses" if self.missed else "")


class Notifier:
    """Desktop notifications for new problems, "warning" or worse, while the window is not in front."""

    def __init__(self, window) -> None:
        self.w = window
        self.tray: QtWidgets.QSystemTrayIcon | None = None
        self.done: set[str] = set()  # findings notified in this run
        self.sent: list[dict] = []  # every notification (title, text, how it was delivered)

    def reset(self) -> None:
        self.done = set()

    def window_in_front(self) -> bool:
        w = self.w
        return w.isVisible() and not w.isMinimized() and QtWidgets.QApplication.activeWindow() is w

    def wanted(self, d: dict) -> bool:
        """A new (or returning) problem of severity warning or worse, not notified before in this run."""
        return (d.get("status") in ("new", "back") and d.get("severity") in SEVERITIES
                and SEVERITIES.index(d["severity"]) >= SEVERITIES.index("warning") and d.get("name") not in self.done)

    def consider(self, d: dict) -> bool:
        """Notify about finding ``d`` if it is wanted and the window is not in front; True when notified."""
        if not self.wanted(d) or self.window_in_front():
            return False
        self.done.add(d["name"])
        title, text = f"GAN Studio · {d['title']}", d["sentence"]
        text = text if len(text) < 300 else text[:297] + "…"
        tray = QtWidgets.QSystemTrayIcon.isSystemTrayAvailable()
        self.sent.append({"name": d["name"], "title": title, "text": text, "tray": tray})
        if tray:
            if self.tray is None:
                icon = self.w.windowIcon()
                if icon.isNull():
                    icon = self.w.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MessageBoxWarning)
                self.tray = QtWidgets.QSystemTrayIcon(icon, self.w)
                self.tray.setToolTip("GAN Studio")
                self.tray.messageClicked.connect(self._bring_to_front)
            self.tray.show()
            kind = (QtWidgets.QSystemTrayIcon.MessageIcon.Critical if d["severity"] == "critical"
                    else QtWidgets.QSystemTrayIcon.MessageIcon.Warning)
            self.tray.showMessage(title, text, kind, 15000)
        else:
            QtWidgets.QApplication.alert(self.w, 0)  # no tray: the taskbar entry asks for attention
        return True

    def _bring_to_front(self) -> None:
        w = self.w
        if w.isMinimized():
            w.showNormal()
        w.raise_()
        w.activateWindow()
        QtCore.QTimer.singleShot(0, lambda: getattr(w, "doctor", None) and w.doctor.dock.show())


def _label(item, text: str) -> None:
    """Set a filled label's text; an empty one is hidden (its white fill would show as a small box)."""
    item.setText(text)
    item.setVisible(bool(text))
