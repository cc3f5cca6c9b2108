"""The studio's file pickers (each remembers the folder it was last pointed at)."""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets


def ask_checkpoint(w) -> str | None:
    """A checkpoint file the user picks (the folder is remembered), or None."""
    start = w.settings.get("paths/checkpoints", str(Path.home()))
    path, _ = QtWidgets.QFileDialog.getOpenFileName(w, "Open checkpoint", start, "Checkpoints (*.pt);;All files (*)")
    if path:
        w.settings.set("paths/checkpoints", str(Path(path).parent))
    return path or None


def ask_run_folder(w) -> str | None:
    """A run folder the user picks (its parent is remembered), or None."""
    start = w.settings.get("paths/runs", str(Path.home()))
    path = QtWidgets.QFileDialog.getExistingDirectory(w, "Open a recorded run (a run folder)", start)
    if path:
        w.settings.set("paths/runs", str(Path(path).parent))
    return path or None
