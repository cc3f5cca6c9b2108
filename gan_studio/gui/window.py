"""The studio's main window. It composes parts and wires them; it never trains and holds no refresh logic:

* :class:`~.run_controller.RunController` owns the run handle and the display timer and emits signals;
* :class:`~.runs.RunManager` decides what runs (preset, the user's changes, checkpoints, recordings);
* :class:`~.layout.PanelLayout` arranges the panels (each saves its own options);
* :mod:`.actions` is the table the menus, toolbar, shortcuts and the shortcuts dialog are built from;
* :class:`~.exporting.Exporter` writes GIFs, figures, CSV, the generator and panel pictures.
"""
from __future__ import annotations

import collections
import os
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.live.viewspec import ViewRequest
from . import actions as A
from . import theme
from .controls import ControlsPanel
from .evalworker import EvalWorker
from .exporting import Exporter
from .layout import PanelLayout
from .replaybar import ReplayBar
from .run_controller import RunController
from .runs import RunManager, train_threads  # noqa: F401 (train_threads: re-exported for benchmarks)
from .settings import Settings
from .widgets import Banner, StallMonitor, StatusBar


class StudioWindow(QtWidgets.QMainWindow):
    def __init__(self, settings: Settings | None = None, preset: str | None = None, autoplay: bool = False,
                 persist: bool = True, overrides: dict | None = None) -> None:
        super().__init__()
        theme.configure()
        self.settings = settings or Settings()
        self.persist = persist
        self.autoplay = autoplay
        self.presenting = False
        self.compare_windows: list = []
        self.recent_stats: collections.deque = collections.deque(maxlen=256)  # the last few hundred iterations
        self.iterations_at_ready = self.ready_time = None
        self.setWindowTitle("GAN Studio")
        self.resize(1440, 900)

        self.controller = RunController(self)
        self.runs = RunManager(self, preset, overrides)
        self.layout_ = PanelLayout()
        P = self.layout_.panels
        self.field, self.samples, self.latent = P["field"], P["samples"], P["latent"]
        self.losses, self.dhist, self.evaluation = P["losses"], P["d_hist"], P["evaluation"]
        self.panels = list(P.values())
        self.evaluator = EvalWorker(self)
        self.exporter = Exporter(self)
        self.banner = Banner()
        self.replay_bar = ReplayBar()
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.stall = StallMonitor(self)
        self._build_central()
        self._build_controls()
        self.acts = A.build_actions(self)
        self.act_play = self.acts["play"]
        self._build_menus_and_toolbar()
        self._wire()
        self._restore_settings()
        self.select_preset_widget(self.runs.preset_name)

    # ------------------------------------------------------------------------------------------ building
    def _build_central(self) -> None:
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
        lay.addWidget(self.replay_bar)
        lay.addWidget(self.layout_, 1)
        self.setCentralWidget(central)

    def _build_controls(self) -> None:
        self.controls = ControlsPanel()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.minimumSizeHint().width() + 16)
        self.controls_dock = QtWidgets.QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls-dock")
        self.controls_dock.setWidget(scroll)
        self.controls_dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable |
                                       QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)
        self.resizeDocks([self.controls_dock], [330], QtCore.Qt.Orientation.Horizontal)

    def _build_menus_and_toolbar(self) -> None:
        acts = self.acts
        tb = QtWidgets.QToolBar("Training")
        tb.setObjectName("training-toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        f = tb.font()
        f.setPointSize(12)
        tb.setFont(f)
        self.export_menu = QtWidgets.QMenu(A.EXPORT_MENU[1], self)
        A.fill_menu(self.export_menu, A.EXPORT_MENU[0], acts)
        self.export_button = QtWidgets.QToolButton()
        self.export_button.setText("⤓ Export")
        self.export_button.setFont(f)
        self.export_button.setToolTip("GIFs, the paper's figures, metrics as CSV, the generator")
        self.export_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self.export_menu)
        groups = A.toolbar_groups(acts)
        for a in groups.pop(0, []):  # play and the steps
            tb.addAction(a)
        tb.addSeparator()
        tb.addWidget(self.export_button)
        for _, group in sorted(groups.items()):
            for a in group:
                tb.addAction(a)
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" preset "))
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.setFont(f)
        for name, p in self.runs.presets.items():
            self.preset_box.addItem(name, name)
            self.preset_box.setItemData(self.preset_box.count() - 1, p.summary, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.preset_box.activated.connect(lambda _: self.choose_preset(self.preset_box.currentData()))
        tb.addWidget(self.preset_box)
        self.preset_summary = QtWidgets.QLabel()
        self.preset_summary.setStyleSheet("color: #444; padding-left: 8px;")
        self.preset_summary.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                          QtWidgets.QSizePolicy.Policy.Preferred)
        self.preset_summary.setMinimumWidth(200)
        tb.addWidget(self.preset_summary)
        self.addToolBar(tb)
        self.toolbar = tb
        mb = self.menuBar()
        for mid, title in A.MENUS:
            m = mb.addMenu(title)
            A.fill_menu(m, mid, acts)
            if mid == "file":
                quit_action = acts["quit"]
                m.insertMenu(quit_action, self.export_menu)
                m.insertSeparator(quit_action)
            if mid == "view":
                first = m.actions()[0] if m.actions() else None
                for a in self.layout_.actions.values():
                    m.insertAction(first, a)
                m.insertAction(first, self.controls_dock.toggleViewAction())
                m.insertSeparator(first)
        self.panel_actions = self.layout_.actions

    def _wire(self) -> None:
        c = self.controller
        c.staticChanged.connect(self._on_static)
        c.snapshotChanged.connect(self._on_snapshot)
        c.tick.connect(self._on_tick)
        c.statsArrived.connect(self._on_stats)
        c.eventArrived.connect(self._on_event)
        c.stateChanged.connect(self._on_state)
        c.rewound.connect(self._on_rewound)
        self.controls.liveChanged.connect(self.runs.change_live)
        self.controls.runChanged.connect(self.runs.change_run)
        self.controls.speedChanged.connect(self._speed_changed)
        self.layout_.visibilityChanged.connect(self.send_view_request)
        self.evaluation.evaluateRequested.connect(self.evaluate)
        self.evaluation.cancelRequested.connect(self.evaluator.cancel)
        self.evaluator.progress.connect(self.evaluation.set_progress)
        self.evaluator.finished.connect(self.evaluation.add_result)
        self.evaluator.failed.connect(self._eval_failed)
        self.evaluator.cancelled.connect(lambda: self.evaluation.set_busy(False, "cancelled"))
        self.evaluator.message.connect(lambda text: self.status.showMessage(text, 8000))
        self.samples.picked.connect(lambda a, b: self.latent.mode.setCurrentIndex(1))
        for p in self.layout_:
            p.optionsChanged.connect(self.send_view_request)
            p.exportRequested.connect(lambda fmt, p=p: self.export_panel(p, fmt))
        self.replay_bar.seek.connect(lambda pos: self.controller.is_replay and self.controller.handle.seek(pos))
        self.replay_bar.closeRequested.connect(self.close_replay)
        self.replay_bar.follow.toggled.connect(lambda on: setattr(self.controller, "follow", on))

    # ------------------------------------------------------------------------------------------ public state
    @property
    def run(self):
        return self.controller.handle

    @property
    def snapshot(self):
        return self.controller.snapshot

    _snap = snapshot  # the name older code and tests used

    @property
    def static(self):
        return self.controller.static

    @property
    def ui_frames(self) -> int:
        return self.controller.frames

    def __getattr__(self, name: str):  # the run settings live in the RunManager
        if name in ("preset_name", "overrides", "presets", "record_dir", "run_class", "confirm_reset", "recording"):
            return getattr(self.__dict__["runs"], name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        if name in ("preset_name", "overrides", "record_dir", "run_class", "confirm_reset", "recording") \
                and "runs" in self.__dict__:
            setattr(self.runs, name, value)
        else:
            super().__setattr__(name, value)

    def stem(self) -> str:
        return f"{self.runs.preset_name}-it{self.controller.iteration}"

    def current_config(self):
        return self.runs.current_config()

    # ------------------------------------------------------------------------------------------ runs
    def start(self) -> None:
        """Start the configured run (called once the window is on screen)."""
        self.runs.start(self.autoplay)

    def start_run(self, cfg, autoplay: bool = False, checkpoint_path: str | None = None, label: str | None = None):
        self.runs.start_run(cfg, autoplay, checkpoint_path, label)

    def before_run(self, cfg: dict | None, replay: bool) -> None:
        """A new run or recording is about to be shown: clear what belonged to the previous one."""
        self.iterations_at_ready = self.ready_time = None
        self.layout_.set_static(None)
        if not replay:
            self.replay_bar.hide()
        self.controls_dock.widget().setEnabled(not replay)  # a recording's settings are shown, not changed
        if cfg is not None:
            self.controls.load_config(cfg)
        self._on_state("loading", "")

    def views_options(self) -> dict:
        import inspect

        from ..core.live.handles import ThreadRun

        if "views_mode" not in inspect.signature(ThreadRun.__init__).parameters:
            return {}
        return {"views_mode": "smooth" if self.settings.get("view/smooth", True) else "fast"}

    def reset(self) -> None:
        self.runs.reset()

    def choose_preset(self, name: str) -> None:
        self.runs.choose_preset(name)

    def cycle_preset(self, delta: int) -> None:
        self.runs.cycle(delta)

    def toggle_play(self) -> None:
        c = self.controller
        if c.handle is None:
            return
        if c.is_replay:
            self.replay_bar.toggle_play()
            self._on_state("replay", c.snapshot.message if c.snapshot else "")
        elif c.state == "running":
            c.handle.pause()
        elif c.state in ("paused", "diverged"):
            self.banner.hide()
            c.handle.play()

    def step(self, kind: str = "full") -> None:
        c = self.controller
        if c.is_replay:
            self.replay_bar.step(1)
        elif c.can_train:
            c.handle.step(kind)

    def save_checkpoint(self) -> None:
        if not self.controller.can_train:
            return
        start = str(Path(self.settings.get("paths/checkpoints", str(Path.home()))) / f"{self.stem()}.pt")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save checkpoint", start, "Checkpoints (*.pt)")
        if path:
            self.settings.set("paths/checkpoints", str(Path(path).parent))
            self.controller.handle.save(path)

    def open_checkpoint(self, path: str | None = None) -> None:
        """Resume a checkpoint in the studio, exactly where it stopped (its own data and settings)."""
        if path is None:
            start = self.settings.get("paths/checkpoints", str(Path.home()))
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open checkpoint", start,
                                                            "Checkpoints (*.pt);;All files (*)")
            if not path:
                return
            self.settings.set("paths/checkpoints", str(Path(path).parent))
        self.runs.open_checkpoint(path)

    def open_run_folder(self, path: str | None = None, follow: bool = False) -> bool:
        if path is None:
            start = self.settings.get("paths/runs", str(Path.home()))
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a recorded run (a run folder)", start)
            if not path:
                return False
            self.settings.set("paths/runs", str(Path(path).parent))
        return self.runs.open_recording(path, follow)

    def close_replay(self) -> None:
        self.replay_bar.hide()
        self.select_preset_widget(self.runs.preset_name)
        self.runs.start_run(self.runs.current_config(), autoplay=False)

    def _speed_changed(self, v) -> None:
        if self.run is not None:
            self.run.set_speed(v)
        if self.persist:
            self.settings.set("run/speed", -1.0 if v is None else float(v))

    def set_smooth(self) -> None:
        on = self.acts["smooth"].isChecked()
        self.settings.set("view/smooth", on)
        if self.run is not None and hasattr(self.run, "set_views_mode"):
            self.run.set_views_mode("smooth" if on else "fast")

    # ------------------------------------------------------------------------------------------ display
    def send_view_request(self) -> None:
        c = self.controller
        if c.handle is None or c.static is None:
            return
        names: set[str] = set()
        opts: dict = {}
        for p in self.layout_:
            opts.update(p.options())
        for p in self.layout_.wanted(self.isVisible()):
            names |= p.views(c.static)
        c.handle.set_views(ViewRequest(names=frozenset(names), **opts))
        if self.persist:
            self.layout_.save_state(self.settings)

    def _on_static(self, snap) -> None:
        """A new run's data are known: show the panels that apply, hide the others."""
        st = snap.static
        self.layout_.set_static(st, replay=self.controller.is_replay)
        if st is not None:
            self.losses.set_static(st)
            if snap.loss_info:
                self._loss_changed(snap.loss_info)
        self.iterations_at_ready = snap.iteration
        self.ready_time = time.perf_counter()
        self.send_view_request()

    def _on_rewound(self) -> None:
        self.losses.set_static(self.static)
        if self.evaluation.applies(self.static):
            self.evaluation.set_static(self.static)

    def _on_stats(self, stats) -> None:
        self.recent_stats.append(stats)
        self.losses.add_stats(stats)

    def _on_tick(self, snap) -> None:
        if snap is not self.controller.snapshot or snap.views_iteration < 0:
            return
        self.losses.show_snapshot(snap)  # statistics arrive between snapshots: the curves move every tick
        self.stall.active = snap.state == "running"

    def _on_snapshot(self, snap) -> None:
        c = self.controller
        if snap.config != getattr(self, "_shown_config", None):
            self._shown_config = snap.config
            self.controls.load_config(snap.config)
        if snap.loss_info and snap.loss_info[0] != getattr(self, "_loss_shown", None):
            self._loss_changed(snap.loss_info)
        self.controls.show_rates(snap.lr_d, snap.lr_g)
        self.status.show_state(snap.state, snap.message, snap)
        if c.is_replay:
            self.replay_bar.set_count(len(c.handle), c.handle.position)
            self.replay_bar.set_label(f"{c.handle.position + 1} / {len(c.handle)} · {snap.message}")
        self.layout_.draw(snap)

    def _loss_changed(self, info: tuple) -> None:
        name, sigmoid, d_eq, g_eq = info
        self.losses.set_loss(name, sigmoid, d_eq, g_eq)
        self.dhist.set_sigmoid(sigmoid)
        self._loss_shown = name

    def _on_state(self, state: str, message: str) -> None:
        self.status.show_state(state, message, self.controller.snapshot)
        replay = state == "replay"
        A.update_enabled(self.acts, ready=state not in ("loading", "error", "stopped"),
                         live=state in ("running", "paused", "diverged"))
        playing = self.replay_bar.timer.isActive() if replay else state == "running"
        self.act_play.setText("❚❚ Pause" if playing else "▶ Play")

    def _on_event(self, ev) -> None:
        if ev.kind == "error":
            if not self.evaluator.on_save_failed(ev.message):  # the evaluator reports its own failures
                self.banner.show_message(ev.message, "error")
        elif ev.kind == "diverged":
            self.banner.show_message(f"Training {ev.message}. Lower the learning rates (or change the loss) and "
                                     "press Play to continue from those weights, or Reset.", "warn")
        elif ev.kind == "metrics":
            self.evaluation.add_metrics(ev.data)
        elif ev.kind == "saved" and self.evaluator.on_saved(ev.message):
            if self.evaluator.busy:
                self.evaluation.set_busy(True, "sampling 10,000 from G…")
        elif self.exporter.on_result(ev):
            pass
        elif ev.kind == "saved":
            self.status.showMessage(f"saved {ev.message}", 5000)
            self.status.st_msg.setText(f"saved {os.path.basename(ev.message)}")

    # ------------------------------------------------------------------------------------------ helpers
    def fail(self, text: str) -> None:
        self.banner.show_message(text, "error")

    def ask(self, title: str, text: str) -> bool:
        if not self.runs.confirm_reset or self.controller.iteration == 0:
            return True
        return QtWidgets.QMessageBox.question(self, title, text) == QtWidgets.QMessageBox.StandardButton.Yes

    def pick_path(self, dataset: str) -> str | None:
        if dataset == "points":
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Points (N×d)", "", "Arrays (*.npy *.csv *.txt)")
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "A folder of images")
        return path or None

    def select_preset_widget(self, name: str) -> None:
        i = self.preset_box.findData(name)
        if i >= 0:
            self.preset_box.setCurrentIndex(i)
        p = self.runs.presets.get(name)
        self.preset_summary.setText(p.summary if p else "")
        self.preset_summary.setToolTip(p.summary if p else "")

    # exports (the Exporter does the work)
    def export_generator(self, path=None):
        return self.exporter.export_generator(path)

    def export_figure(self, kind: str, path=None):
        return self.exporter.export_figure(kind, path)

    def export_panel(self, panel, fmt: str, path=None):
        return self.exporter.export_panel(panel, fmt, path)

    def export_metrics_csv(self, path=None):
        return self.exporter.export_metrics_csv(path)

    def save_run_folder(self, path=None):
        return self.exporter.save_run_folder(path)

    def export_gif(self, view: str, path=None, progress_dialog: bool = True):
        return self.exporter.export_gif(view, path, progress_dialog)

    # ------------------------------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        self.layout_.restore_state(s)
        speed = s.get("run/speed", -1.0)
        self.controls.speed.blockSignals(True)
        self.controls.set_speed(None if speed <= 0 else speed)
        self.controls._speed(self.controls.speed.value())
        self.controls.speed.blockSignals(False)
        self.acts["smooth"].setChecked(s.get("view/smooth", True))
        geo, state = s.bytes("window/geometry"), s.bytes("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        if not self.persist:
            return
        s = self.settings
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        self.layout_.save_state(s)
        self.runs.save()
        s.sync()

    # ------------------------------------------------------------------------------------------ misc
    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()
        self.acts["full_screen"].setChecked(self.isFullScreen())

    def show_shortcuts(self) -> None:
        A.ShortcutsDialog(self).exec()

    def show_about(self) -> None:
        from .. import __version__

        QtWidgets.QMessageBox.about(
            self, "About GAN Studio",
            f"GAN Studio {__version__}\n\nTrain GANs and watch and steer the training live.\n"
            "Algorithm 1 of Goodfellow et al. (2014), “Generative Adversarial Nets”.")

    def evaluate(self) -> None:
        """Evaluate a snapshot of G in its own process; training is not interrupted."""
        if not self.controller.can_train:
            self.status.showMessage("nothing to evaluate yet", 4000)
            return
        if self.evaluator.busy:
            self.status.showMessage("an evaluation is already running", 4000)
            return
        self.panel_actions["evaluation"].setChecked(True)
        self.evaluation.tabs.setCurrentIndex(1)
        if self.evaluator.request(self.run, {"threads": 1}):
            self.evaluation.set_busy(True, "taking a snapshot of G…")

    def _eval_failed(self, text: str) -> None:
        self.evaluation.set_busy(False, "failed")
        self.banner.show_message(f"Evaluation failed: {text}", "error")

    def toggle_presentation(self) -> None:
        self.set_presentation(not self.presenting)

    def leave_presentation(self) -> None:
        if self.presenting:
            self.set_presentation(False)
        elif self.isFullScreen():
            self.toggle_full_screen()

    def set_presentation(self, on: bool) -> None:
        """Full screen, large type, thick lines, high contrast: readable from the back of a hall."""
        self.presenting = on
        self.acts["present"].setChecked(on)
        theme.set_presentation(self, on)
        # high contrast: pure black text on white (the light theme's greys fade on a projector)
        self.setStyleSheet("QLabel, QCheckBox, QToolButton, QMenuBar { color: black; }" if on else "")
        # at 1.6× type the small print would wrap over the plots: keep headings, big numbers and curves
        for p in self.layout_:
            p.subtitle.setVisible(not on)
        self.evaluation.tabs.setVisible(not on)
        self.preset_summary.setVisible(not on)
        if on:
            self._was_full = self.isFullScreen()
            self.controls_dock.setVisible(False)
            self.showFullScreen()
        else:
            self.controls_dock.setVisible(True)
            if not getattr(self, "_was_full", False):
                self.showNormal()
        self.acts["full_screen"].setChecked(self.isFullScreen())

    def open_compare(self, changes: dict | None = None, autoplay: bool = True):
        """Two runs side by side: this configuration (A) and A with ``changes`` (B)."""
        from .compare import open_compare

        return open_compare(self, changes, autoplay)

    def shutdown(self, timeout: float = 1.5) -> bool:
        """Stop every run, export and evaluation; True when every training process has finished."""
        self.stall.stop()
        self.evaluator.shutdown()
        self.exporter.shutdown()
        for w in self.compare_windows:
            w.close()
        return self.controller.stop_all(timeout)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        try:
            self.save_settings()
        finally:
            self.shutdown()
        ev.accept()
