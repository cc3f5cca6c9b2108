"""Draw your own distribution on the toy field (Run → Draw a distribution…, or ✎ Draw on the field panel).

The field panel becomes a canvas: a brush sprays points (radius, density), the eraser removes them, and
stamps place a ring, a line or a Gaussian blob (press and drag: the drag sets the ring's radius, the line's
end, the blob's σ). "Train on this" starts a new live run on the drawn points (the ``drawn`` dataset, whose
points travel in the run's configuration: recording, checkpoint, recipe).

The drawing is one :class:`PointCloud` item (an array and one pre-drawn dot stamped per point), redrawn at most
once per display frame however fast the mouse moves, so drawings of 10,000+ points stay fluid.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.train.config import DATASET_KINDS, ConfigError, TrainConfig, defaults_for_dataset
from ..core.train.data.drawing import DrawnPoints, decode_points, stamp_count
from . import theme
from .drawing_tools import DrawToolbar, PointCloud

CANVAS = (-4.0, 4.0)  # the drawing area, in data units (both axes)


class DrawingMode(QtCore.QObject):
    """The drawing mode of the window's toy field. ``points`` (get/set) is the drawing as an N×2 array."""

    changed = QtCore.Signal(int)  # the number of points, after every change

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.field = window.field
        self.model = DrawnPoints(seed=0)
        self.active = False
        self.bar = DrawToolbar()
        self.bar.setVisible(False)
        self.field.body.insertWidget(0, self.bar)
        self.scatter = PointCloud()
        self.scatter.setZValue(20)
        self.preview = pg.PlotCurveItem(pen=theme.pen((200, 60, 20), 2, "dash"))
        self.preview.setZValue(21)
        for it in (self.scatter, self.preview):
            it.setVisible(False)
            self.field.plot.addItem(it)
        self.draw_button = QtWidgets.QToolButton()
        self.draw_button.setText("✎ Draw")
        self.draw_button.setAutoRaise(True)
        self.draw_button.setToolTip("draw your own distribution on the field and train on it")
        self.draw_button.clicked.connect(lambda: self.toggle())
        self.field.tools.addWidget(self.draw_button)
        self.viewport = self.field.glw.viewport()
        self.viewport.setMouseTracking(True)
        self.viewport.installEventFilter(self)
        self._press: np.ndarray | None = None  # where the button went down (data units)
        self._last: np.ndarray | None = None
        self._drawn_version = -1
        self._saved: dict = {}
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(16)  # at most one redraw per frame, however many mouse events arrive
        self._timer.timeout.connect(self.flush)
        self.bar.clear.clicked.connect(lambda: self.clear())
        self.bar.train.clicked.connect(lambda: self.train())
        self.bar.done.clicked.connect(lambda: self.leave())  # (clicked passes False)
        self.bar.radius.valueChanged.connect(lambda _: self._hover_outline())

    # -- the points (for recipes and tests) ---------------------------------------------------------
    @property
    def points(self) -> np.ndarray:
        return self.model.get_points()

    @points.setter
    def points(self, value) -> None:
        self.model.set_points(value)
        self._changed()

    def dataset_args(self) -> dict | None:
        """The ``drawn`` dataset's arguments for the drawing, or None when it has fewer than 2 points."""
        return self.model.dataset_args() if len(self.model) >= 2 else None

    # -- entering and leaving -----------------------------------------------------------------------
    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w, f = self.w, self.field
        c = w.controller
        self._resume = not c.is_replay and c.state == "running"
        if self._resume:
            c.handle.pause()
        if len(self.model) == 0:  # a drawn run shown now (live or a recording): start from its points
            try:
                folder = getattr(c.handle, "folder", None) if c.is_replay else None
                cfg = folder.config if folder is not None else None if c.is_replay else w.runs.current_config()
                if cfg is not None and cfg.dataset == "drawn" and "points" in cfg.dataset_args:
                    self.model.set_points(decode_points(cfg.dataset_args["points"]))
            except ConfigError:  # unusable settings or points: start from an empty canvas
                pass
        vb = f.plot.vb
        top = [p for p in (w.samples, w.latent, w.layout_.bottom) if p.isVisible()]  # the canvas takes their room
        mine = (self.scatter, self.preview)
        hide = list(dict.fromkeys(it for it in (*f._items_2d, *f._items_1d, *f.plot.items)
                                  if it.isVisible() and it not in mine))
        hide += [cb for cb in (f.arrows_cb, f.dstar_cb) if cb.isVisible()]
        if f.plot.legend is not None and f.plot.legend.isVisible():
            hide.append(f.plot.legend)
        self._saved = dict(range=vb.viewRange(), aspect=vb.state["aspectLocked"], hidden=hide, top=top,
                           field_visible=f.isVisible(), subtitle=f.subtitle.text(),
                           labels={k: f.plot.getAxis(k).labelText for k in ("bottom", "left")})
        for it in hide + top:
            it.setVisible(False)
        f.show_snapshot = lambda snap: False  # the field's own items stay hidden until the drawing is done
        f.setVisible(True)
        f.plot.setAspectLocked(True)
        f.plot.setRange(xRange=CANVAS, yRange=CANVAS, padding=0)
        theme.set_label(f.plot, "bottom", "x₁")
        theme.set_label(f.plot, "left", "x₂")
        f.subtitle.setText("drawing: drag to paint; stamps place a ring, a line or a blob")
        self.scatter.setVisible(True)
        self.bar.setVisible(True)
        self.viewport.setCursor(QtGui.QCursor(QtCore.Qt.CursorShape.CrossCursor))
        self.active = True
        self.draw_button.setText("✎ Drawing")
        self._sync_action()
        self.flush()

    def leave(self, resume: bool = True) -> None:
        if not self.active:
            return
        f, s = self.field, self._saved
        self.active = False
        self._press = None
        self.bar.setVisible(False)
        self.scatter.setVisible(False)
        self.preview.setVisible(False)
        self.viewport.unsetCursor()
        f.__dict__.pop("show_snapshot", None)  # the panel's own method again
        f.last_iteration = -1  # redraw the run's latest snapshot
        for it in s["hidden"] + s["top"]:
            it.setVisible(True)
        f.setVisible(s["field_visible"])
        f.plot.setAspectLocked(bool(s["aspect"]))
        (xr, yr) = s["range"]
        f.plot.setRange(xRange=xr, yRange=yr, padding=0)
        for k, text in s["labels"].items():
            theme.set_label(f.plot, k, text)
        f.subtitle.setText(s["subtitle"])
        self.draw_button.setText("✎ Draw")
        self._sync_action()
        c = self.w.controller
        if resume and self._resume and c.handle is not None and c.state == "paused":
            c.handle.play()

    def _sync_action(self) -> None:
        a = getattr(self.w, "acts", {}).get("draw")
        if a is not None:
            a.setChecked(self.active)

    # -- training on it ----------------------------------------------------------------------------
    def train(self) -> bool:
        """Start a new live run whose data are the drawing; False (and a note) when it cannot."""
        args = self.dataset_args()
        if args is None:
            self.bar.note.setText("Draw at least 2 points first.")
            return False
        runs = self.w.runs
        new = dict(runs.overrides, dataset="drawn", dataset_args=args)
        if DATASET_KINDS.get(runs.current_config().dataset) != "points":
            new.update(defaults_for_dataset("drawn"))
        known = TrainConfig().to_dict()
        try:
            cfg = runs.presets[runs.preset_name].config.replace(**{k: v for k, v in new.items() if k in known})
        except ConfigError as exc:
            self.bar.note.setText(str(exc))
            return False
        self.leave(resume=False)
        runs.overrides = new
        runs.save()
        self.w.controls.show_drawn(True)
        runs.start_run(cfg, autoplay=True, label="drawn")
        return True

    # -- the mouse ---------------------------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt's name
        if not self.active or obj is not self.viewport:
            return False
        t = ev.type()
        E = QtCore.QEvent.Type
        if t not in (E.MouseButtonPress, E.MouseMove, E.MouseButtonRelease, E.MouseButtonDblClick):
            return False
        p = self._to_data(ev.position())
        if t in (E.MouseButtonPress, E.MouseButtonDblClick):
            if ev.button() != QtCore.Qt.MouseButton.LeftButton or p is None:
                return False
            self.press(p)
        elif t == E.MouseMove:
            if self._press is not None and p is not None:
                self.move(p)
            elif p is not None:
                self._hover_outline(p)
        elif ev.button() == QtCore.Qt.MouseButton.LeftButton and self._press is not None:
            self.release(p if p is not None else self._last)
        return True

    def _to_data(self, pos: QtCore.QPointF) -> np.ndarray | None:
        vb = self.field.plot.vb
        scene = self.field.glw.mapToScene(pos.toPoint())
        if not vb.sceneBoundingRect().contains(scene) and self._press is None:
            return None
        v = vb.mapSceneToView(scene)
        return np.array([v.x(), v.y()])

    # the gestures, in data units (tests and scripts may call them directly)
    def press(self, p) -> None:
        p = np.asarray(p, np.float64)
        self._press = self._last = p
        tool, r = self.bar.tool(), self.bar.radius_value()
        if tool == "brush":
            self.model.brush(p, r, self.bar.density_value())
        elif tool == "eraser":
            self.model.erase(p, r)
        self._changed()

    def move(self, p) -> None:
        p = np.asarray(p, np.float64)
        tool, r = self.bar.tool(), self.bar.radius_value()
        if tool == "brush":
            self.model.stroke(self._last, p, r, self.bar.density_value())
        elif tool == "eraser":
            self.model.erase_stroke(self._last, p, r)
        self._last = p
        if tool in ("ring", "line", "blob"):
            self._stamp_outline(tool, self._press, p)
        else:
            self._hover_outline(p)
        self._changed()

    def release(self, p) -> None:
        a, b = self._press, np.asarray(p, np.float64)
        self._press = None
        self.preview.setVisible(False)
        tool, r, dens = self.bar.tool(), self.bar.radius_value(), self.bar.density_value()
        dist = float(np.hypot(*(b - a)))
        width = r / 4
        if tool == "ring":
            radius = dist if dist > 0.05 else 1.0
            self.model.ring(a, radius, stamp_count("ring", radius, dens), width)
        elif tool == "line":
            if dist <= 0.05:
                self.bar.note.setText("Drag from one end of the line to the other.")
                return
            self.model.line(a, b, stamp_count("line", dist, dens), width)
        elif tool == "blob":
            sigma = dist / 2 if dist > 0.05 else r
            self.model.blob(a, sigma, stamp_count("blob", sigma, dens))
        self._changed()

    def clear(self) -> None:
        self.model.clear()
        self._changed()

    # -- drawing the points --------------------------------------------------------------------------
    def _changed(self) -> None:
        self.bar.note.setText(self.model.message or "")
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Redraw the points now (the timer calls this at most once a frame)."""
        self._timer.stop()
        if self.model.version != self._drawn_version:
            pts = self.model.points
            self.scatter.set_points(pts)
            self._drawn_version = self.model.version
            n = len(pts)
            self.bar.count.setText(f"{n:,} point{'' if n == 1 else 's'}")
            if n >= 2:
                self.w.controls.show_drawn(True)
            self.changed.emit(n)

    def _hover_outline(self, p=None) -> None:
        if p is None or self.bar.tool() not in ("brush", "eraser"):
            self.preview.setVisible(False)
            return
        self._circle(p, self.bar.radius_value())

    def _stamp_outline(self, tool: str, a, b) -> None:
        dist = float(np.hypot(*(b - a)))
        if tool == "line":
            self.preview.setData([a[0], b[0]], [a[1], b[1]])
            self.preview.setVisible(True)
        else:
            self._circle(a, dist)  # a ring's radius; a blob's 2σ

    def _circle(self, c, r: float) -> None:
        t = np.linspace(0, 2 * math.pi, 65)
        self.preview.setData(c[0] + r * np.cos(t), c[1] + r * np.sin(t))
        self.preview.setVisible(True)

