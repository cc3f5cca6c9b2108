"""Time travel in the studio: "Continue from here…" (a branch of a recorded or paused run, optionally compared
with the original's recorded future) and "Back" (a live run returns to its last recorded state).

The training side is in the core: :mod:`gan_studio.core.record.branch` (branch_trainer, rewind_trainer) and the
run handles' ``branch=`` option and ``rewind`` command; this module is the dialog and the glue.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6 import QtWidgets

from ..core.record.runfolder import RunFolder, RunFolderError, new_recording
from ..core.record.states import available_states, why_no_state
from ..core.settings import setting
from ..core.train.config import ConfigError, TrainConfig, validate_values
from . import theme
from .compare import CHUNK, CompareWindow, describe
from .setting_widgets import canonical, check_box, combo, label, spin

#: the whole-number settings the dialog offers (those a running run can change), in its order; their labels
#: and ranges are the settings table's
INT_KEYS = tuple((key, label(key), setting(key).lo, setting(key).hi)
                 for key in ("k", "g_steps", "batch_size", "unroll", "pack"))


class ContinueDialog(QtWidgets.QDialog):
    """The live settings at the chosen step, pre-filled; what the user changes is the branch's changes."""

    def __init__(self, cfg: dict, where: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Continue from here")
        self.cfg = cfg
        lay = QtWidgets.QFormLayout(self)
        head = QtWidgets.QLabel(where)
        head.setWordWrap(True)
        head.setStyleSheet("font-weight: bold;")
        lay.addRow(head)
        self.ints: dict[str, QtWidgets.QSpinBox] = {}
        for key, text, lo, _hi in INT_KEYS:
            sb = spin(key)
            sb.setValue(int(cfg.get(key, lo)))
            sb.setObjectName(f"branch-{key}")
            self.ints[key] = sb
            lay.addRow(text, sb)
        self.lr = {}
        for key in ("lr_d", "lr_g"):
            e = QtWidgets.QLineEdit(f"{float(cfg.get(key, setting(key).default)):g}")
            e.setObjectName(f"branch-{key}")
            e.setToolTip(setting(key).tooltip)
            self.lr[key] = e
            lay.addRow(label(key), e)
        self.loss = combo("loss")
        self.loss.setCurrentIndex(max(0, self.loss.findData(canonical("loss", cfg.get("loss")))))
        lay.addRow(label("loss"), self.loss)
        self.optimizer = combo("optimizer")
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(cfg.get("optimizer"))))
        lay.addRow(label("optimizer"), self.optimizer)
        self.mbstd = check_box("mbstd")
        self.mbstd.setChecked(bool(cfg.get("mbstd")))
        lay.addRow("", self.mbstd)
        self.compare = QtWidgets.QCheckBox("compare with the original (its recorded future beside the branch)")
        self.compare.setObjectName("branch-compare")
        lay.addRow(self.compare)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet(f"color: {theme.ERROR};")
        self.error.setWordWrap(True)
        lay.addRow(self.error)
        bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok |
                                        QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        bb.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Continue")
        bb.accepted.connect(self._accept)
        bb.rejected.connect(self.reject)
        lay.addRow(bb)
        self._changes: dict = {}

    def values(self) -> dict:
        v = {k: sb.value() for k, sb in self.ints.items()}
        for k, e in self.lr.items():
            try:
                v[k] = float(e.text())
            except ValueError:
                raise ConfigError(f"{k}: expected a number, got {e.text()!r}") from None
        v.update(loss=self.loss.currentData(), optimizer=self.optimizer.currentData(), mbstd=self.mbstd.isChecked())
        return v

    def _accept(self) -> None:
        try:
            v = self.values()
            changes = {k: x for k, x in v.items() if x != canonical(k, self.cfg.get(k))}
            validate_values(changes)
            validate_values({**self.cfg, **changes})
        except ConfigError as exc:
            self.error.setText(str(exc))
            return
        self._changes = changes
        self.accept()

    def changes(self) -> dict:
        return dict(self._changes)


