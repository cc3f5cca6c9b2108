"""A writer thread: a recording's disk work (serialising training states, snapshot files, the index) done off
the training thread, in the order it was asked for.

The training thread captures what a file will hold (tensors copied, views computed) and hands the writing
over as a job; jobs run one at a time, first in first out, so a state is renamed into place before the index
line that lists its snapshot, and a thinning deletes only what was written before it. The queue is bounded
(:data:`MAX_PENDING` jobs): a disk slower than the run makes the training thread wait rather than keep an
unbounded pile of copies in memory. :meth:`Writer.drain` waits until everything asked for is on disk;
:meth:`Writer.close` drains and ends the thread. A job that fails does not stop the others: its error is kept
(:attr:`Writer.error`, one line, the first one) for the owner to report.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable

#: jobs waiting at most (each holds a copy of what it writes: a state, a snapshot's arrays)
MAX_PENDING = 8


class Writer:
    """One background thread running jobs (callables) in order. ``name``: the thread's name."""

    def __init__(self, name: str = "gan-studio-writer", max_pending: int = MAX_PENDING) -> None:
        self._jobs: queue.Queue = queue.Queue(maxsize=max(1, int(max_pending)))
        self.error: str | None = None  # the first failure, one line
        self.errors = 0
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the writer thread after the jobs before it (waits while :data:`MAX_PENDING` are
        queued). After :meth:`close`, or on the writer thread itself, it runs at once."""
        if self._closed or threading.current_thread() is self._thread:
            self._run(fn)
            return
        self._jobs.put(fn)

    def drain(self) -> None:
        """Wait until every job submitted so far has run."""
        if not self._closed and threading.current_thread() is not self._thread:
            self._jobs.join()

    def close(self) -> None:
        """Drain, then end the thread (later jobs run on the caller's thread)."""
        if self._closed:
            return
        self._jobs.put(None)
        self._jobs.join()
        self._closed = True
        self._thread.join(30)

    def _run(self, fn) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - kept for the owner to report; the next jobs still run
            self.errors += 1
            if self.error is None:
                self.error = " ".join(str(exc).split())[:300] or type(exc).__name__

    def _work(self) -> None:
        while True:
            fn = self._jobs.get()
            try:
                if fn is None:
                    return
                self._run(fn)
            finally:
                self._jobs.task_done()


__all__ = ["Writer", "MAX_PENDING"]
