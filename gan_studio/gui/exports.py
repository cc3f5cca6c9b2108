"""Exports from the studio: pictures of panels, GIFs made in a worker thread (with progress and cancel),
metrics as CSV, and a recorded run folder copied elsewhere. Every file appears atomically or not at all."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.atomic import CheckpointError, atomic_path
from ..core.errors import GanStudioError
from .workers import Aborted, Worker


class ExportFailed(GanStudioError):
    pass


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportFailed(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ExportFailed(f"cannot write {path}: folder {folder} is not writable")


@contextmanager
def _atomic(path: Path, suffix: str):
    """core.atomic's temp-file-then-rename, with its refusals turned into ExportFailed."""
    try:
        with atomic_path(path, suffix=suffix) as tmp:
            yield tmp
    except CheckpointError as exc:
        raise ExportFailed(str(exc)) from None


def save_widget_png(widget: QtWidgets.QWidget, path: str | os.PathLike, scale: float = 2.0) -> Path:
    """The widget as it looks, at ``scale``× resolution (sharp on slides)."""
    path = Path(path)
    size = widget.size()
    img = QtGui.QImage(int(size.width() * scale), int(size.height() * scale), QtGui.QImage.Format.Format_ARGB32)
    img.setDevicePixelRatio(scale)
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    try:
        widget.render(painter, QtCore.QPoint(0, 0))
    finally:
        painter.end()
    with _atomic(path, ".png") as tmp:
        if not img.save(str(tmp), "PNG"):
            raise ExportFailed(f"could not write {path} (is the disk full?)")
    return path


def save_widget_svg(widget: QtWidgets.QWidget, path: str | os.PathLike, title: str = "") -> Path:
    """The widget as an SVG (vector lines and text, for editing in a slide tool)."""
    from PySide6 import QtSvg

    path = Path(path)
    with _atomic(path, ".svg") as tmp:
        gen = QtSvg.QSvgGenerator()
        gen.setFileName(str(tmp))
        gen.setSize(widget.size())
        gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), widget.size()))
        gen.setTitle(title or widget.objectName())
        gen.setDescription("exported from GAN Studio")
        painter = QtGui.QPainter()
        if not painter.begin(gen):
            raise ExportFailed(f"could not write {path}")
        try:
            widget.render(painter, QtCore.QPoint(0, 0))
        finally:
            painter.end()
        if tmp.stat().st_size == 0:
            raise ExportFailed(f"could not write {path} (is the disk full?)")
    return path


def copy_run_folder(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Copy a recorded run folder; the destination appears complete or not at all."""
    src, dest = Path(src), Path(dest)
    if dest.exists():
        raise ExportFailed(f"{dest} already exists; choose a new folder name")
    _check_folder(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        os.replace(tmp, dest)
    except OSError as exc:
        raise ExportFailed(f"could not copy the run to {dest}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


class ExportJob(Worker):
    """A long export (a GIF) as a :class:`~.workers.Worker`: progress, done(path), failed, cancelled."""

    progress = QtCore.Signal(int, int)
    done = QtCore.Signal(str)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()

    def __init__(self, fn, parent=None) -> None:
        """``fn(progress, is_cancelled)`` does the work and returns the written path."""
        super().__init__(self._job, fn, name="gan-studio-export", parent=parent)
        self.returned.connect(lambda path: self.done.emit(str(path)))
        self.errored.connect(self.failed)
        self.aborted.connect(self.cancelled)

    def _job(self, fn, worker):
        from ..core.export.slides import ExportCancelled

        try:
            return fn(lambda i, n: self.progress.emit(i, n), lambda: worker.abort_requested)
        except ExportCancelled:
            raise Aborted from None

    def cancel(self) -> None:
        self.quit()
