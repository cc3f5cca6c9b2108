"""Recipes in the studio: File → Save recipe… / Open recipe…, Edit → Copy recipe (a one-line form for chat
and slides) / Paste recipe, and the recipe's title and lesson notes shown under the toolbar, beside the
preset's explanation. The format lives in :mod:`gan_studio.core.record.recipe`, the schedule of changes in
:mod:`~gan_studio.core.record.recipe_schedule`."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..core.errors import ConfigError
from ..core.record import recipe as R
from ..core.record.recipe_schedule import InstallSchedule
from ..core.record.runfolder import studio_runs_dir

#: the controls panel's groups, by the start of their titles (controls.py)
CONTROL_TITLES = {"algorithm": "Algorithm 1", "rates": "Learning rates", "remedies": "Remedies", "speed": "Speed",
                  "run": "Run"}


class RecipeNotes(QtWidgets.QFrame):
    """A recipe's title and lesson notes: a strip above the panels (hidden when there are none)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recipe-notes")
        self.setStyleSheet("#recipe-notes { background: #fff8e1; border: 1px solid #e6c96b; border-radius: 4px; }")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        text = QtWidgets.QVBoxLayout()
        self.title = QtWidgets.QLabel()
        f = self.title.font()
        f.setPointSize(f.pointSize() + 3)
        f.setBold(True)
        self.title.setFont(f)
        self.notes = QtWidgets.QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.title)
        text.addWidget(self.notes)
        lay.addLayout(text, 1)
        close = QtWidgets.QToolButton()
        close.setText("×")
        close.setToolTip("hide the recipe's notes")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        lay.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_recipe(self, title: str, notes: str) -> None:
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.notes.setText(notes)
        self.notes.setVisible(bool(notes))
        self.setVisible(bool(title or notes))


