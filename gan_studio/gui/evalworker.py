"""The studio's Evaluate action: a snapshot of G evaluated in its own process while training goes on.

1. the training process saves a checkpoint to a temporary file (between two iterations, so the weights are
   a consistent snapshot);
2. a separate process (core/live/processes.py; one torch thread) loads it, draws 10,000 samples and runs
   ``gan_studio.core.evaluate.scores.eval_job``: Parzen (the paper's protocol) plus the metrics that apply
   (for labelled images FID, KID and precision–recall by torch-fidelity on the classifier's features);
3. progress and the result come back through a queue, read by a :class:`~.workers.Worker` (the studio's one
   worker pattern) that turns them into signals; Cancel sets an event the job checks between blocks (and
   the process is terminated if it does not stop within 2 s).
"""
from __future__ import annotations

import queue as queue_mod
import os
import tempfile
import time

from PySide6 import QtCore

from ..core.errors import GanStudioError
from ..core.live import processes
from .workers import Aborted, Worker


class EvalWorker(QtCore.QObject):
    progress = QtCore.Signal(int, int)
    stage = QtCore.Signal(str)  # what the job is doing now ("classifier features: generated", "Parzen", ...)
    finished = QtCore.Signal(object)  # the result dict
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    message = QtCore.Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._ctx = processes.context()
        self.proc = None
        self.worker: Worker | None = None
        self.cancel_event = None
        self.pending_path: str | None = None  # waiting for the training process to write it
        self._abandoned: set[str] = set()

    @property
    def busy(self) -> bool:
        return self.pending_path is not None or (self.worker is not None and not self.worker.is_done)

    def request(self, run, options: dict | None = None) -> bool:
        """Ask `run` (a ThreadRun or ProcessRun) for a snapshot; the job starts when it is written."""
        if self.busy or run is None:
            return False
        fd, path = tempfile.mkstemp(prefix="gan-studio-eval-", suffix=".pt")
        os.close(fd)
        self.pending_path = path
        self.options = dict(options or {})
        rec = getattr(getattr(run, "config", None), "plugin", None)
        if rec is not None:  # the snapshot's plug-in may run in the evaluation process if the user named it
            from ..core.train.plugin_spec import is_allowed

            if is_allowed(rec):
                self.options["plugin_consent"] = dict(rec)
        run.save(path)
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

        q = self._ctx.Queue()
        self.cancel_event = self._ctx.Event()
        self.proc = processes.process(eval_job, (path, self.options, q, self.cancel_event), name="gan-studio-eval")
        self.proc.start()
        self.worker = Worker(_watch, self.proc, q, self.cancel_event, name="gan-studio-eval-watch", parent=self)
        self.worker.yielded.connect(self._on_message)
        self.worker.returned.connect(self.finished)
        self.worker.errored.connect(self.failed)
        self.worker.aborted.connect(self.cancelled)
        self.worker.start()
        return True

    def on_save_failed(self, reason: str) -> bool:
        """The training process could not write our snapshot; True when the failure was ours."""
        if self.pending_path is None or self.pending_path not in reason:
            return False
        _remove(self.pending_path)
        self.pending_path = None
        self.failed.emit(f"could not take a snapshot of the generator ({reason})")
        return True

    def cancel(self) -> None:
        if self.pending_path is not None:  # the snapshot is still being written: drop it when it arrives
            self._abandoned.add(os.path.abspath(self.pending_path))
            self.pending_path = None
            self.cancelled.emit()
            return
        if self.worker is not None and not self.worker.is_done:
            self.worker.quit()

    def _on_message(self, msg) -> None:
        if msg[0] == "progress":
            self.progress.emit(int(msg[1]), int(msg[2]))
        elif msg[0] == "stage":
            self.stage.emit(str(msg[1]))
        elif msg[0] == "log":
            self.message.emit(str(msg[1]))

    def shutdown(self) -> None:
        """Closing the window: stop at once."""
        if self.proc is not None and self.proc.is_alive():
            self.cancel_event.set()
            self.proc.terminate()
            self.proc.join(timeout=1.0)
        if self.worker is not None:
            self.worker.quit()
            self.worker.wait(2.0)
        self.proc = None
        if self.pending_path is not None:
            _remove(self.pending_path)
            self.pending_path = None


class EvaluationFailed(GanStudioError):
    pass


def _watch(proc, q, cancel_event, worker):
    """The worker's job: relay the evaluation process's messages until it ends (or is cancelled)."""
    cancel_at = None
    while True:
        if worker.abort_requested and cancel_at is None:
            cancel_event.set()  # the job checks it between blocks
            cancel_at = time.perf_counter()
        if cancel_at is not None and time.perf_counter() - cancel_at > 2.0:
            proc.terminate()
            proc.join(1.0)
            raise Aborted
        try:
            msg = q.get(timeout=0.1)
        except queue_mod.Empty:
            if not proc.is_alive() and q.empty():
                raise EvaluationFailed(f"the evaluation process stopped unexpectedly (exit code {proc.exitcode})")
            continue
        except (OSError, ValueError, EOFError):
            raise EvaluationFailed("lost the connection to the evaluation process") from None
        kind = msg[0]
        if kind in ("progress", "stage", "log"):
            yield msg
        elif kind == "done":
            proc.join(1.0)
            return msg[1]
        elif kind == "error":
            proc.join(1.0)
            raise EvaluationFailed(str(msg[1]))
        elif kind == "cancelled":
            proc.join(1.0)
            raise Aborted


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
