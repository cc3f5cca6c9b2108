"""Actions as data: one table from which the menus, the toolbar, the keyboard shortcuts, the
presentation-mode keys and the shortcuts dialog are all built, so none of them can drift.

Each :class:`ActionSpec` names the window method it calls (``callback`` plus ``args``), where it
appears (``menus``: menu id and group; groups are separated by a line; ``toolbar`` likewise), and when
it is enabled (``enabled``: ``"always"``; ``"ready"`` once a run or recording is loaded; ``"live"``
for a live run only — a recording cannot be stepped D-only, saved or evaluated).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    callback: str  # a method of the window, or of one of its parts ("runs.step", "exporter.export_gif")
    shortcut: str | None = None
    tip: str = ""
    args: tuple = ()
    menus: tuple = ()  # ((menu id, group), ...)
    toolbar: int | None = None  # group on the training toolbar
    checkable: bool = False
    enabled: str = "always"  # "always" | "ready" | "live"
    presentation: bool = False  # one of the keys a presenter uses (listed in presentation mode)


MENUS = (("file", "&File"), ("edit", "&Edit"), ("run", "&Run"), ("view", "&View"), ("help", "&Help"))
EXPORT_MENU = ("export", "&Export")  # a submenu of File and the toolbar's ⤓ Export button

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("play", "▶ Play", "runs.toggle_play", "Space", "start or pause training", menus=(("run", 0),),
               toolbar=0, enabled="ready", presentation=True),
    ActionSpec("step_d", "Step D", "runs.step", "D", "one discriminator step", ("d",), (("run", 0),), 0, enabled="live"),
    ActionSpec("step_g", "Step G", "runs.step", "G", "one generator step", ("g",), (("run", 0),), 0, enabled="live"),
    ActionSpec("step", "Step", "narrator.step", "Right",
               "one iteration: k D-steps, then the G-steps (narrating: the next sub-step)", ("full",),
               (("run", 0),), 0, enabled="ready", presentation=True),
    ActionSpec("narrate", "Narrate (slow motion)", "narrator.toggle", "N",
               "Algorithm 1 step by step: the trainer stops after each sub-step (→ runs the next; while playing, "
               "a timer does)", menus=(("run", 0),), checkable=True, enabled="live", presentation=True),
    ActionSpec("reset", "⟲ Reset", "runs.reset", "Ctrl+R", "start this configuration again from scratch",
               menus=(("run", 0),), toolbar=0, enabled="live", presentation=True),
    ActionSpec("continue_here", "Continue from here…", "brancher.continue_from_here", "Ctrl+B",
               "a new run from the step shown (the replay slider's, or a paused run's), with settings you may change; "
               "optionally beside the original's recorded future", menus=(("run", 1),), enabled="ready"),
    ActionSpec("rewind", "Back", "brancher.rewind", "Ctrl+Z",
               "take the live run back to its last recorded state and continue from there with the current settings",
               menus=(("run", 0),), enabled="live"),
    ActionSpec("rewind_to", "Back to step…", "brancher.rewind_to", None,
               "take the live run back to a recorded state you choose and continue from there",
               menus=(("run", 0),), enabled="live"),
    ActionSpec("evaluate", "Evaluate (Parzen)", "evaluate", "Ctrl+E",
               "Parzen-window log-likelihood and the metrics that apply, on a snapshot of G, while training goes on",
               menus=(("run", 1),), enabled="live"),
    ActionSpec("compare", "Compare two runs…", "open_compare", "Ctrl+K",
               "two runs side by side, same data and seed, stepped in lockstep", menus=(("run", 1),), toolbar=2),
    ActionSpec("next_preset", "Next preset", "runs.cycle", "PgDown",
               "start the next preset (a presenter's clicker sends Page Down)", (1,), (("run", 2),), presentation=True),
    ActionSpec("prev_preset", "Previous preset", "runs.cycle", "PgUp", "start the previous preset", (-1,),
               (("run", 2),), presentation=True),
    ActionSpec("draw", "Draw a distribution…", "drawing.toggle", None,
               "draw your own 2-D data on the toy field (brush, eraser, ring, line, blob) and train on it",
               menus=(("run", 3),), checkable=True),
    ActionSpec("open_checkpoint", "Open checkpoint…", "open_checkpoint", "Ctrl+O",
               "resume a saved run exactly where it stopped", menus=(("file", 0),)),
    ActionSpec("save", "Save checkpoint…", "runs.save_checkpoint", "Ctrl+S", "save G, D, optimisers and history to a file",
               menus=(("file", 0),), enabled="live"),
    ActionSpec("open_run", "Open recorded run…", "open_run_folder", "Ctrl+Shift+O",
               "replay a run folder with a step slider (no training needed)", menus=(("file", 1),)),
    ActionSpec("save_run", "Save recorded run as…", "exporter.save_run_folder", None,
               "keep this run's recording (the studio keeps only the last 8)", menus=(("file", 1),)),
    ActionSpec("open_recipe", "Open recipe…", "recipes.open_recipe", None,
               "start the run a recipe file describes: settings, data, and its changes at their iterations",
               menus=(("file", 2),)),
    ActionSpec("save_recipe", "Save recipe…", "recipes.save_recipe", None,
               "this run as a recipe: settings, seed, data, the changes made so far, panels shown, title and notes",
               menus=(("file", 2),), enabled="ready"),
    ActionSpec("copy_recipe", "Copy recipe", "recipes.copy_recipe", None,
               "this run's recipe as one line on the clipboard (for chat and slides)", menus=(("edit", 0),),
               enabled="ready"),
    ActionSpec("paste_recipe", "Paste recipe", "recipes.paste_recipe", None,
               "start the run of a recipe line (or a recipe's JSON) from the clipboard", menus=(("edit", 0),)),
    ActionSpec("gif_field", "GIF of the toy field…", "exporter.export_gif", "Ctrl+G",
               "the recorded run as a looping GIF: points over D's heatmap", ("field",), (("export", 0),)),
    ActionSpec("gif_samples", "GIF of the samples…", "exporter.export_gif", None,
               "the recorded run as a looping GIF of the samples", ("samples",), (("export", 0),)),
    ActionSpec("gif_latent", "GIF of a latent-walk loop…", "exporter.export_gif", None,
               "G now, along a closed loop in z: a seamless looping GIF", ("latent",), (("export", 0),),
               enabled="live"),
    ActionSpec("figure1", "Figure 1 (four moments of a 1-D run)…", "exporter.export_figure1", None,
               "the paper's Figure 1 from the recording: p_data, p_g, D and x = G(z) at four moments (1-D runs)",
               menus=(("export", 1),)),
    ActionSpec("figure2", "Figure 2 (samples + nearest training image)…", "exporter.export_figure", None,
               "the paper's Figure 2 from G now (image runs): samples, and the nearest training example",
               ("figure2",), (("export", 1),), enabled="live"),
    ActionSpec("figure3", "Figure 3 (latent interpolations)…", "exporter.export_figure", None,
               "the paper's Figure 3 from G now (image runs): rows of linear interpolations in z",
               ("figure3",), (("export", 1),), enabled="live"),
    ActionSpec("csv", "Metrics as CSV…", "exporter.export_metrics_csv", None,
               "the recorded losses and D outputs, one row per logged iteration", menus=(("export", 2),)),
    ActionSpec("export_generator", "Export generator…", "exporter.export_generator", None,
               "G alone (safetensors + JSON), for use outside GAN Studio", menus=(("export", 2),), enabled="live"),
    ActionSpec("quit", "Quit", "close", "Ctrl+Q", "quit", menus=(("file", 3),)),
    ActionSpec("full_screen", "Full screen", "presenter.toggle_full_screen", "F11", "full screen", menus=(("view", 1),),
               checkable=True),
    ActionSpec("present", "Presentation mode", "presenter.toggle", "F5",
               "full screen, large type, thick lines (Esc leaves)", menus=(("view", 1),), checkable=True,
               presentation=True),
    ActionSpec("leave", "Leave presentation / full screen", "presenter.leave", "Esc", "", presentation=True),
    ActionSpec("doctor", "Doctor", "doctor.toggle", None,
               "the GAN doctor: what is going wrong in the run, its evidence on the panels, remedies to apply",
               menus=(("view", 2),), checkable=True),
    ActionSpec("algorithm", "Algorithm 1", "narrator.toggle_panel", "A",
               "the paper's pseudo-code, the line being run highlighted, and the data flow", menus=(("view", 2),),
               checkable=True, presentation=True),
    ActionSpec("smooth", "Smooth animation", "runs.set_smooth", None,
               "draw the panels at 24+ frames a second (views cost some training speed); off: train fastest",
               menus=(("view", 2),), checkable=True),
    ActionSpec("shortcuts", "Keyboard shortcuts", "show_shortcuts", "F1", "every key of the studio",
               menus=(("help", 0),)),
    ActionSpec("about", "About GAN Studio", "show_about", None, "", menus=(("help", 0),)),
)


def key_text(spec: ActionSpec) -> str:
    return QtGui.QKeySequence(spec.shortcut).toString(QtGui.QKeySequence.SequenceFormat.NativeText) \
        if spec.shortcut else ""


def build_actions(window) -> dict[str, QtGui.QAction]:
    """One QAction per spec, added to the window (so its shortcut works wherever focus is)."""
    out = {}
    for s in ACTIONS:
        a = QtGui.QAction(s.text, window)
        a.setObjectName(f"action-{s.id}")
        if s.shortcut:
            a.setShortcut(QtGui.QKeySequence(s.shortcut))
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(f"{s.tip} ({key_text(s)})" if s.shortcut and s.tip else (s.tip or s.text))
        a.setCheckable(s.checkable)
        fn = window
        for part in s.callback.split("."):  # "runs.step": a method of one of the window's parts
            fn = getattr(fn, part)
        a.triggered.connect(lambda _checked=False, fn=fn, args=s.args: fn(*args))
        window.addAction(a)
        out[s.id] = a
    return out


def fill_menu(menu: QtWidgets.QMenu, menu_id: str, actions: dict) -> None:
    groups: dict[int, list] = {}
    for s in ACTIONS:
        for mid, group in s.menus:
            if mid == menu_id:
                groups.setdefault(group, []).append(actions[s.id])
    for i, g in enumerate(sorted(groups)):
        if i:
            menu.addSeparator()
        for a in groups[g]:
            menu.addAction(a)


def toolbar_groups(actions: dict) -> dict[int, list]:
    groups: dict[int, list] = {}
    for s in ACTIONS:
        if s.toolbar is not None:
            groups.setdefault(s.toolbar, []).append(actions[s.id])
    return groups


def update_enabled(actions: dict, ready: bool, live: bool) -> None:
    for s in ACTIONS:
        actions[s.id].setEnabled({"always": True, "ready": ready, "live": live}[s.enabled])


def shortcut_rows(presentation_only: bool = False) -> list[tuple[str, str, str]]:
    """(key, action, what it does) for every action with a key — the shortcuts dialog's rows."""
    return [(key_text(s), s.text.lstrip("▶⟲ "), s.tip) for s in ACTIONS
            if s.shortcut and (s.presentation or not presentation_only)]


