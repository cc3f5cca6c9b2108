"""The studio's Evaluate action: a snapshot of G evaluated in its own process while training goes on.

1. the training process saves a checkpoint to a temporary file (between two iterations, so the weights are
   a consistent snapshot);
2. a separate process (spawned, one torch thread) loads it, draws 10,000 samples and runs
   ``gan_studio.core.evaluate.scores.eval_job``: Parzen (the paper's protocol) plus the metrics that apply;
3. progress and the result come back through a queue that the window polls; Cancel sets an event the job
   checks between blocks (and the process is terminated if it does not stop within 2 s).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time

from PySide6 import QtCore


class EvalWorker(QtCore.QObject):
    progress = QtCore.Signal(int, int)
    finished = QtCore.Signal(dict)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    message = QtCore.Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._ctx = mp.get_context("spawn")
        self.proc = None
        self.queue = None
        self.cancel_event = None
        self.pending_path: str | None = None  # waiting for the training process to write it
        self._cancel_at = 0.0
        self._abandoned: set[str] = set()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._poll)

    @property
    def busy(self) -> bool:
        return self.pending_path is not None or (self.proc is not None and self.proc.is_alive())

    def request(self, run, options: dict | None = None) -> bool:
        """Ask `run` (a ThreadRun or ProcessRun) for a snapshot; the job starts when it is written."""
        if self.busy or run is None:
            return False
        fd, path = tempfile.mkstemp(prefix="gan-studio-eval-", suffix=".pt")
        os.close(fd)
        self.pending_path = path
        self.options = dict(options or {})
        run.save(path)
        self.timer.start()
        return True

    def on_saved(self, path: str) -> bool:
        """The training process wrote a checkpoint; True when it was ours (then the job starts)."""
        if os.path.abspath(path) in self._abandoned:
            self._abandoned.discard(os.path.abspath(path))
            _remove(path)
            return True
        if self.pending_path is None or os.path.abspath(path) != os.path.abspath(self.pending_path):
            return False
        self.pending_path = None
        from ..core.evaluate.scores import eval_job

        self.queue = self._ctx.Queue()
        self.cancel_event = self._ctx.Event()
        self.proc = self._ctx.Process(target=eval_job, args=(path, self.options, self.queue, self.cancel_event),
                                      daemon=True, name="gan-studio-eval")
        self.proc.start()
        return True

    def on_save_failed(self, reason: str) -> bool:
        """The training process could not write our snapshot; True when the failure was ours."""
        if self.pending_path is None or self.pending_path not in reason:
            return False
        _remove(self.pending_path)
        self.pending_path = None
        self.timer.stop()
        self.failed.emit(f"could not take a snapshot of the generator ({reason})")
        return True

    def cancel(self) -> None:
        if self.pending_path is not None:  # the snapshot is still being written: drop it when it arrives
            self._abandoned.add(os.path.abspath(self.pending_path))
            self.pending_path = None
            self.timer.stop()
            self.cancelled.emit()
            return
        if self.proc is not None and self.proc.is_alive():
            self.cancel_event.set()
            self._cancel_at = time.perf_counter()

    def _poll(self) -> None:
        q = self.queue
        if q is not None:
            while True:
                try:
                    msg = q.get_nowait()
                except Exception:  # noqa: BLE001 - queue.Empty, or a closed queue
                    break
                kind = msg[0]
                if kind == "progress":
                    self.progress.emit(int(msg[1]), int(msg[2]))
                elif kind == "log":
                    self.message.emit(str(msg[1]))
                elif kind == "done":
                    self._finish()
                    self.finished.emit(msg[1])
                    return
                elif kind == "error":
                    self._finish()
                    self.failed.emit(str(msg[1]))
                    return
                elif kind == "cancelled":
                    self._finish()
                    self.cancelled.emit()
                    return
        p = self.proc
        if p is not None and not p.is_alive():
            code = p.exitcode
            self._finish()
            self.failed.emit(f"the evaluation process stopped unexpectedly (exit code {code})")
        elif p is not None and self._cancel_at and time.perf_counter() - self._cancel_at > 2.0:
            p.terminate()
            self._finish()
            self.cancelled.emit()

    def _finish(self) -> None:
        if self.proc is not None:
            self.proc.join(timeout=1.0)
        self.proc = None
        self.queue = None
        self._cancel_at = 0.0
        if self.pending_path is None:
            self.timer.stop()

    def shutdown(self) -> None:
        """Closing the window: stop at once."""
        self.timer.stop()
        if self.proc is not None and self.proc.is_alive():
            self.cancel_event.set()
            self.proc.terminate()
            self.proc.join(timeout=1.0)
        self.proc = None
        if self.pending_path is not None:
            _remove(self.pending_path)
            self.pending_path = None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
