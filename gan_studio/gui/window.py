"""The studio's main window: toolbar, controls, the panel grid, and a status bar readable from afar.

The window never trains. It owns a :class:`LiveRun` (a training thread), sends it commands, and redraws
from the latest snapshot on a ~30 Hz timer.
"""
from __future__ import annotations

import collections
import functools
import os
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.config import DATASET_KINDS, LIVE_KEYS, ConfigError, TrainConfig
from ..core.live import LiveRun, ProcessRun
from ..core.presets import all_presets
from ..core.runfolder import RunFolder, RunFolderError, new_recording, write_metrics_csv
from ..core.viewspec import ViewRequest
from . import theme
from .controls import ControlsPanel
from . import exports
from .evalworker import EvalWorker
from .replaybar import ReplayBar
from .panels import DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel
from .settings import Settings

STATE_COLORS = {"replay": "#7c3aed", "running": theme.OK, "paused": "#1d4ed8", "loading": "#6b7280", "diverged": theme.WARN,
                "error": theme.ERROR, "stopped": "#6b7280"}
RUN_KEYS = ("dataset", "model", "seed", "device")


def train_threads() -> int:
    """Torch threads for the training process: all cores but one, which the window keeps for drawing.

    Measured on a 2-core machine (benchmarks/studio.py): with torch's default of 2 threads the training
    process and the window fight over the cores (OpenMP threads spin while the GUI paints) and the studio
    trained at 0.83× the headless rate; with 1 thread it matched it (0.95–1.1×) and the UI stalls halved.
    ``GAN_STUDIO_TRAIN_THREADS`` overrides."""
    env = os.environ.get("GAN_STUDIO_TRAIN_THREADS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) - 1)


class StallMonitor(QtCore.QObject):
    """Measures how late the GUI event loop runs a 10 ms timer: its stalls, in ms."""

    def __init__(self, parent=None, interval_ms: int = 10, keep: int = 20000) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.samples: collections.deque = collections.deque(maxlen=keep)
        self.active = False
        self._last = None
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start(interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None and self.active:
            self.samples.append(max(0.0, (now - self._last - self.interval) * 1000))
        self._last = now

    def p99(self) -> float:
        return float(np.percentile(np.asarray(self.samples), 99)) if self.samples else 0.0

    def stop(self) -> None:
        self._timer.stop()


class Banner(QtWidgets.QFrame):
    """Errors and divergence, in the window (never only on a terminal)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.label.font()
        f.setPointSize(12)
        self.label.setFont(f)
        lay.addWidget(self.label, 1)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setToolTip("dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        color = {"error": theme.ERROR, "warn": theme.WARN, "info": "#1d4ed8"}[level]
        self.setStyleSheet(f"Banner {{ background: {color}22; border: 2px solid {color}; border-radius: 4px; }}"
                           f"QLabel {{ color: {color}; }}")
        self.label.setText(text)
        self.level = level
        self.show()


class StudioWindow(QtWidgets.QMainWindow):
    def __init__(self, settings: Settings | None = None, preset: str | None = None, autoplay: bool = False,
                 persist: bool = True, overrides: dict | None = None) -> None:
        super().__init__()
        theme.configure()
        self.settings = settings or Settings()
        self.persist = persist
        self.setWindowTitle("GAN Studio")
        self.resize(1440, 900)
        self.presets = all_presets()
        self.run: ProcessRun | LiveRun | None = None
        self._old_runs: list = []
        # training runs in a child process (no interpreter lock shared with the GUI); a thread on request
        self.run_class = LiveRun if os.environ.get("GAN_STUDIO_THREAD_WORKER") == "1" else ProcessRun
        self._static_run = None
        self.static = None
        self._snap = None
        self._loss_shown = None
        self.ui_frames = 0
        self.recent_stats: collections.deque = collections.deque(maxlen=256)
        self.iterations_at_ready = None
        self.ready_time = None
        self.confirm_reset = True  # ask before a change that discards the current networks
        # every live run is recorded (a run folder: replay, GIFs, CSV); GAN_STUDIO_RECORD=0 turns it off
        self.recording = os.environ.get("GAN_STUDIO_RECORD", "1") != "0"
        self.record_dir: Path | None = None
        self.export_job: exports.ExportJob | None = None
        self._pending_latent_gif: str | None = None
        self._pending_generator: str | None = None
        self.presenting = False
        self.compare_windows: list = []

        self._build_panels()
        self._build_controls()
        self._build_actions()
        self._build_statusbar()
        self.stall = StallMonitor(self)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(33)

        # what to run: a named preset (automation), else the user's last preset and changes
        if preset is not None:
            self.preset_name, self.overrides = preset, dict(overrides or {})
        else:
            self.preset_name = self.settings.get("run/preset", "ring8")
            self.overrides = self.settings.get("run/overrides", {}) if overrides is None else dict(overrides)
            if self.preset_name not in self.presets:
                self.preset_name, self.overrides = "ring8", {}
        self._restore_view_settings()
        self.autoplay = autoplay
        self._select_preset_widget(self.preset_name)

    # ------------------------------------------------------------------------------------------ building
    def _build_panels(self) -> None:
        self.samples = SamplesPanel()
        self.field = FieldPanel()
        self.latent = LatentPanel()
        self.losses = LossesPanel()
        self.dhist = DHistPanel()
        self.evaluation = EvaluationPanel()
        self.panels = [self.field, self.samples, self.latent, self.losses, self.dhist, self.evaluation]
        self.evaluator = EvalWorker(self)
        self.evaluation.evaluateRequested.connect(self.evaluate)
        self.evaluation.cancelRequested.connect(self.evaluator.cancel)
        self.evaluator.progress.connect(self.evaluation.set_progress)
        self.evaluator.finished.connect(self.evaluation.add_result)
        self.evaluator.failed.connect(self._eval_failed)
        self.evaluator.cancelled.connect(lambda: self.evaluation.set_busy(False, "cancelled"))
        self.evaluator.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.samples.picked.connect(lambda a, b: self.latent.mode.setCurrentIndex(1))
        for p in self.panels:
            p.optionsChanged.connect(self.send_view_request)
            p.exportRequested.connect(lambda fmt, p=p: self.export_panel(p, fmt))
        self.top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.top.addWidget(self.field)
        self.top.addWidget(self.samples)
        self.top.addWidget(self.latent)
        self.bottom = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.bottom.addWidget(self.losses)
        self.bottom.addWidget(self.dhist)
        self.bottom.addWidget(self.evaluation)
        self.grid = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.grid.addWidget(self.top)
        self.grid.addWidget(self.bottom)
        for i, f in enumerate((4, 3, 4)):  # losses, D histogram, evaluation
            self.bottom.setStretchFactor(i, f)
        self.grid.setStretchFactor(0, 3)
        self.grid.setStretchFactor(1, 2)
        for s in (self.top, self.bottom, self.grid):
            s.setChildrenCollapsible(False)
        self.banner = Banner()
        self.replay_bar = ReplayBar()
        self.replay_bar.seek.connect(self._replay_seek)
        self.replay_bar.closeRequested.connect(self.close_replay)
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
        lay.addWidget(self.replay_bar)
        lay.addWidget(self.grid, 1)
        self.setCentralWidget(central)

    def _build_controls(self) -> None:
        self.controls = ControlsPanel()
        self.controls.liveChanged.connect(self.change_live)
        self.controls.runChanged.connect(self.change_run)
        self.controls.speedChanged.connect(self._speed_changed)
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

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        a = QtGui.QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(shortcut))
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(f"{tip} ({QtGui.QKeySequence(shortcut).toString()})" if shortcut else tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QtCore.Qt.Key
        self.act_play = self._action("▶ Play", self.toggle_play, K.Key_Space, "start or pause training")
        self.act_step = self._action("Step", lambda: self.step("full"), K.Key_Right,
                                     "one iteration: k D-steps, then the G-steps")
        self.act_step_d = self._action("Step D", lambda: self.step("d"), K.Key_D, "one discriminator step")
        self.act_step_g = self._action("Step G", lambda: self.step("g"), K.Key_G, "one generator step")
        self.act_reset = self._action("⟲ Reset", self.reset, "Ctrl+R", "start this configuration again from scratch")
        self.act_save = self._action("Save checkpoint…", self.save_checkpoint, "Ctrl+S",
                                     "save G, D, optimisers and history to a file")
        self.act_eval = self._action("Evaluate (Parzen)", self.evaluate, "Ctrl+E",
                                     "Parzen-window log-likelihood and the metrics that apply, on a snapshot "
                                     "of G, while training goes on")
        self.act_open_ckpt = self._action("Open checkpoint…", lambda: self.open_checkpoint(), "Ctrl+O",
                                          "resume a saved run exactly where it stopped")
        self.act_export_gen = self._action("Export generator…", lambda: self.export_generator(), None,
                                           "G alone (safetensors + JSON), for use outside GAN Studio")
        self.act_open_run = self._action("Open recorded run…", lambda: self.open_run_folder(), "Ctrl+Shift+O",
                                         "replay a run folder with a step slider (no training needed)")
        self.act_save_run = self._action("Save recorded run as…", lambda: self.save_run_folder(), None,
                                         "keep this run's recording (the studio keeps only the last 8)")
        self.act_gif_field = self._action("GIF of the toy field…", lambda: self.export_gif("field"), "Ctrl+G",
                                          "the recorded run as a looping GIF: points over D's heatmap")
        self.act_gif_samples = self._action("GIF of the samples…", lambda: self.export_gif("samples"), None,
                                            "the recorded run as a looping GIF of the samples")
        self.act_gif_latent = self._action("GIF of a latent-walk loop…", lambda: self.export_gif("latent"), None,
                                           "G now, along a closed loop in z: a seamless looping GIF")
        self.act_csv = self._action("Metrics as CSV…", lambda: self.export_metrics_csv(), None,
                                    "the recorded losses and D outputs, one row per logged iteration")
        self.act_compare = self._action("Compare two runs…", lambda: self.open_compare(), "Ctrl+K",
                                        "two runs side by side, same data and seed, stepped in lockstep")
        self.act_present = self._action("Presentation mode", self.toggle_presentation, K.Key_F5,
                                        "full screen, large type, thick lines (Esc leaves)")
        self.act_present.setCheckable(True)
        self.act_escape = self._action("Leave presentation", self.leave_presentation, K.Key_Escape, "")
        self.act_next_preset = self._action("Next preset", lambda: self.cycle_preset(1), K.Key_PageDown,
                                            "start the next preset (a presenter's clicker sends Page Down)")
        self.act_prev_preset = self._action("Previous preset", lambda: self.cycle_preset(-1), K.Key_PageUp,
                                            "start the previous preset")
        self.act_quit = self._action("Quit", self.close, "Ctrl+Q", "quit")
        self.act_full = self._action("Full screen", self.toggle_full_screen, K.Key_F11, "full screen")
        self.act_full.setCheckable(True)

        tb = QtWidgets.QToolBar("Training")
        tb.setObjectName("training-toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        f = tb.font()
        f.setPointSize(12)
        tb.setFont(f)
        for a in (self.act_play, self.act_step_d, self.act_step_g, self.act_step, self.act_reset):
            tb.addAction(a)
        tb.addSeparator()
        self.export_menu = QtWidgets.QMenu("&Export", self)
        for a in (self.act_gif_field, self.act_gif_samples, self.act_gif_latent, self.act_csv, self.act_export_gen):
            self.export_menu.addAction(a)
        self.export_button = QtWidgets.QToolButton()
        self.export_button.setText("⤓ Export")
        self.export_button.setFont(f)
        self.export_button.setToolTip("GIFs, metrics as CSV, the generator")
        self.export_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setMenu(self.export_menu)
        tb.addWidget(self.export_button)
        tb.addAction(self.act_compare)
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" preset "))
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.setFont(f)
        for name, p in self.presets.items():
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
        m = mb.addMenu("&File")
        for a in (self.act_open_ckpt, self.act_save):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_open_run, self.act_save_run):
            m.addAction(a)
        m.addSeparator()
        m.addMenu(self.export_menu)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_play, self.act_step, self.act_step_d, self.act_step_g, self.act_reset):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_eval)
        m.addAction(self.act_compare)
        m.addSeparator()
        m.addAction(self.act_next_preset)
        m.addAction(self.act_prev_preset)
        self.view_menu = mb.addMenu("&View")
        self.panel_actions = {}
        for p in self.panels:
            a = QtGui.QAction(p.title, self, checkable=True, checked=True)
            a.toggled.connect(lambda on, p=p: self._panel_toggled(p, on))
            self.view_menu.addAction(a)
            self.panel_actions[p.key] = a
        self.view_menu.addAction(self.controls_dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.act_full)
        self.view_menu.addAction(self.act_present)
        m = mb.addMenu("&Help")
        m.addAction(self._action("Keyboard shortcuts", self.show_shortcuts))
        m.addAction(self._action("About GAN Studio", self.show_about))

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        sb.setSizeGripEnabled(False)
        f = sb.font()
        f.setPointSize(13)
        self.st_state = QtWidgets.QLabel("● loading")
        self.st_iter = QtWidgets.QLabel("iteration 0")
        self.st_rate = QtWidgets.QLabel("— it/s")
        self.st_device = QtWidgets.QLabel("")
        self.st_seed = QtWidgets.QLabel("")
        self.st_msg = QtWidgets.QLabel("")
        self.st_msg.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        for w in (self.st_state, self.st_iter, self.st_rate, self.st_device, self.st_seed, self.st_msg):
            w.setFont(f)
            w.setContentsMargins(8, 0, 12, 0)
        bold = QtGui.QFont(f)
        bold.setBold(True)
        self.st_state.setFont(bold)
        self.st_iter.setFont(bold)
        self.st_iter.setMinimumWidth(190)
        self.st_rate.setMinimumWidth(110)
        for w in (self.st_state, self.st_iter, self.st_rate, self.st_device, self.st_seed):
            sb.addWidget(w)
        sb.addWidget(self.st_msg, 1)

    # ------------------------------------------------------------------------------------------ runs
    def current_config(self) -> TrainConfig:
        cfg = self.presets[self.preset_name].config
        run_over = {k: v for k, v in self.overrides.items() if k in cfg.to_dict()}
        return cfg.replace(**run_over) if run_over else cfg

    def start(self) -> None:
        """Start the configured run (called once the window is on screen)."""
        try:
            cfg = self.current_config()
        except ConfigError as exc:  # saved settings no longer valid: fall back to the preset
            self.banner.show_message(f"Your saved settings could not be used ({exc}); using the preset's.", "warn")
            self.overrides = {}
            cfg = self.current_config()
        self.start_run(cfg, autoplay=self.autoplay)

    def start_run(self, cfg: TrainConfig, autoplay: bool = False, checkpoint_path: str | None = None,
                  label: str | None = None) -> None:
        self.replay_bar.hide()
        if self.run is not None:
            self.run.stop(timeout=0)  # finishes its current iteration in the background
            self._old_runs.append(self.run)
        self._old_runs = [r for r in self._old_runs if r.is_alive()]
        self._static_run = None
        self.static = None
        self._snap = None
        self.iterations_at_ready = None
        self.ready_time = None
        for p in self.panels:
            p.set_static(None)
        self.losses.set_static(None)
        self.banner.hide()
        kw = {}
        if self.run_class is ProcessRun:
            kw["threads"] = train_threads()
        if checkpoint_path is not None:
            kw["checkpoint_path"] = str(checkpoint_path)
        self.record_dir = None
        if self.recording:
            try:
                self.record_dir = new_recording(label or self.preset_name)
                kw["record_dir"] = str(self.record_dir)
            except OSError as exc:
                self.banner.show_message(f"This run is not being recorded (GIF export and replay need a "
                                         f"recording): {exc}", "warn")
        self.run = self.run_class(cfg, start_paused=not autoplay, **kw)
        self.controls_dock.widget().setEnabled(True)
        self.run.set_speed(self.controls.speed_value())
        self.controls.load_config(cfg.to_dict())
        self.run.start()
        self._show_state("loading", "")

    def reset(self) -> None:
        self.start_run(self.current_config(), autoplay=self.run is not None and self.run.state == "running")

    def choose_preset(self, name: str) -> None:
        if name == self.preset_name and not self.overrides:
            return
        if not self._ask(f"Start the preset “{name}”?",
                         f"{self.presets[name].summary}\n\nThe current run's networks will be discarded."):
            self._select_preset_widget(self.preset_name)
            return
        self.preset_name, self.overrides = name, {}
        self._select_preset_widget(name)
        self._save_run_settings()
        self.start_run(self.current_config(), autoplay=True)

    def change_run(self, change: dict) -> None:
        """Data, model, seed or device changed: these need new networks, so ask, then start a new run."""
        key, value = next(iter(change.items()))
        new = dict(self.overrides)
        new[key] = value
        if key == "dataset":
            cur = self.current_config()
            new["dataset_args"] = {}
            if DATASET_KINDS.get(value) != DATASET_KINDS.get(cur.dataset):
                images = DATASET_KINDS.get(value) == "images"
                new.update(model="mlp", z_dim=32 if images else 2, noise="normal",
                           model_args={"hidden": 256, "out_range": "unit"} if images else {})
            if value in ("points", "image-folder"):
                path = self._pick_path(value)
                if not path:
                    self.controls.load_config(self.current_config().to_dict())
                    return
                new["dataset_args"] = {"path": path}
        try:
            cfg = self.presets[self.preset_name].config.replace(
                **{k: v for k, v in new.items() if k in TrainConfig().to_dict()})
        except ConfigError as exc:
            self.controls.show_error(str(exc))
            self.controls.load_config(self.current_config().to_dict())
            return
        if not self._ask("Start a new run?", f"Changing the {key} to {value!r} needs new networks; "
                                             "the current run's progress will be discarded."):
            self.controls.load_config(self.current_config().to_dict())
            return
        self.overrides = new
        self._save_run_settings()
        self.start_run(cfg, autoplay=self.run is not None and self.run.state == "running")

    def _pick_path(self, dataset: str) -> str | None:
        if dataset == "points":
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Points (N×d)", "", "Arrays (*.npy *.csv *.txt)")
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "A folder of images")
        return path or None

    def _ask(self, title: str, text: str) -> bool:
        if not self.confirm_reset or (self._snap is not None and self._snap.iteration == 0):
            return True
        r = QtWidgets.QMessageBox.question(self, title, text)
        return r == QtWidgets.QMessageBox.StandardButton.Yes

    def change_live(self, change: dict) -> None:
        if self.run is None:
            return
        try:
            self.run.set(**change)
        except ConfigError as exc:
            self.controls.show_error(str(exc))
            return
        self.overrides.update(change)
        self._save_run_settings()

    def _speed_changed(self, v) -> None:
        if self.run is not None:
            self.run.set_speed(v)
        if self.persist:
            self.settings.set("run/speed", -1.0 if v is None else float(v))

    def toggle_play(self) -> None:
        if self.run is None:
            return
        if getattr(self.run, "replay", False):
            self.replay_bar.toggle_play()
            self._show_state("replay", self._snap.message if self._snap else "")
            return
        if self.run.state == "running":
            self.run.pause()
        elif self.run.state in ("paused", "diverged"):
            self.banner.hide()
            self.run.play()

    def play(self) -> None:
        if self.run is not None:
            self.run.play()

    def pause(self) -> None:
        if self.run is not None:
            self.run.pause()

    def step(self, kind: str) -> None:
        if getattr(self.run, "replay", False):
            self.replay_bar.step(1)
            return
        if self.run is not None and self.run.state in ("running", "paused", "diverged"):
            self.run.step(kind)

    def save_checkpoint(self) -> None:
        if self.run is None or self.run.state not in ("running", "paused", "diverged"):
            return
        start = str(Path(self.settings.get("paths/checkpoints", str(Path.home()))) /
                    f"{self.preset_name}-it{self._snap.iteration if self._snap else 0}.pt")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save checkpoint", start, "Checkpoints (*.pt)")
        if path:
            self.settings.set("paths/checkpoints", str(Path(path).parent))
            self.run.save(path)

    # ------------------------------------------------------------------------------------------ display
    def send_view_request(self) -> None:
        if self.run is None or self._static_run is None:
            return
        st = self.static
        names: set[str] = set()
        opts: dict = {}
        for p in self.panels:
            if p.isVisible() or (p.applies(st) and self.panel_actions[p.key].isChecked() and not self.isVisible()):
                names |= p.views(st)
            opts.update(p.options())
        self.run.set_views(ViewRequest(names=frozenset(names), **opts))
        if self.persist:
            self._save_view_settings()

    def _panel_toggled(self, panel, on: bool) -> None:
        st = self.static
        panel.setVisible(on and (st is None or panel.applies(st)))
        self.send_view_request()

    def _on_static(self, snap) -> None:
        """A new run's data are known: show the panels that apply, hide the others."""
        st = snap.static
        self.static = st
        self._static_run = snap.run_id
        replay = getattr(self.run, "replay", False)
        self._modes_fed = -1
        for p in self.panels:
            applies = p.applies(st) and not (replay and p.key == "latent")  # a recording has no G to walk
            p.set_static(st if applies else None)
            p.setVisible(applies and self.panel_actions[p.key].isChecked())
            self.panel_actions[p.key].setEnabled(applies)
        self.losses.set_static(st)
        self._loss_shown = st.loss
        self.iterations_at_ready = snap.iteration
        self.ready_time = time.perf_counter()
        self.send_view_request()

    def refresh(self) -> None:
        """The display tick (~30 Hz): drain statistics and events, redraw panels from the latest snapshot."""
        run = self.run
        if run is None:
            return
        if getattr(run, "replay", False):
            self._refresh_replay(run)
            return
        for ev in run.drain_events():
            self._on_event(ev)
        snap = run.latest()
        if snap is None or snap.run_id != run.run_id:
            return
        if snap.static is not None and self._static_run != run.run_id:
            self._on_static(snap)
        stats = run.drain_stats()
        if len(stats):
            self.recent_stats.append(stats)  # the last few hundred iterations, as the training reported them
        if self._static_run == run.run_id:
            self.losses.add_stats(stats)
        if snap is self._snap:
            drew = self.losses.show_snapshot(snap)
            self.ui_frames += int(drew)
            return
        prev, self._snap = self._snap, snap
        if prev is None or prev.config != snap.config:
            self.controls.load_config(snap.config)
            if snap.static is not None and snap.loss_info and snap.loss_info[0] != self._loss_shown:
                self._loss_changed(snap.loss_info)
        self.controls.show_rates(snap.lr_d, snap.lr_g)
        self._show_state(snap.state, snap.message, snap)
        drew = False
        if self._static_run == run.run_id:
            for p in self.panels:
                if p.isVisible():
                    drew |= bool(p.show_snapshot(snap))
        self.ui_frames += int(drew)
        self.stall.active = snap.state == "running"

    def _loss_changed(self, info: tuple) -> None:
        name, sigmoid, d_eq, g_eq = info
        self.losses.set_loss(name, sigmoid, d_eq, g_eq)
        self.dhist.set_sigmoid(sigmoid)
        self._loss_shown = name

    def _show_state(self, state: str, message: str, snap=None) -> None:
        color = STATE_COLORS.get(state, "#333")
        self.st_state.setText(f"● {state}")
        self.st_state.setStyleSheet(f"color: {color};")
        self.act_play.setText("❚❚ Pause" if state == "running" else "▶ Play")
        busy = state in ("loading", "error", "stopped")
        replay = state == "replay"
        for a in (self.act_step, self.act_step_d, self.act_step_g):
            a.setEnabled(not busy)
        for a in (self.act_step_d, self.act_step_g, self.act_reset, self.act_eval):
            a.setEnabled(not busy and not replay)
        self.act_play.setEnabled(not busy)
        self.act_save.setEnabled(not busy and not replay)
        self.act_export_gen.setEnabled(not busy and not replay)
        self.act_gif_latent.setEnabled(not busy and not replay)
        if replay:
            self.act_play.setText("❚❚ Pause" if self.replay_bar.timer.isActive() else "▶ Play")
        if snap is not None:
            self.st_iter.setText(f"iteration {snap.iteration:,}")
            self.st_rate.setText(f"{snap.it_per_s:,.0f} it/s" if state == "running" else "— it/s")
            self.st_device.setText(snap.device or "")
            self.st_seed.setText(f"seed {snap.config.get('seed', 0)}")
        self.st_msg.setText(message if state in ("diverged", "error", "replay") else "")
        self.st_msg.setStyleSheet(f"color: {color};")

    def _on_event(self, ev) -> None:
        if ev.kind == "error":
            if not self.evaluator.on_save_failed(ev.message):  # the evaluator reports its own failures
                self.banner.show_message(ev.message, "error")
        elif ev.kind == "diverged":
            self.banner.show_message(f"Training {ev.message}. Lower the learning rates (or change the loss) and "
                                     "press Play to continue from those weights, or Reset.", "warn")
        elif ev.kind == "metrics":
            if self._static_run == getattr(self.run, "run_id", None):
                self.evaluation.add_metrics(ev.data)
        elif ev.kind == "saved" and self.evaluator.on_saved(ev.message):
            if self.evaluator.busy:
                self.evaluation.set_busy(True, "sampling 10,000 from G…")
        elif ev.kind == "latent-gif":
            self._write_latent_gif(ev.data)
        elif ev.kind == "generator":
            self.statusBar().showMessage(f"exported the generator to {ev.data}", 8000)
            self.st_msg.setText(f"exported {os.path.basename(str(ev.data))}")
        elif ev.kind == "recording":
            pass
        elif ev.kind == "saved":
            self.statusBar().showMessage(f"saved {ev.message}", 5000)
            self.st_msg.setText(f"saved {os.path.basename(ev.message)}")

    # ------------------------------------------------------------------------------------------ settings
    def _select_preset_widget(self, name: str) -> None:
        i = self.preset_box.findData(name)
        if i >= 0:
            self.preset_box.setCurrentIndex(i)
        p = self.presets.get(name)
        self.preset_summary.setText(p.summary if p else "")
        self.preset_summary.setToolTip(p.summary if p else "")

    def _save_run_settings(self) -> None:
        if self.persist:
            self.settings.set("run/preset", self.preset_name)
            self.settings.set("run/overrides", {k: v for k, v in self.overrides.items()})

    def _save_view_settings(self) -> None:
        s = self.settings
        s.set("view/fresh_z", self.samples.fresh.isChecked())
        s.set("view/nn", self.samples.nn.isChecked())
        s.set("view/arrows", self.field.arrows_cb.isChecked())
        s.set("view/panels", {k: a.isChecked() for k, a in self.panel_actions.items()})

    def _restore_view_settings(self) -> None:
        s = self.settings
        for cb, key, default in ((self.samples.fresh, "view/fresh_z", False), (self.samples.nn, "view/nn", True),
                                 (self.field.arrows_cb, "view/arrows", True)):
            cb.blockSignals(True)
            cb.setChecked(s.get(key, default))
            cb.blockSignals(False)
        for k, on in s.get("view/panels", {}).items():
            if k in self.panel_actions:
                self.panel_actions[k].blockSignals(True)
                self.panel_actions[k].setChecked(bool(on))
                self.panel_actions[k].blockSignals(False)
        speed = s.get("run/speed", -1.0)
        self.controls.speed.blockSignals(True)
        self.controls.set_speed(None if speed <= 0 else speed)
        self.controls._speed(self.controls.speed.value())
        self.controls.speed.blockSignals(False)
        geo = s.bytes("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = s.bytes("window/state")
        if state is not None:
            self.restoreState(state)
        for name, sp in (("grid", self.grid), ("top", self.top), ("bottom", self.bottom)):
            st = s.bytes(f"window/split-{name}")
            if st is not None:
                sp.restoreState(st)

    def save_settings(self) -> None:
        if not self.persist:
            return
        s = self.settings
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        for name, sp in (("grid", self.grid), ("top", self.top), ("bottom", self.bottom)):
            s.set(f"window/split-{name}", sp.saveState())
        self._save_run_settings()
        self._save_view_settings()
        s.sync()

    # ------------------------------------------------------------------------------------------ misc
    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.act_full.setChecked(self.isFullScreen())

    def show_shortcuts(self) -> None:
        QtWidgets.QMessageBox.information(
            self, "Keyboard shortcuts",
            "Space\tplay / pause\n→\tone iteration (k D-steps, then G)\nD\tone D-step\nG\tone G-step\n"
            "Ctrl+R\treset\nCtrl+S\tsave checkpoint\nF11\tfull screen\nCtrl+Q\tquit")

    def show_about(self) -> None:
        from .. import __version__

        QtWidgets.QMessageBox.about(
            self, "About GAN Studio",
            f"GAN Studio {__version__}\n\nTrain GANs and watch and steer the training live.\n"
            "Algorithm 1 of Goodfellow et al. (2014), “Generative Adversarial Nets”.")

    def shutdown(self, timeout: float = 1.5) -> bool:
        """Stop the training threads; True when every one has finished."""
        self.timer.stop()
        self.stall.stop()
        self.evaluator.shutdown()
        deadline = time.perf_counter() + timeout
        if self.export_job is not None:
            self.export_job.cancel()  # checked between frames: it ends within one frame, leaving no file
            self.export_job.wait(3.0)
        for w in self.compare_windows:
            w.close()
        runs = [r for r in [self.run, *self._old_runs] if r is not None]
        for r in runs:
            r.stop(timeout=0)
        ok = True
        for r in runs:
            ok &= r.stop(timeout=max(0.0, deadline - time.perf_counter()))
        return ok

    def evaluate(self) -> None:
        """Evaluate a snapshot of G in its own process; training is not interrupted."""
        if self.run is None or self.run.state not in ("running", "paused", "diverged"):
            self.statusBar().showMessage("nothing to evaluate yet", 4000)
            return
        if self.evaluator.busy:
            self.statusBar().showMessage("an evaluation is already running", 4000)
            return
        self.panel_actions["evaluation"].setChecked(True)
        self.evaluation.tabs.setCurrentIndex(1)
        if self.evaluator.request(self.run, {"threads": 1}):
            self.evaluation.set_busy(True, "taking a snapshot of G…")

    def _eval_failed(self, text: str) -> None:
        self.evaluation.set_busy(False, "failed")
        self.banner.show_message(f"Evaluation failed: {text}", "error")

    # ------------------------------------------------------------------------------------------ replay
    def open_run_folder(self, path: str | None = None, follow: bool = False) -> bool:
        """Show a recorded run with a step slider instead of training. False (and a message) if it cannot."""
        from ..core.replay import ReplayRun

        if path is None:
            start = self.settings.get("paths/runs", str(Path.home()))
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a recorded run (a run folder)", start)
            if not path:
                return False
            self.settings.set("paths/runs", str(Path(path).parent))
        try:
            replay = ReplayRun(path, follow=follow)
        except RunFolderError as exc:
            self.banner.show_message(f"Cannot open the recorded run: {exc}", "error")
            return False
        if self.run is not None:
            self.run.stop(timeout=0)
            self._old_runs.append(self.run)
        self._static_run = None
        self.static = None
        self._snap = None
        for p in self.panels:
            p.set_static(None)
        self.banner.hide()
        self.run = replay
        self.record_dir = replay.folder.path
        self.controls_dock.widget().setEnabled(False)  # a recording's settings are shown, not changed
        self.replay_bar.set_run(f"Replay: {replay.folder.path.name}", len(replay), replay.position, follow)
        data = replay.folder.meta.get("data", {})
        self.preset_summary.setText(f"a recorded run: {data.get('description') or data.get('name', '')} · "
                                    f"{len(replay)} snapshots up to iteration {replay.folder.iterations[-1]:,}")
        self._last_follow = time.perf_counter()
        return True

    def _replay_seek(self, position: int) -> None:
        if getattr(self.run, "replay", False):
            self.run.seek(position)

    def close_replay(self) -> None:
        self.replay_bar.hide()
        self._select_preset_widget(self.preset_name)
        self.start_run(self.current_config(), autoplay=False)

    def _refresh_replay(self, run) -> None:
        for ev in run.drain_events():
            if ev.kind == "error":
                self.banner.show_message(ev.message, "error")
        now = time.perf_counter()
        if self.replay_bar.follow.isChecked() and now - getattr(self, "_last_follow", 0.0) > 1.0:
            self._last_follow = now
            run.follow = True
            if run.refresh():
                self.replay_bar.set_count(len(run), run.position)
        snap = run.latest()
        if self._static_run != run.run_id:
            self._on_static(snap)
        if run.take_rewound():
            self.losses.set_static(self.static)
            if self.evaluation.applies(self.static):
                self.evaluation.set_static(self.static)
            self._modes_fed = -1
        self.losses.add_stats(run.drain_stats())
        for m in run.modes_history(upto=snap.iteration):
            if m["iteration"] > self._modes_fed:
                self.evaluation.add_metrics(m)
                self._modes_fed = m["iteration"]
        if snap is self._snap:
            self.losses.show_snapshot(snap)
            if self.evaluation.isVisible():
                self.evaluation.show_snapshot(snap)
            return
        self._snap = snap
        self.controls.load_config(snap.config)
        self.controls.show_rates(snap.lr_d, snap.lr_g)
        self._show_state("replay", snap.message, snap)
        self.st_rate.setText("recorded")
        self.replay_bar.set_label(f"{run.position + 1} / {len(run)} · {snap.message}")
        for p in self.panels:
            if p.isVisible():
                p.show_snapshot(snap)

    # ------------------------------------------------------------------------------------------ files
    def _save_name(self, title: str, default: str, filt: str, key: str) -> str | None:
        start = str(Path(self.settings.get(f"paths/{key}", str(Path.home()))) / default)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, start, filt)
        if path:
            self.settings.set(f"paths/{key}", str(Path(path).parent))
        return path or None

    def _stem(self) -> str:
        return f"{self.preset_name}-it{self._snap.iteration if self._snap else 0}"

    def _fail(self, text: str) -> None:
        self.banner.show_message(text, "error")

    def open_checkpoint(self, path: str | None = None) -> None:
        """Resume a checkpoint in the studio, exactly where it stopped (its own data and settings)."""
        if path is None:
            start = self.settings.get("paths/checkpoints", str(Path.home()))
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open checkpoint", start,
                                                            "Checkpoints (*.pt);;All files (*)")
            if not path:
                return
            self.settings.set("paths/checkpoints", str(Path(path).parent))
        p = Path(path)
        if not p.is_file():
            self._fail(f"Cannot open the checkpoint: no such file {p}")
            return
        # the training process reads it (this process never imports torch); a bad file ends in a clear error
        self.start_run(self.current_config(), autoplay=False, checkpoint_path=str(p), label=p.stem)
        self.statusBar().showMessage(f"resuming {p.name}", 6000)

    def export_generator(self, path: str | None = None) -> None:
        if self.run is None or getattr(self.run, "replay", False) or self.run.state not in ("running", "paused",
                                                                                             "diverged"):
            self._fail("Export generator: there is no live run to export (open or start one first).")
            return
        path = path or self._save_name("Export the generator", f"{self._stem()}-G.safetensors",
                                       "safetensors (*.safetensors)", "exports")
        if path:
            from ..core.export import export_generator_call

            self.run.call(functools.partial(export_generator_call, str(path)), "generator")

    def export_panel(self, panel, fmt: str, path: str | None = None) -> Path | None:
        fmt = fmt.lower()
        path = path or self._save_name(f"Save the {panel.title.lower()} panel", f"{self._stem()}-{panel.key}.{fmt}",
                                       f"{fmt.upper()} (*.{fmt})", "exports")
        if not path:
            return None
        try:
            out = exports.save_widget_svg(panel, path, panel.title) if fmt == "svg" else \
                exports.save_widget_png(panel, path)
        except exports.ExportFailed as exc:
            self._fail(str(exc))
            return None
        self.statusBar().showMessage(f"saved {out}", 6000)
        return out

    def _recording(self) -> RunFolder | None:
        if self.record_dir is None:
            self._fail("This run is not recorded, so there is nothing to export (recording is off: "
                       "GAN_STUDIO_RECORD=0, or its folder could not be written).")
            return None
        try:
            return RunFolder(self.record_dir)
        except RunFolderError as exc:
            self._fail(f"The recording cannot be read: {exc}")
            return None

    def export_metrics_csv(self, path: str | None = None) -> Path | None:
        rf = self._recording()
        if rf is None:
            return None
        rows = [r for r in rf.metrics if "event" not in r]
        if not rows:
            self._fail("No metrics recorded yet: train a few iterations first.")
            return None
        path = path or self._save_name("Save metrics as CSV", f"{self._stem()}-metrics.csv", "CSV (*.csv)", "exports")
        if not path:
            return None
        cols = ["iteration", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "k", "g_steps", "batch_size",
                "seconds"]
        try:
            out = write_metrics_csv(rows, path, cols)
        except (ConfigError, OSError) as exc:
            self._fail(f"Could not save the metrics: {exc}")
            return None
        self.statusBar().showMessage(f"saved {len(rows):,} rows to {out}", 6000)
        return out

    def save_run_folder(self, path: str | None = None) -> Path | None:
        if self._recording() is None:
            return None
        if path is None:
            start = str(Path(self.settings.get("paths/runs", str(Path.home()))) / self._stem())
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the recorded run as a folder", start)
            if not path:
                return None
            self.settings.set("paths/runs", str(Path(path).parent))
        try:
            out = exports.copy_run_folder(self.record_dir, path)
        except exports.ExportFailed as exc:
            self._fail(str(exc))
            return None
        self.statusBar().showMessage(f"saved the run to {out} (open it with gan-studio open)", 8000)
        return out

    def export_gif(self, view: str, path: str | None = None, progress_dialog: bool = True):
        """A looping GIF: the recorded field or samples (worker thread, progress, cancel), or a latent loop."""
        if self.export_job is not None and not self.export_job.finished:
            self.statusBar().showMessage("an export is already running", 4000)
            return None
        st = self.static
        if st is not None and view == "field" and not (st.kind == "points" and st.dim <= 2):
            self._fail("The toy field GIF is for 1-D and 2-D point data; this run has "
                       f"{'images' if st.kind == 'images' else f'{st.dim}-D points'}. Export the samples instead.")
            return None
        if view == "latent":
            if self.run is None or getattr(self.run, "replay", False) or self.run.state not in (
                    "running", "paused", "diverged"):
                self._fail("A latent-walk GIF needs a live generator: start or open a run first.")
                return None
            path = path or self._save_name("Save a latent-walk GIF", f"{self._stem()}-latent.gif", "GIF (*.gif)",
                                           "exports")
            if path:
                from ..core.export import latent_loop_frames

                self._pending_latent_gif = str(path)
                self.run.call(functools.partial(latent_loop_frames, n_frames=48), "latent-gif")
                self.statusBar().showMessage("making the latent walk…", 4000)
            return None
        rf = self._recording()
        if rf is None:
            return None
        if not rf.index:
            self._fail("Nothing recorded yet: train for a moment first.")
            return None
        path = path or self._save_name(f"Save a GIF of the {view}", f"{self._stem()}-{view}.gif", "GIF (*.gif)",
                                       "exports")
        if not path:
            return None
        from ..core.export import run_gif

        job = exports.ExportJob(lambda prog, cancelled: run_gif(rf, view, path, progress=prog, cancelled=cancelled),
                                self)
        self._start_job(job, f"Writing {Path(path).name}", len(rf.index), progress_dialog)
        return job

    def _start_job(self, job, label: str, n: int, dialog: bool) -> None:
        self.export_job = job
        if dialog:
            dlg = QtWidgets.QProgressDialog(label, "Cancel", 0, max(1, n), self)
            dlg.setWindowTitle("Export")
            dlg.setMinimumDuration(300)
            dlg.setAutoClose(True)
            dlg.canceled.connect(job.cancel)
            job.progress.connect(lambda i, m: (dlg.setMaximum(m), dlg.setValue(i)))
            for sig in (job.done, job.failed):
                sig.connect(lambda *_: dlg.reset())
            job.cancelled.connect(dlg.reset)
            self._progress_dialog = dlg
        job.done.connect(lambda p: self.statusBar().showMessage(f"saved {p}", 8000))
        job.done.connect(lambda p: self.st_msg.setText(f"saved {os.path.basename(p)}"))
        job.failed.connect(lambda text: self._fail(f"Export failed: {text}"))
        job.cancelled.connect(lambda: self.statusBar().showMessage("export cancelled; no file was written", 6000))
        job.start()

    def _write_latent_gif(self, frames) -> None:
        path, self._pending_latent_gif = self._pending_latent_gif, None
        if not path or not frames:
            return
        from ..core.export import write_frames_gif

        job = exports.ExportJob(lambda prog, cancelled: write_frames_gif(frames, path), self)
        self._start_job(job, f"Writing {Path(path).name}", len(frames), False)

    # ------------------------------------------------------------------------------------------ lecture
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
        self.act_present.setChecked(on)
        theme.set_presentation(self, on)
        # high contrast: pure black text on white (the light theme's greys fade on a projector)
        self.setStyleSheet("QLabel, QCheckBox, QToolButton, QMenuBar { color: black; }" if on else "")
        # at 1.6× type the small print would wrap over the plots: keep headings, big numbers and curves
        for p in self.panels:
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
        self.act_full.setChecked(self.isFullScreen())

    def cycle_preset(self, delta: int) -> None:
        names = list(self.presets)
        i = (names.index(self.preset_name) + delta) % len(names) if self.preset_name in names else 0
        old, self.confirm_reset = self.confirm_reset, False  # a lecturer's clicker does not answer dialogs
        try:
            self.choose_preset(names[i])
        finally:
            self.confirm_reset = old

    def open_compare(self, changes: dict | None = None, autoplay: bool = True):
        """Two runs side by side: this configuration (A) and A with ``changes`` (B)."""
        from .compare import CompareDialog, CompareWindow

        base = self.current_config()
        if changes is None:
            preset = self.presets.get(self.preset_name)
            dlg = CompareDialog(base, getattr(preset, "compare", None) or {}, self)
            if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
                return None
            a, b = dlg.result_changes()
        else:
            a, b = changes.get("a", {}), changes.get("b", {})
        try:
            w = CompareWindow(base, a, b, autoplay=autoplay, run_class=self.run_class)
        except ConfigError as exc:
            self._fail(str(exc))
            return None
        self.compare_windows = [c for c in self.compare_windows if c.isVisible()] + [w]
        w.resize(self.size())
        w.show()
        w.start()
        return w

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        try:
            self.save_settings()
        finally:
            self.shutdown()
        ev.accept()
