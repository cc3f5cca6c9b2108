"""One worker pattern for the studio's background jobs (exports, evaluations), modeled on superqt's
``thread_worker``: a function — or a generator function, whose every ``yield`` is a point where the job
reports and may be stopped — runs on a thread; the window hears about it through Qt signals, delivered
in the GUI thread:

* ``yielded(value)`` for each value the job yields (progress, log lines);
* ``returned(value)`` when it ends normally; ``errored(message)`` when it raised (one line for the
  user; never a crash); ``aborted()`` when it stopped because :meth:`quit` was called;
* ``finished()`` last, in every case.

A job that is not a generator can still report and be stopped: it receives the worker as the keyword
``worker`` when its signature asks for it, and calls ``worker.report(value)`` / checks
``worker.abort_requested``.
"""
from __future__ import annotations

import inspect
import threading
from typing import Any, Callable

from PySide6 import QtCore


class Aborted(Exception):
    """Raise inside a job to stop it as if :meth:`Worker.quit` had been called."""


class Worker(QtCore.QObject):
    started = QtCore.Signal()
    yielded = QtCore.Signal(object)
    returned = QtCore.Signal(object)
    errored = QtCore.Signal(str)
    aborted = QtCore.Signal()
    finished = QtCore.Signal()

    def __init__(self, fn: Callable, *args, name: str = "gan-studio-worker", parent=None, **kwargs) -> None:
        super().__init__(parent)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.is_done = False  # set last, once every signal this job will send has been sent

    # -- control (GUI thread) ------------------------------------------------------------------------
    def start(self) -> "Worker":
        self._thread.start()
        return self

    def quit(self) -> None:
        """Ask the job to stop at its next yield (or next check of ``abort_requested``)."""
        self._abort.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- inside the job (worker thread) ------------------------------------------------------------
    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    def report(self, value: Any) -> None:
        self.yielded.emit(value)

    def _run(self) -> None:
        from ..core.errors import GanStudioError

        self.started.emit()
        try:
            kwargs = dict(self._kwargs)
            try:
                if "worker" in inspect.signature(self._fn).parameters:
                    kwargs["worker"] = self
            except (TypeError, ValueError):
                pass
            result = self._fn(*self._args, **kwargs)
            if inspect.isgenerator(result):
                gen, result = result, None
                while True:
                    if self._abort.is_set():
                        gen.close()
                        raise Aborted
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    self.yielded.emit(value)
            if self._abort.is_set():
                raise Aborted
        except Aborted:
            self.aborted.emit()
        except (GanStudioError, OSError, ValueError) as exc:
            self.errored.emit(str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            self.errored.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.returned.emit(result)
        finally:
            self.finished.emit()
            self.is_done = True
