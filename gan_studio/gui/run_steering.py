"""Steering a followed run folder from the studio: Pause run / Resume run and a live change (``lr_d=1e-4``),
sent through the folder's control file (core/record/control.py) exactly as ``gan-studio control`` sends them,
with the run's answer (applied / refused and why) shown beside them.

It works for any live run folder the studio follows: a loop watched with ``gan_studio.watch``, a
``gan-studio train`` run, here or on a mounted folder. The window's process stays torch-free (control.py needs
none)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets


class SteerStrip(QtWidgets.QFrame):
    """Pause run, Resume run, a KEY=VALUE change and the last answer; hidden unless a live folder is set.

    The window's own controls (the Controls dock, Play/Pause) steer a followed folder through it too
    (:meth:`send_changes`, :meth:`toggle_run`); ``answered(event, text, changes)`` reports each answer ("refused", "set",
    "paused", ...) so they show what is in force."""

    answered = QtCore.Signal(str, str, dict)  # event, what the strip says, the changes the answer is about
    steerable = QtCore.Signal(bool)  # a live folder is (or is no longer) being steered

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.run_paused = False  # as the run last answered
        self._following = False
        self.pending: dict[str, tuple[str, float, dict]] = {}  # request id → (what was asked, when, changes)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 0, 0)
        self.pause_button = QtWidgets.QPushButton("❚❚ Pause run")
        self.pause_button.setToolTip("pause the training that writes this folder (it waits inside its loop)")
        self.pause_button.clicked.connect(lambda: self.send("pause"))
        self.resume_button = QtWidgets.QPushButton("▶ Resume run")
        self.resume_button.setToolTip("resume the paused training")
        self.resume_button.clicked.connect(lambda: self.send("resume"))
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText("lr_d=1e-4")
        self.edit.setToolTip("a live change for the run: KEY=VALUE (lr_d, lr_g, k, … or the loop's own settings)")
        self.edit.setMaximumWidth(140)
        self.edit.returnPressed.connect(self.send_change)
        self.set_button = QtWidgets.QPushButton("Set")
        self.set_button.clicked.connect(self.send_change)
        self.answer = QtWidgets.QLabel("")
        self.answer.setMinimumWidth(320)
        self.answer.setWordWrap(False)
        for w in (self.pause_button, self.resume_button, self.edit, self.set_button):
            lay.addWidget(w)
        lay.addWidget(self.answer, 1)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.check_answers)
        self.hide()

    def set_folder(self, folder: str | Path | None, shown: bool = True) -> None:
        """Steer ``folder`` (a run folder being followed), or nothing (None: hidden). ``shown``: whether it is
        followed now (see :meth:`set_following`)."""
        self.folder = Path(folder) if folder is not None else None
        self.run_paused = False
        self.pending.clear()
        self.answer.setText("")
        self.set_following(shown)

    def set_following(self, on: bool) -> None:
        """Shown while the folder is followed (a live run), hidden for a finished recording."""
        self._following = bool(on)
        self.setVisible(self.folder is not None and bool(on))
        self.steerable.emit(self.live)

    @property
    def live(self) -> bool:
        """Whether a followed folder is being steered (what the window's controls then send here)."""
        return self.folder is not None and self._following

    def toggle_run(self) -> bool:
        """Pause the run, or resume it when it last answered paused."""
        return self.send("resume" if self.run_paused else "pause")

    def send_changes(self, changes: dict) -> str | None:
        """Send live changes (checked here first by the studio's rules); why they were not sent, or None."""
        from ..core.record.control import check_live_changes
        from ..core.train.config import LIVE_KEYS

        why = check_live_changes({k: v for k, v in changes.items() if k in LIVE_KEYS}) if changes else None
        if why:
            self._say(why, bad=True)
            return why
        return None if self.send("set", changes) else self.answer.toolTip()

    def _say(self, text: str, bad: bool = False) -> None:
        self.answer.setStyleSheet("color: #b91c1c;" if bad else "color: #166534;")
        self.answer.setToolTip(text)  # in full; the bar shows the start of it
        self.answer.setText(text if len(text) <= 90 else text[:89] + "…")

    def send_change(self) -> None:
        from ..core.record.control import check_live_changes
        from ..core.train.config import LIVE_KEYS

        text = self.edit.text().strip()
        key, eq, raw = text.partition("=")
        key = key.strip()
        if not eq or not key:
            self._say("type a change as KEY=VALUE, e.g. lr_d=1e-4", bad=True)
            return
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw.strip()
        why = check_live_changes({key: value}) if key in LIVE_KEYS else None
        if why:
            self._say(why, bad=True)
            return
        if self.send("set", {key: value}):
            self.edit.clear()

    def send(self, action: str, changes: dict | None = None) -> bool:
        from ..core.record.control import append_request

        if self.folder is None:
            return False
        try:
            rid = append_request(self.folder, action, changes)
        except (OSError, ValueError) as exc:
            self._say(f"cannot write to the run folder: {getattr(exc, 'strerror', None) or exc}", bad=True)
            return False
        what = action if changes is None else ", ".join(f"{k} = {v}" for k, v in changes.items())
        self.pending[rid] = (what, time.monotonic(), dict(changes or {}))
        self._say(f"{what}: sent, waiting for the run…")
        self.timer.start()
        return True

    def check_answers(self) -> None:
        from ..core.record.control import find_answer

        if self.folder is None or not self.pending:
            self.timer.stop()
            return
        for rid, (what, sent, asked) in list(self.pending.items()):
            ans = find_answer(self.folder, rid)
            if ans is None:
                if time.monotonic() - sent > 10:
                    self._say(f"{what}: no answer yet — is the run still running? (it is applied when the run "
                              f"reads it)", bad=True)
                continue
            del self.pending[rid]
            it = ans.get("iteration")
            if ans["event"] == "refused":
                self._say(f"{what}: refused at iteration {it:,} — {ans.get('message', '')}", bad=True)
            else:
                done = {"paused": "paused", "resumed": "resumed"}.get(ans["event"], "applied")
                self._say(f"{what}: {done} at iteration {it:,}")
                if ans["event"] in ("paused", "resumed"):
                    self.run_paused = ans["event"] == "paused"
            self.answered.emit(ans["event"], self.answer.toolTip(), asked)
