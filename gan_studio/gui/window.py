"""The studio's main window. It composes parts and wires them; it never trains and holds no refresh logic:

* :class:`~.run_controller.RunController` owns the run handle and the display timer and emits signals;
* :class:`~.runs.RunManager` decides what runs (preset, the user's changes, checkpoints, recordings);
* :class:`~.layout.PanelLayout` arranges the panels (each saves its own options);
* :mod:`.actions` is the table the menus, toolbar, shortcuts and the shortcuts dialog are built from;
* :class:`~.exporting.Exporter` writes GIFs, figures, CSV, the generator and panel pictures.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.views.viewspec import D_HIST, EVALUATION, LOSSES

from . import actions as A
from . import screens, theme
from .controls import ControlsPanel
from .branching import Brancher
from .display import Display
from .doctor_panel import DoctorPart
from .drawing import DrawingMode
from .evalworker import EvalWorker
from .exporting import Exporter
from .layout import PanelLayout
from .narration import Narrator
from .presentation import Presenter
from .recipes import RecipeManager
from .replaybar import ReplayBar
from .run_controller import RunController
from .ask import ask_checkpoint, ask_run_folder
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
        self.compare_windows: list = []
        self.setWindowTitle("GAN Studio")
        screens.fit_window(self)  # 1440×900 where it fits, else the whole screen (screens.py)
        self.sized_by_caller = False  # resize() called by a user of the class: then it keeps that size

        self.controller = RunController(self)
        self.runs = RunManager(self, preset, overrides)
        self.layout_ = PanelLayout()
        P = self.layout_.panels
        self.field, self.samples, self.latent = P["field"], P["samples"], P["latent"]
        self.losses, self.dhist, self.evaluation = P[LOSSES], P[D_HIST], P[EVALUATION]
        self.panels = list(P.values())
        self.evaluator = EvalWorker(self)
        self.exporter = Exporter(self)
        self.presenter = Presenter(self)
        self.banner = Banner()
        self.replay_bar = ReplayBar()
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.stall = StallMonitor(self)
        self._build_central()
        self._build_controls()
        self.drawing = DrawingMode(self)  # the toy field's drawing mode (Run → Draw a distribution…)
        self.recipes = RecipeManager(self)  # File → Save/Open recipe, Edit → Copy/Paste recipe, the notes strip
        self.doctor = DoctorPart(self)  # the GAN doctor's dock: findings, evidence, remedies, notifications
        self.brancher = Brancher(self)  # Run → Continue from here…, Back (time travel; branching.py)
        self.narrator = Narrator(self)  # Run → Narrate, View → Algorithm 1 (narration.py)
        self.acts = A.build_actions(self)
        self.doctor.bind()
        self.act_play = self.acts["play"]
        self._build_menus_and_toolbar()
        self.display = Display(self)
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
        A.build_bars(self)  # the toolbar (with the export menu and the preset box) and the menu bar

    def _wire(self) -> None:
        self.controls.liveChanged.connect(self.runs.change_live)
        self.controls.runChanged.connect(self.runs.change_run)
        self.controls.speedChanged.connect(self.runs.speed_changed)
        self.layout_.visibilityChanged.connect(self.display.send_view_request)
        self.evaluation.evaluateRequested.connect(self.evaluate)
        self.evaluation.cancelRequested.connect(self.evaluator.cancel)
        self.evaluator.progress.connect(self.evaluation.set_progress)
        self.evaluator.stage.connect(self.evaluation.set_stage)
        self.evaluator.finished.connect(self.evaluation.add_result)
        self.evaluator.failed.connect(self._eval_failed)
        self.evaluator.cancelled.connect(lambda: self.evaluation.set_busy(False, "cancelled"))
        self.evaluator.message.connect(lambda text: self.status.showMessage(text, 8000))
        self.samples.picked.connect(lambda a, b: self.latent.mode.setCurrentIndex(1))
        for p in self.layout_:
            p.optionsChanged.connect(self.display.send_view_request)
            p.exportRequested.connect(lambda fmt, p=p: self.exporter.export_panel(p, fmt))
        self.replay_bar.seek.connect(lambda pos: self.controller.is_replay and self.controller.handle.seek(pos))
        self.replay_bar.closeRequested.connect(self.runs.close_replay)
        self.replay_bar.follow.toggled.connect(lambda on: setattr(self.controller, "follow", on))
        self.replay_bar.steer.steerable.connect(self._steering)  # a followed live folder: the controls steer it
        self.replay_bar.steer.answered.connect(self._steer_answer)

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

    recent_stats = property(lambda self: self.display.recent_stats)
    iterations_at_ready = property(lambda self: self.display.iterations_at_ready)
    ready_time = property(lambda self: self.display.ready_time)

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
        self.drawing.leave(resume=False)
        self.display.clear(replay)
        if not replay:
            self.replay_bar.hide()
        self.controls_dock.widget().setEnabled(not replay)  # a recording's settings are shown, not changed
        self.controls.set_steering(False)  # (a followed live folder turns steering on: _steering)
        if cfg is not None:
            self.controls.load_config(cfg)

    def _steering(self, on: bool) -> None:
        """The Controls dock and Play/Pause drive a followed live run (through its control file) or, for a
        recording, show its settings only."""
        on = on and self.controller.is_replay
        self.controls_dock.widget().setEnabled(on or not self.controller.is_replay)
        self.controls.set_steering(on)
        if self.controller.is_replay:
            self.display.on_state("replay", self.controller.snapshot.message if self.controller.snapshot else "")

    def _steer_answer(self, event: str, text: str, asked: dict) -> None:
        """A followed run answered: a refusal puts the controls back and says why; pause/resume relabel Play."""
        if event == "refused":
            snap = self.controller.snapshot
            if snap is not None:  # what the run has in force (the controls took the refused value as sent)
                self.controls.load_config(snap.config)
            self.controls.refuse(text, keys=tuple(asked))
        else:
            self.controls.show_error(None)
            if event == "set":  # (sent from the steering strip too): shown at once, not at the next snapshot
                self.controls.sent(asked)
        if self.controller.is_replay:
            self.display.on_state("replay", self.controller.snapshot.message if self.controller.snapshot else "")

    def cycle_preset(self, delta: int) -> None:
        self.runs.cycle(delta)

    def open_checkpoint(self, path: str | None = None) -> None:
        """Resume a checkpoint in the studio, exactly where it stopped (its own data and settings)."""
        path = path or ask_checkpoint(self)
        if path:
            self.runs.open_checkpoint(path)

    def open_run_folder(self, path: str | None = None, follow: bool = False) -> bool:
        """Replay a run folder with a step slider. False (and a message in the banner) if it cannot."""
        path = path or ask_run_folder(self)
        return bool(path) and self.runs.open_recording(path, follow)

    def set_presentation(self, on: bool) -> None:
        self.presenter.set(on)

    @property
    def presenting(self) -> bool:
        return self.presenter.on

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

    # ------------------------------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        screen = screens.screen_key(self)  # the panels shown, dock sizes and geometry are kept per screen size
        self.layout_.restore_state(s, screen)
        speed = s.get("run/speed", -1.0)
        self.controls.speed.blockSignals(True)
        self.controls.set_speed(None if speed <= 0 else speed)
        self.controls._speed(self.controls.speed.value())
        self.controls.speed.blockSignals(False)
        self.acts["smooth"].setChecked(s.get("view/smooth", True))
        geo = s.bytes(f"screens/{screen}/geometry") or s.bytes("window/geometry")
        state = s.bytes(f"screens/{screen}/state") or s.bytes("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
            screens.clamp_to_screen(self)  # saved on a bigger screen: cut down to this one
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        if not self.persist:
            return
        s = self.settings
        screen = screens.screen_key(self)
        for prefix in ("window", f"screens/{screen}"):
            s.set(f"{prefix}/geometry", self.saveGeometry())
            s.set(f"{prefix}/state", self.saveState())
        self.layout_.save_state(s, screen)
        self.runs.take_in_force()
        self.runs.save()
        s.sync()

    def resize(self, *size) -> None:
        self.sized_by_caller = True
        super().resize(*size)

    def event(self, ev) -> bool:
        """When what the window holds changes (a reflow, panels shown or hidden, presentation left), a
        window that its contents had held larger than its screen fits the screen again."""
        if ev.type() == QtCore.QEvent.Type.LayoutRequest and not self.__dict__.get("sized_by_caller", True) \
                and not self.isFullScreen():
            QtCore.QTimer.singleShot(0, self._refit)
        return super().event(ev)

    def _refit(self) -> None:
        avail = screens.screen_of(self).availableGeometry()
        if not self.isFullScreen() and (self.frameGeometry().width() > avail.width()
                                        or self.frameGeometry().height() > avail.height()):
            screens.clamp_to_screen(self)

    # ------------------------------------------------------------------------------------------ misc
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
        if self.evaluator.request(self.run, {"threads": 1, **self.evaluation.eval_options()}):
            self.evaluation.set_busy(True, "taking a snapshot of G…")

    def _eval_failed(self, text: str) -> None:
        self.evaluation.set_busy(False, "failed")
        self.banner.show_message(f"Evaluation failed: {text}", "error")

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