class BranchCompareWindow(CompareWindow):
    """The original's recorded future (replayed) beside the branch (trained live), in lockstep by iteration:
    the branch trains in chunks, the original's slider follows the branch's iteration."""

    def __init__(self, folder: Path, at: int, cfg: TrainConfig, changes: dict, run_class, autoplay: bool = True,
                 record_dir: Path | None = None) -> None:
        super().__init__(cfg, {}, dict(changes), autoplay=autoplay, run_class=run_class, identical_ok=True)
        self.folder, self.at, self.changes, self.record_dir = Path(folder), int(at), dict(changes), record_dir
        self.setWindowTitle(f"GAN Studio — branch at iteration {at:,}: {describe(changes)}  vs  the original")
        self.sides[0].header.setText(f"original (recorded): {self.folder.name}")
        self.sides[1].header.setText(f"branch from {at:,}: {describe(changes)}")
        self.replay = None

    def start(self) -> None:
        from ..core.record.replay import ReplayRun

        self.replay = ReplayRun(self.folder)
        self.replay.seek_iteration(self.at)
        self.sides[0].controller.set_handle(self.replay)
        self.target = self.at + (CHUNK if self.playing else 0)
        kw = {"threads": self.threads or 1} if self.run_class.__name__ == "ProcessRun" else {}
        if self.record_dir is not None:
            kw["record_dir"] = str(self.record_dir)
        run = self.run_class(self.cfgs[1], start_paused=False, **kw,
                             branch={"run": str(self.folder), "iteration": self.at, "changes": self.changes})
        run.set_limit(self.target)
        self.sides[1].controller.set_handle(run)
        self.sides[1].controller.tick.connect(lambda _snap: self.keep_in_step())

    def iterations(self) -> list[int]:
        b = self.sides[1].snap
        return [self.replay.iteration if self.replay is not None else self.at, b.iteration if b is not None else 0]

    def step(self) -> None:
        self.playing = False
        self.act_play.setText("▶ Play")
        if self.iterations()[1] >= self.target:
            self.target += 1
            self.sides[1].run.set_limit(self.target)

    def keep_in_step(self) -> None:
        b = self.sides[1].snap
        if b is None or self.replay is None:
            return
        if self.playing and b.state == "running" and b.iteration >= self.target:
            self.target += CHUNK
            self.sides[1].run.set_limit(self.target)
        if b.iteration >= self.at:
            self.replay.seek_iteration(b.iteration)  # the original's recorded step at or before the branch's
        end = self.replay.iterations[-1]
        self.sync_label.setText(f"lockstep by iteration: original at {self.replay.iteration:,} (recorded"
                                f"{', its recording ends there' if self.replay.iteration >= end else ''}), "
                                f"branch at {b.iteration:,}")


