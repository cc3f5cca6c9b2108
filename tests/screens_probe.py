"""Open the studio on one offscreen screen of a given size and check every layout on it (run by
tests/test_screens.py, one process per screen: Qt's offscreen platform takes its screens from a JSON file
given in QT_QPA_PLATFORM, and one process has one QApplication).

    python tests/screens_probe.py WxH [--dpr 2] [--preset ring8-collapse] [--shots DIR] [--modes a,b] [--canned RUN]

Prints one JSON line: {"screen": [w, h], "modes": {mode: {"problems": [...], "window": [x, y, w, h],
"panels": {key: [w, h] of its plot area}}}}. The runs are in-process threads that stay paused: the
geometry is what is checked, not training. With ``--canned RUN`` (what tests/test_screens.py passes) they are
fake run handles (tests/fake_run.py) playing that run folder's recorded snapshots: the same panels with the
same kind of data, without importing torch and building networks in every probe process."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

MODES = ("normal", "narration", "doctor", "drawing", "compare", "presentation")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("--dpr", type=float, default=1.0)
    ap.add_argument("--preset", default="ring8-collapse")
    ap.add_argument("--shots", default=None)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--settings", default=None, help="a settings file to use (kept between calls)")
    ap.add_argument("--hide", default=None, help="hide this panel (View menu) after the first look")
    ap.add_argument("--canned", default=None, help="a run folder: runs are fake handles playing its snapshots")
    args = ap.parse_args(argv)
    sw, sh = (int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="gs-screens-"))
    cfg = tmp / "screen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": sw, "height": sh,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": args.dpr}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={cfg}"
    os.environ["GAN_STUDIO_THREAD_WORKER"] = "1"  # in-process runs: no training processes to start
    os.environ["GAN_STUDIO_VIEWS_PROCESS"] = "0"
    os.environ["GAN_STUDIO_RECORD"] = "0"
    os.environ.setdefault("GAN_STUDIO_CONFIG_DIR", str(tmp / "config"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from PySide6 import QtCore, QtWidgets

    from gan_studio.gui.screens import layout_problems, thin_pens
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    app = QtWidgets.QApplication([sys.argv[0]])
    settings = Settings(Path(args.settings) if args.settings else tmp / "studio.ini")
    win = StudioWindow(settings=settings, preset=args.preset, autoplay=False, persist=args.settings is not None)
    if args.canned:
        from fake_run import canned_run_class

        win.run_class = canned_run_class(args.canned)  # the window's runs and compare mode's
    win.show()
    win.start()
    deadline = QtCore.QDeadlineTimer(120_000)
    while (win.static is None or win.snapshot is None) and not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def settle(n: int = 6) -> None:
        for _ in range(n):
            app.processEvents()
            QtCore.QThread.msleep(20)
        win.controller.refresh()
        app.processEvents()

    settle()
    out: dict = {"screen": [sw, sh], "dpr": args.dpr, "modes": {}, "thin_pens": thin_pens(win),
                 "shown": sorted(p.key for p in win.layout_ if p.isVisible()), "columns": win.layout_.columns}
    if args.hide:
        win.layout_.actions[args.hide].setChecked(False)

    def record(mode: str, shown) -> None:
        settle()
        out["modes"][mode] = layout_problems(shown)
        if args.shots:
            shown.grab().save(str(Path(args.shots) / f"{mode}-{sw}x{sh}.png"))

    for mode in args.modes.split(","):
        if mode == "normal":
            record(mode, win)
        elif mode == "narration":
            win.narrator.set_narrating(True)
            record(mode, win)
            win.narrator.set_narrating(False)
            win.narrator.show_panel(False)
        elif mode == "doctor":
            win.acts["doctor"].setChecked(True)
            win.doctor.toggle()
            record(mode, win)
            win.acts["doctor"].setChecked(False)
            win.doctor.toggle()
        elif mode == "drawing":
            win.drawing.enter()
            record(mode, win)
            win.drawing.leave(resume=False)
        elif mode == "compare":
            cw = win.open_compare({"a": {"k": 1}, "b": {"k": 5}}, autoplay=False)
            deadline = QtCore.QDeadlineTimer(120_000)
            while any(s.controller.static is None for s in cw.sides) and not deadline.hasExpired():
                app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            record(mode, cw)
            cw.close()
        elif mode == "presentation":
            win.doctor.dock.show()  # (as after a finding's notification)
            win.set_presentation(True)
            # the lecture's point: G collapsed onto one mode, the alarm raised
            win.evaluation.add_metrics({"iteration": 1200, "modes_covered": 0, "n_modes": 8, "high_quality": 0.1})
            win.evaluation.show_snapshot(None)
            record(mode, win)
            a = win.evaluation.alarm
            r = QtCore.QRect(a.mapToGlobal(QtCore.QPoint(0, 0)), a.size())
            out["modes"][mode]["alarm"] = a.isVisible() and win.screen().geometry().contains(r)
            out["modes"][mode]["shown"] = sorted(p.key for p in win.layout_ if p.isVisible())
            out["modes"][mode]["font_scale"] = win.presenter.scales[0]
            win.set_presentation(False)
            settle()
            out["modes"]["after-presentation"] = layout_problems(win)

    out["torch"] = "torch" in sys.modules
    print(json.dumps(out), flush=True)
    win.close()  # saves the settings (--settings) and stops the runs
    settle()
    sys.stderr.flush()
    os._exit(0)  # the geometry is checked: no need to wait for Qt and the run threads to unwind


if __name__ == "__main__":
    raise SystemExit(main())
