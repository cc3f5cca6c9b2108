"""The studio's main window: toolbar, controls, the panel grid, and a status bar readable from afar.

The window never trains. It owns a :class:`LiveRun` (a training thread), sends it commands, and redraws
from the latest snapshot on a ~30 Hz timer.
"""
from __future__ import annotations

import collections
import os
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.config import DATASET_KINDS, LIVE_KEYS, ConfigError, TrainConfig
from ..core.live import LiveRun, ProcessRun
from ..core.presets import all_presets
from ..core.viewspec import ViewRequest
from . import theme
from .controls import ControlsPanel
from .evalworker import EvalWorker
from .panels import DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel
from .settings import Settings

STATE_COLORS = {"running": theme.OK, "paused": "#1d4ed8", "loading": "#6b7280", "diverged": theme.WARN,
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
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.banner)
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
        m.addAction(self.act_save)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Run")
        for a in (self.act_play, self.act_step, self.act_step_d, self.act_step_g, self.act_reset):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_eval)
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

    def start_run(self, cfg: TrainConfig, autoplay: bool = False) -> None:
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
        self.run = self.run_class(cfg, start_paused=not autoplay, **kw)
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
        for p in self.panels:
            applies = p.applies(st)
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
        for a in (self.act_step, self.act_step_d, self.act_step_g):
            a.setEnabled(not busy)
        self.act_play.setEnabled(not busy)
        self.act_save.setEnabled(not busy)
        if snap is not None:
            self.st_iter.setText(f"iteration {snap.iteration:,}")
            self.st_rate.setText(f"{snap.it_per_s:,.0f} it/s" if state == "running" else "— it/s")
            self.st_device.setText(snap.device or "")
            self.st_seed.setText(f"seed {snap.config.get('seed', 0)}")
        self.st_msg.setText(message if state in ("diverged", "error") else "")
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

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        try:
            self.save_settings()
        finally:
            self.shutdown()
        ev.accept()