class RecipeManager(QtCore.QObject):
    """Owned by the window: makes recipes of what it shows and starts the runs recipes describe."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self._recipe: R.Recipe | None = None  # the recipe last started, and the run handle it started
        self._handle = None
        self.notes = RecipeNotes()
        window.centralWidget().layout().insertWidget(0, self.notes)
        window.controller.staticChanged.connect(lambda _: self._run_changed())  # another run replaced it

    @property
    def active(self) -> R.Recipe | None:
        """The recipe the run shown came from (None once another run replaced it)."""
        h = self.w.controller.handle
        return self._recipe if h is not None and h is self._handle else None

    # ------------------------------------------------------------------------------------- making one
    def _groups(self) -> dict:
        boxes = self.w.controls.findChildren(QtWidgets.QGroupBox)
        return {key: b for key, title in CONTROL_TITLES.items() for b in boxes if b.title().startswith(title)}

    def view_state(self) -> tuple[dict, dict]:
        """(panels shown, control groups shown), as a recipe keeps them."""
        panels = {k: a.isChecked() for k, a in self.w.layout_.actions.items() if k in R.PANEL_KEYS}
        controls = {"dock": not self.w.controls_dock.isHidden(),
                    **{k: not b.isHidden() for k, b in self._groups().items()}}
        return panels, controls

    def current(self) -> R.Recipe:
        """A recipe of the run shown: from its recording (the settings it started with and every change at
        its iteration) when there is one, else the current settings."""
        panels, controls = self.view_state()
        kw = dict(panels=panels, controls=controls, preset=self.w.runs.preset_name,
                  title=self.active.title if self.active else "", notes=self.active.notes if self.active else "")
        folder = self.w.runs.record_dir
        if folder is not None and (Path(folder) / "run.json").is_file():
            return R.from_run_folder(folder, trusted=True, **kw)  # the studio's own recording
        return R.Recipe.from_run(self.w.current_config(), [], **kw)

    # ------------------------------------------------------------------------------------- actions
    def save_recipe(self, path: str | None = None) -> Path | None:
        w = self.w
        if path is None:
            start = str(Path(w.settings.get("paths/recipes", str(Path.home()))) / f"{w.stem()}.recipe.json")
            path, _ = QtWidgets.QFileDialog.getSaveFileName(w, "Save recipe", start, "Recipes (*.json)")
            if not path:
                return None
            w.settings.set("paths/recipes", str(Path(path).parent))
        try:
            rec = self.current()
            p = rec.save(path)
        except ConfigError as exc:
            w.fail(f"Cannot save the recipe: {exc}")
            return None
        w.status.showMessage(f"saved the recipe {p.name} ({len(rec.changes)} change(s))", 8000)
        return p

    def open_recipe(self, path: str | None = None) -> bool:
        w = self.w
        if path is None:
            start = w.settings.get("paths/recipes", str(Path.home()))
            path, _ = QtWidgets.QFileDialog.getOpenFileName(w, "Open recipe", start, "Recipes (*.json);;All files (*)")
            if not path:
                return False
            w.settings.set("paths/recipes", str(Path(path).parent))
        try:
            rec = R.load(path)
        except ConfigError as exc:
            w.fail(f"Cannot open the recipe: {exc}")
            return False
        return self.start(rec)

    def copy_recipe(self) -> str | None:
        w = self.w
        try:
            line = self.current().to_line()
        except ConfigError as exc:
            w.fail(f"Cannot copy the recipe: {exc}")
            return None
        QtWidgets.QApplication.clipboard().setText(line)
        w.status.showMessage(f"copied the recipe as one line ({len(line):,} characters); Edit → Paste recipe "
                             "starts it", 8000)
        return line

    def paste_recipe(self, text: str | None = None) -> bool:
        w = self.w
        text = QtWidgets.QApplication.clipboard().text() if text is None else text
        try:
            rec = R.from_text(text or "")
        except ConfigError as exc:
            w.fail(f"Cannot paste the recipe: {exc}")
            return False
        return self.start(rec)

    # ------------------------------------------------------------------------------------- starting one
    def start(self, rec: R.Recipe, autoplay: bool = True, ask: bool = True) -> bool:
        """Start the run ``rec`` describes, its changes scheduled at their iterations; show its view, title
        and notes. False (and a message) when it cannot start."""
        w, runs = self.w, self.w.runs
        if ask and not w.ask("Start the recipe?", f"{rec.title or 'The recipe'}: the current run's networks will "
                                                  "be discarded."):
            return False
        try:
            points = rec.write_points(studio_runs_dir().parent / "recipe-points")
            cfg = rec.train_config(points)
        except ConfigError as exc:
            w.fail(f"Cannot start the recipe: {exc}")
            return False
        if rec.preset in runs.presets:
            runs.preset_name = rec.preset
        elif runs.preset_name not in runs.presets:
            runs.preset_name = next(iter(runs.presets))
        runs.overrides = cfg.to_dict()
        w.select_preset_widget(runs.preset_name)
        label = rec.title or rec.preset or "recipe"
        runs.start_run(cfg, autoplay=False, label=label)
        h = self._handle = w.controller.handle
        self._recipe = rec  # Reset starts it again, with its schedule
        if rec.changes and h is not None:
            h.call(InstallSchedule(rec.changes), "recipe")  # before any step: the commands keep their order
        if autoplay and h is not None:
            h.play()
        self.apply_view(rec)
        self.notes.show_recipe(rec.title, rec.notes)
        if rec.title:
            w.preset_summary.setText(f"recipe “{rec.title}” · {w.preset_summary.text()}")
        w.status.showMessage(f"started the recipe{' “' + rec.title + '”' if rec.title else ''} "
                             f"({len(rec.changes)} scheduled change(s))", 8000)
        return True

    def apply_view(self, rec: R.Recipe) -> None:
        acts = self.w.layout_.actions
        for k, on in rec.panels.items():
            if k in acts:
                acts[k].setChecked(on)
        groups = self._groups()
        for k, on in rec.controls.items():
            if k == "dock":
                self.w.controls_dock.setVisible(on)
            elif k in groups:
                groups[k].setVisible(on)

    def _run_changed(self) -> None:
        if self._recipe is not None and self.active is None:  # another run replaced the recipe's
            self._forget()

    def _forget(self) -> None:
        """Another preset or run was chosen: the recipe's notes no longer apply."""
        self._recipe = self._handle = None
        self.notes.hide()
        for b in self._groups().values():
            b.setVisible(True)