class Brancher:
    """The window's time-travel actions (``continue_from_here``, ``rewind``; see actions.py)."""

    def __init__(self, window) -> None:
        self.w = window
        self.last_window: BranchCompareWindow | None = None
        window.controller.eventArrived.connect(self._on_event)

    # ------------------------------------------------------------------------------ where "here" is
    def source(self) -> tuple[Path, int, dict]:
        """(run folder, step, the settings at that step) of what the window shows; ConfigError why not."""
        w, c = self.w, self.w.controller
        h = c.handle
        if c.is_replay:
            folder, at = Path(h.folder.path), int(h.iteration)
            cfg = h.config_at(at)
        elif c.can_train:
            if w.runs.record_dir is None:
                raise ConfigError("this run is not being recorded, so it cannot be continued from a step")
            folder = Path(w.runs.record_dir)
            if c.state == "running":
                h.pause()  # a paused run records its state (the training process does it between iterations)
                before = max(available_states(folder), default=-1)
                deadline = time.perf_counter() + 3.0
                while max(available_states(folder), default=-1) <= before and time.perf_counter() < deadline:
                    time.sleep(0.05)
                c.refresh()
            now = max(c.iteration, max(available_states(folder), default=0))
            have = [i for i in available_states(folder) if i <= now]
            if not have:
                raise ConfigError(why_no_state(folder, now))
            at = have[-1]
            cfg = dict(c.snapshot.config) if c.snapshot is not None else w.current_config().to_dict()
        else:
            raise ConfigError("nothing to continue: open a recorded run, or pause a live one")
        if at not in available_states(folder):
            raise ConfigError(why_no_state(folder, at))
        return folder, at, cfg

    def continue_from_here(self, changes: dict | None = None, compare: bool | None = None):
        """Ask for the branch's settings (or use ``changes``/``compare``), then start it. Returns the compare
        window when one opens."""
        w = self.w
        try:
            folder, at, cfg = self.source()
        except ConfigError as exc:
            w.banner.show_message(f"Cannot continue from here: {exc}", "warn")
            return None
        if changes is None:
            dlg = ContinueDialog(cfg, f"Continue {folder.name} from iteration {at:,} as a new run", w)
            if compare is not None:
                dlg.compare.setChecked(compare)
            if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
                return None
            changes, compare = dlg.changes(), dlg.compare.isChecked()
        return self.start_branch(folder, at, cfg, changes, bool(compare))

    def start_branch(self, folder: Path, at: int, cfg: dict, changes: dict, compare: bool):
        w = self.w
        try:
            base = TrainConfig.from_dict(cfg)
            branch_cfg = base.replace(**changes) if changes else base
        except (ConfigError, TypeError, ValueError) as exc:
            w.fail(f"Cannot continue from here: {exc}")
            return None
        record = None
        if w.runs.recording:
            try:
                record = new_recording(f"{folder.name[:24]}-b{at}")
            except OSError:
                record = None
        branch = {"run": str(folder), "iteration": at, "changes": changes}
        if compare:
            cw = BranchCompareWindow(folder, at, base, changes, w.runs.run_class, record_dir=record)
            w.compare_windows = [c for c in w.compare_windows if c.isVisible()] + [cw]
            cw.resize(w.size())
            cw.show()
            cw.start()
            self.last_window = cw
            return cw
        w.runs.start_run(branch_cfg, autoplay=True, branch=branch, record_dir=record)
        w.status.showMessage(f"continuing {folder.name} from iteration {at:,}"
                             f"{': ' + describe(changes) if changes else ''}", 8000)
        return None

    # ------------------------------------------------------------------------------ back
    def rewind(self, iteration: int | None = None) -> None:
        c = self.w.controller
        if not c.can_train:
            self.w.status.showMessage("Back needs a live run (a recording is scrubbed with its slider)", 5000)
            return
        c.handle.rewind(iteration)

    def rewind_to(self) -> None:
        """Back to a step chosen among the recorded states of the live run (newest first)."""
        w, c = self.w, self.w.controller
        if not c.can_train:
            w.status.showMessage("Back needs a live run (a recording is scrubbed with its slider)", 5000)
            return
        steps = [s for s in available_states(w.runs.record_dir) if s < c.iteration] if w.runs.record_dir else []
        if not steps:
            w.banner.show_message("This run has no recorded state before now to go back to.", "warn")
            return
        items = [f"iteration {s:,}" for s in reversed(steps)]
        item, ok = QtWidgets.QInputDialog.getItem(w, "Back to step", "Go back to the recorded state at:", items, 0,
                                                  False)
        if ok and item:
            c.handle.rewind(int(item.split()[-1].replace(",", "")))

    def _on_event(self, ev) -> None:
        if ev.kind != "rewound":
            return
        w = self.w
        it = int((ev.data or {}).get("iteration", 0))
        w.losses.set_static(w.controller.static)  # the curves again, up to the step gone back to
        if w.runs.record_dir is not None:
            try:
                w.losses.add_stats(RunFolder(w.runs.record_dir).stats_array(upto=it))
            except RunFolderError:
                pass
        w.banner.hide()
        w.status.showMessage(f"Back: {ev.message}", 8000)