class ShortcutsDialog(QtWidgets.QDialog):
    """Every keyboard shortcut, generated from the action table."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        lay = QtWidgets.QVBoxLayout(self)
        rows = shortcut_rows()
        self.table = QtWidgets.QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Key", "Action", "What it does"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        lay.addWidget(self.table)
        note = QtWidgets.QLabel("In presentation mode: " + ", ".join(f"{k} {a.lower()}" for k, a, _ in
                                                                     shortcut_rows(presentation_only=True)))
        note.setWordWrap(True)
        lay.addWidget(note)
        box = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        box.accepted.connect(self.accept)
        lay.addWidget(box)
        self.resize(760, 560)


def build_bars(w) -> None:
    """The window's toolbar (play and steps, the export menu, the table's toolbar actions, the preset box) and
    its menu bar, from the action table; the View menu starts with the panels' and the controls' toggles."""
    acts = w.acts
    tb = QtWidgets.QToolBar("Training")
    tb.setObjectName("training-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    f = tb.font()
    f.setPointSize(12)
    tb.setFont(f)
    w.export_menu = QtWidgets.QMenu(EXPORT_MENU[1], w)
    fill_menu(w.export_menu, EXPORT_MENU[0], acts)
    w.export_button = QtWidgets.QToolButton()
    w.export_button.setText("⤓ Export")
    w.export_button.setFont(f)
    w.export_button.setToolTip("GIFs, the paper's figures, metrics as CSV, the generator")
    w.export_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
    w.export_button.setMenu(w.export_menu)
    groups = toolbar_groups(acts)
    for a in groups.pop(0, []):  # play and the steps
        tb.addAction(a)
    tb.addSeparator()
    tb.addWidget(w.export_button)
    for _, group in sorted(groups.items()):
        for a in group:
            tb.addAction(a)
    tb.addSeparator()
    tb.addWidget(QtWidgets.QLabel(" preset "))
    w.preset_box = QtWidgets.QComboBox()
    w.preset_box.setFont(f)
    for name, p in w.runs.presets.items():
        w.preset_box.addItem(name, name)
        w.preset_box.setItemData(w.preset_box.count() - 1, p.summary, QtCore.Qt.ItemDataRole.ToolTipRole)
    w.preset_box.activated.connect(lambda _: w.choose_preset(w.preset_box.currentData()))
    tb.addWidget(w.preset_box)
    w.preset_summary = QtWidgets.QLabel()
    w.preset_summary.setStyleSheet("color: #444; padding-left: 8px;")
    w.preset_summary.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                      QtWidgets.QSizePolicy.Policy.Preferred)
    w.preset_summary.setMinimumWidth(200)
    tb.addWidget(w.preset_summary)
    w.addToolBar(tb)
    w.toolbar = tb
    mb = w.menuBar()
    for mid, title in MENUS:
        m = mb.addMenu(title)
        fill_menu(m, mid, acts)
        if mid == "file":
            quit_action = acts["quit"]
            m.insertMenu(quit_action, w.export_menu)
            m.insertSeparator(quit_action)
        if mid == "view":
            first = m.actions()[0] if m.actions() else None
            for a in w.layout_.actions.values():
                m.insertAction(first, a)
            m.insertAction(first, w.controls_dock.toggleViewAction())
            m.insertSeparator(first)
    w.panel_actions = w.layout_.actions
