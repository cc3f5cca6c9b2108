"""Launching the studio: show the window first (torch loads in the training thread afterwards), and the
automation mode used for docs, tests and benchmarks (``--exit-after``, ``--screenshot``)."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

def process_age() -> float | None:
    """Seconds since this process started (Linux: from /proc), or None where unknown."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of /proc/PID/stat, counted after the command name
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
        return max(0.0, now - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def has_display() -> bool:
    """False on Linux when Qt would abort: no X or Wayland display and no platform chosen explicitly."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def offscreen_screen(size: tuple[int, int]) -> None:
    """On Qt's offscreen platform (automation), make its screen ``size`` — so ``--size 1280x720`` shows the
    layout a 1280×720 projector gets, presentation mode included — instead of the platform's 800×800
    (without --size: a 1920×1080 screen, where the window has its usual 1440×900)."""
    if os.environ.get("QT_QPA_PLATFORM", "").strip() != "offscreen":
        return
    import atexit
    import tempfile

    fd, path = tempfile.mkstemp(prefix="gan-studio-screen-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"screens": [{"name": "gan-studio", "x": 0, "y": 0, "width": int(size[0]),
                                "height": int(size[1]), "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}, f)
    atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"


def run_studio(preset: str | None = None, exit_after: float | None = None, exit_at: int | None = None,
               screenshot: str | None = None,
               seed: int | None = None, device: str | None = None, size: tuple[int, int] | None = None,
               open_run: str | None = None, follow: bool = False, position: int | None = None,
               compare: tuple[dict, dict] | None = None, present: bool = False, recipe=None,
               plugin: dict | None = None) -> int:
    age0 = process_age()
    t_main = time.perf_counter()
    from PySide6 import QtCore, QtGui, QtWidgets

    from ..core.train.config import ConfigError
    from ..core.train.presets import all_presets

    if preset is not None and preset not in all_presets():
        print(f"gan-studio: error: unknown preset {preset!r}; choose one of {', '.join(all_presets())}",
              file=sys.stderr)
        return 2
    if screenshot is not None:
        parent = Path(screenshot).expanduser().resolve().parent
        if not parent.is_dir():
            print(f"gan-studio: error: cannot write the screenshot: folder {parent} does not exist", file=sys.stderr)
            return 2
    if not has_display():
        print("gan-studio: error: no display to open the studio window on (DISPLAY and WAYLAND_DISPLAY are not "
              "set). Run it on a desktop, or set QT_QPA_PLATFORM=offscreen for --exit-after/--screenshot "
              "automation; the command line (gan-studio train, gif, open …) needs no display for its other "
              "commands.", file=sys.stderr)
        return 2
    if not QtWidgets.QApplication.instance():
        offscreen_screen(size or (1920, 1080))
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("GAN Studio")
    app.setDesktopFileName("gan-studio")
    try:
        from importlib import resources

        icon = resources.files("gan_studio.resources").joinpath("gan-studio.svg")
        app.setWindowIcon(QtGui.QIcon(str(icon)))
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        pass
    app.setOrganizationName("GAN Studio")
    from .window import StudioWindow

    overrides = {}
    if seed is not None:
        overrides["seed"] = seed
    if device is not None:
        overrides["device"] = device
    automated = exit_after is not None
    if plugin is not None:  # gan-studio --plugin: its settings (learned in another process), on ring8's defaults
        overrides.update(plugin)
        preset = preset or "ring8"
    try:
        win = StudioWindow(preset=preset, autoplay=preset is not None, persist=not automated,
                           overrides=overrides if (overrides or preset is not None) else None)
    except ConfigError as exc:
        print(f"gan-studio: error: {exc}", file=sys.stderr)
        return 2
    if size:
        win.resize(*size)
    shown = win  # what --screenshot captures
    if compare is not None:
        from .compare import CompareWindow

        try:
            shown = CompareWindow(win.current_config(), compare[0], compare[1], autoplay=True,
                                  run_class=win.run_class)
        except ConfigError as exc:
            print(f"gan-studio: error: {exc}", file=sys.stderr)
            return 2
        shown.resize(*(size or (1440, 900)))
        win.compare_windows.append(shown)
        shown.show()
        QtCore.QTimer.singleShot(0, shown.start)
    elif open_run is not None:
        win.show()
        if not win.open_run_folder(open_run, follow=follow):
            print(f"gan-studio: error: {win.banner.label.text()}", file=sys.stderr)
            return 2
        if position is not None:
            win.replay_bar.slider.setValue(position)
    else:
        win.show()
        QtCore.QTimer.singleShot(0, win.start if recipe is None  # a recipe (gan-studio RECIPE.json): its run
                                 else lambda: win.recipes.start(recipe, autoplay=True, ask=False))
        if present:
            QtCore.QTimer.singleShot(0, lambda: win.set_presentation(True))
    app.processEvents()
    startup = (age0 if age0 is not None else 0.0) + (time.perf_counter() - t_main)
    result: dict = {}

    if automated:
        def finish() -> None:
            if shown is not win:
                its = shown.iterations()
                result.update(compare=[s.header.text() for s in shown.sides], compare_iterations=its,
                              status=[s.status.text() for s in shown.sides])
            snap = win.run.latest() if win.run else None
            it = snap.iteration if snap else 0
            ran = (time.perf_counter() - win.ready_time) if win.ready_time else 0.0
            it0 = win.iterations_at_ready or 0
            # frames per second of training (since the run was ready): ui_fps counts the display ticks that
            # drew a new snapshot; panel_fps, per data panel, the distinct views it drew (a snapshot that
            # brings only statistics redraws no panel)
            panels = {p.key: p for p in getattr(getattr(win, "layout_", None), "panels", {}).values()}
            panel_fps = {k: round(p.frames / ran, 1) for k, p in panels.items()
                         if ran > 0 and p.isVisible() and k not in ("losses", "evaluation")}
            result.update(
                preset=win.preset_name, state=snap.state if snap else "loading", iterations=it,
                it_per_s=round((it - it0) / ran, 1) if ran > 0 else 0.0,
                ui_fps=round(win.ui_frames / ran, 1) if ran > 0 else 0.0, panel_fps=panel_fps,
                views_mode=getattr(win.run, "views_mode", None) if win.run else None,
                ui_frames=win.ui_frames, ui_stall_p99_ms=round(win.stall.p99(), 1),
                ui_stall_max_ms=round(max(win.stall.samples, default=0.0), 1),
                startup_s=round(startup, 3), device=snap.device if snap else "",
                message=snap.message if snap else "")

        def take_screenshot() -> None:
            for c in ([s.controller for s in shown.sides] if shown is not win else [win.controller]):
                c.refresh()
            app.processEvents()
            img = shown.grab()
            target = Path(screenshot).expanduser()
            tmp = target.with_name(f".{target.name}.tmp.png")
            try:
                if not img.save(str(tmp), "PNG"):
                    raise OSError("the picture could not be saved there")
                os.replace(tmp, target)
                result["screenshot"] = str(target)
            except OSError as exc:
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    pass
                result["screenshot_error"] = f"could not write {target}: {exc.strerror or exc}"

        def finish_and_exit() -> None:
            """--exit-after: report, take the screenshot, and exit — always, whatever fails on the way."""
            if "open_s" in result:  # --exit-at came first
                return
            result["open_s"] = round(time.perf_counter() - t_main, 2)
            try:
                finish()
            except Exception as exc:  # noqa: BLE001 - what was gathered is printed; the app exits regardless
                result.setdefault("error", f"{type(exc).__name__}: {exc}"[:300])
            try:
                if screenshot:
                    take_screenshot()
            except Exception as exc:  # noqa: BLE001
                result["screenshot_error"] = f"could not take the screenshot: {exc}"[:300]
            try:
                win.close()
            except Exception:  # noqa: BLE001
                pass
            app.quit()

        QtCore.QTimer.singleShot(int(exit_after * 1000), finish_and_exit)
        if exit_at is not None:  # --exit-at: sooner, once the window shows that iteration (every side's, compared)
            def shown_iteration() -> int:
                if shown is not win:
                    return min(shown.iterations())
                return win.snapshot.iteration if win.snapshot is not None else 0

            watcher = QtCore.QTimer(win)
            watcher.timeout.connect(lambda: shown_iteration() >= exit_at and (watcher.stop(), finish_and_exit()))
            watcher.start(100)
    code = app.exec()
    if automated:
        print(json.dumps(result), flush=True)
        if "screenshot_error" in result:
            print(f"gan-studio: error: {result['screenshot_error']}", file=sys.stderr)
            return 1
    return code
