"""The drawing mode: how long one brush stroke takes to reach the screen with 10,000 and 50,000 points drawn,
and the README's picture of it (a smiley: ring, blobs, a line and a brush stroke, drawn with the mouse).

    QT_QPA_PLATFORM=offscreen python benchmarks/drawing.py [--sizes 10000 50000] [--screenshot docs/drawing-mode.png]
        [--trained docs/drawing-trained.png --iterations 3000]

Everything goes through the real window: mouse events on the toy field's viewport (QTest), the drawing's
redraw, and a full repaint of the viewport. Prints one JSON object: per size, the median and p95 milliseconds
of (one mouse-move of the brush → points added → ScatterPlotItem updated → viewport painted), and of the
model's part alone (numpy).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--strokes", type=int, default=40)
    ap.add_argument("--screenshot", help="write the drawing mode's picture here (PNG)")
    ap.add_argument("--trained", help="then train on the drawing and write the studio's picture here (PNG)")
    ap.add_argument("--iterations", type=int, default=3000, help="iterations before the --trained picture")
    ap.add_argument("--size", default="1440x900")
    a = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GAN_STUDIO_RECORD", "0")
    import numpy as np
    from PySide6 import QtCore, QtTest, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    import tempfile

    tmp = Path(tempfile.mkdtemp())
    w = StudioWindow(settings=Settings(tmp / "studio.ini"), preset="ring8", persist=False)
    w.resize(*map(int, a.size.split("x")))
    w.show()
    w.start()
    t0 = time.time()
    while w.static is None or w.snapshot is None:
        app.processEvents()
        time.sleep(0.02)
        if time.time() - t0 > 180:
            print("the run did not start", file=sys.stderr)
            return 1
    d = w.drawing
    d.enter()
    app.processEvents()
    vp, vb = d.viewport, w.field.plot.vb
    L, NO = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier

    def px(x, y):
        return w.field.glw.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))

    out: dict = {}
    rng = np.random.default_rng(0)
    for n in a.sizes:
        d.points = rng.uniform(-3.5, 3.5, (n, 2))
        d.flush()
        d.bar.set_tool("brush")
        QtTest.QTest.mousePress(vp, L, NO, px(-3, -3))
        full, model = [], []
        for i in range(a.strokes):
            x = -3 + 6 * (i + 1) / a.strokes
            t = time.perf_counter()
            QtTest.QTest.mouseMove(vp, px(x, -3 + 0.5 * np.sin(x)))
            t1 = time.perf_counter()
            d.flush()
            vp.repaint()
            full.append((time.perf_counter() - t) * 1e3)
            model.append((t1 - t) * 1e3)
        QtTest.QTest.mouseRelease(vp, L, NO, px(3, -3))
        out[str(n)] = {"points_after": len(d.model), "stroke_to_screen_ms_median": round(statistics.median(full), 2),
                       "stroke_to_screen_ms_p95": round(float(np.percentile(full, 95)), 2),
                       "mouse_event_ms_median": round(statistics.median(model), 2)}
    if a.screenshot:
        d.clear()
        smiley(d, px, vp, app)
        app.processEvents()
        d.flush()
        for _ in range(5):
            app.processEvents()
            time.sleep(0.05)
        w.grab().save(a.screenshot)
        out["screenshot"] = a.screenshot
        out["screenshot_points"] = len(d.model)
    if a.trained:  # then train on it, and show the run after --iterations
        if not a.screenshot:
            d.clear()
            smiley(d, px, vp, app)
        d.train()
        t0 = time.time()
        while w.snapshot is None or w.snapshot.iteration < a.iterations:
            app.processEvents()
            time.sleep(0.02)
            if time.time() - t0 > 400:
                break
        for _ in range(20):
            app.processEvents()
            time.sleep(0.05)
        w.grab().save(a.trained)
        out["trained"] = a.trained
        out["trained_iteration"] = w.snapshot.iteration if w.snapshot else None
    print(json.dumps(out))
    w.close()
    return 0


def smiley(d, px, vp, app) -> None:
    """A face drawn as a user would: the ring stamp (dragged out to its radius), two blobs, a line for the
    nose, and the mouth painted with the brush."""
    import numpy as np
    from PySide6 import QtCore, QtTest

    L, NO = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier

    def drag(tool, pts, radius=None):
        d.bar.set_tool(tool)
        if radius is not None:
            d.bar.radius.setValue(int(radius * 100))
        QtTest.QTest.mousePress(vp, L, NO, px(*pts[0]))
        for p in pts[1:]:
            QtTest.QTest.mouseMove(vp, px(*p))
        QtTest.QTest.mouseRelease(vp, L, NO, px(*pts[-1]))
        app.processEvents()

    d.bar.density.setValue(125)  # ≈ 316 points per unit area: solid shapes that read from the back row
    drag("ring", [(0, 0), (1.5, 1.5), (3.0, 0)], radius=0.3)
    drag("blob", [(-1.1, 1.0), (-1.1, 1.3)])
    drag("blob", [(1.1, 1.0), (1.1, 1.3)])
    drag("line", [(0, 0.5), (0, -0.2)], radius=0.2)
    t = np.linspace(np.pi * 1.15, np.pi * 1.85, 30)
    drag("brush", [(1.6 * np.cos(a), 1.6 * np.sin(a) + 0.1) for a in t], radius=0.22)


if __name__ == "__main__":
    sys.exit(main())
