"""A run handle with training in a child process: :class:`ProcessRun`, the studio's default worker.

The child runs a :class:`~gan_studio.core.live.handles.ThreadRun`'s loop in its main thread; commands go to
it through a multiprocessing queue, and its snapshots, statistics and events come back through a pipe. On
the CPU, the window's process also starts the child's views helper (views_process.py): a daemonic
training process may not start processes of its own.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from ..protocol import STAT_COLUMNS, Event, Snapshot
from ..train.config import TrainConfig
from . import processes
from .commands import Commands as _Commands, run_ids as _run_ids, views_mode
from .handles import ThreadRun


def _child_main(cfg_dict: dict, kwargs: dict, inbox, conn) -> None:
    """Entry point of ProcessRun's child: the training loop runs in this process's main thread."""
    import dataclasses
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the parent's to handle
    threads = kwargs.pop("threads", None)
    consent = kwargs.pop("plugin_consent", None)
    if consent:  # the window's user named this plug-in: its code runs here, in the training process
        from ..train.plugin_spec import allow, ref_of

        allow(ref_of(consent))
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    sent_static = [False]
    sent_views = [None]

    def sink(snap: Snapshot, stats: np.ndarray, events: list) -> None:
        if snap.static is not None and sent_static[0]:
            snap = dataclasses.replace(snap, static=None)  # sent once; the parent keeps it
        elif snap.static is not None:
            sent_static[0] = True
        if snap.views is sent_views[0] and snap.views:
            snap = dataclasses.replace(snap, views=None)  # the views the parent has: not sent again
        else:
            sent_views[0] = snap.views
        conn.send((snap, stats, events))

    run = None
    try:
        run = ThreadRun(TrainConfig.from_dict(cfg_dict), inbox=inbox, sink=sink, **kwargs)
        run._main()
    finally:
        perf_path = os.environ.get("GAN_STUDIO_PERF")  # benchmarks: what the display path cost
        if perf_path and run is not None:
            _write_perf(perf_path, run)
        try:
            conn.close()
        except OSError:
            pass


def _write_perf(path: str, run: ThreadRun) -> None:
    import json

    tr = run.trainer
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(dict(run.perf, run_id=run.run_id, views_mode=run.views_mode,
                                    iterations=tr.iteration if tr is not None else 0,
                                    cpu_s=time.process_time())) + "\n")
    except OSError:
        pass


class ProcessRun(_Commands):
    """The same interface as :class:`ThreadRun`, with training in a child process.

    Why a process: the studio's GUI thread spends its time in Python (pyqtgraph painting); in one process
    it would hold the interpreter lock that the training loop also needs for every small tensor operation,
    and training would slow down with every redraw. In a child process the two never wait for each other,
    and the window's process never imports torch (it starts faster). Commands go through a
    multiprocessing queue; snapshots, statistics and events come back through a pipe, read by a small
    thread that keeps only the latest snapshot.
    """

    def __init__(self, config: TrainConfig, *, start_paused: bool = False, **kwargs) -> None:
        self.run_id = next(_run_ids)
        self.config = config
        self.views_mode = views_mode(kwargs.pop("views", None))
        kwargs["views"] = self.views_mode
        ctx = processes.context()  # never a fork of this process (it may have Qt or CUDA initialised)
        self._cmds = ctx.Queue()
        self._recv, send = processes.pipe(ctx)
        kwargs = dict(kwargs, start_paused=start_paused, run_id=self.run_id)
        kwargs.setdefault("views_process", True)  # the window's process leaves a core mostly idle
        if config.plugin is not None:  # the user's code: run in the training process (and its views helper),
            from ..train.plugin_spec import require_consent  # never in the window's, with their consent

            require_consent(config.plugin)
            kwargs.update(plugin_consent=dict(config.plugin))
        self._helper_proc = self._helper_child = None
        self._views_conn = None
        if kwargs["views_process"] and str(config.device) in ("auto", "cpu"):
            from .views_process import start_helper, views_process_enabled

            if views_process_enabled(True):  # started here: a training process (daemonic) cannot start one
                self._views_conn, self._helper_child, self._helper_proc = start_helper(later=True)
                kwargs["views_conn"] = self._views_conn
        self._proc = processes.process(_child_main, (config.to_dict(), kwargs, self._cmds, send),
                                       name=f"gan-studio-train-{self.run_id}")
        self._send = send
        self._latest: Snapshot | None = None
        self._static = None
        self._stats: list[np.ndarray] = []
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._launched = threading.Event()  # the processes are started (or could not be)
        self._reader = threading.Thread(target=self._launch_and_read, name=f"gan-studio-reader-{self.run_id}",
                                        daemon=True)
        self.state = "loading"
        self.trainer = None  # lives in the child process

    def start(self) -> "ProcessRun":
        """Returns at once: the processes are started by the reader thread (the first one a fork server starts
        waits for its imports, ~3 s; the window's thread never does)."""
        self._reader.start()
        return self

    def _launch_and_read(self) -> None:
        try:
            if self._helper_proc is not None:
                try:
                    self._helper_proc.start()
                except Exception as exc:  # noqa: BLE001 - the training process computes the views itself
                    self._helper_proc = None
                    with self._lock:
                        self._events.append(Event("warning", f"the views process could not start: {exc}"))
                finally:
                    self._helper_child.close()  # the helper holds its end now
            self._proc.start()
        except Exception as exc:  # noqa: BLE001 - said as the run's error
            with self._lock:
                self._events.append(Event("error", f"the training process could not start: {exc}"))
                self.state = "error"
            return
        finally:
            self._send.close()  # the child holds the sending end now
            if self._views_conn is not None:
                self._views_conn.close()  # and the views helper's
            self._launched.set()
        self._read()

    def _read(self) -> None:
        while True:
            try:
                snap, stats, events = self._recv.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # a message that cannot be read: report it, keep going
                with self._lock:
                    self._events.append(Event("error", f"lost a message from the training process: {exc}"))
                continue
            if snap.static is not None:
                self._static = snap.static
            elif self._static is not None:
                import dataclasses

                snap = dataclasses.replace(snap, static=self._static)
            if snap.views is None:  # unchanged since the last snapshot (see _child_main)
                import dataclasses

                prev = self._latest
                snap = dataclasses.replace(snap, views=prev.views if prev is not None else {})
            with self._lock:
                if len(stats):
                    self._stats.append(stats)
                self._events.extend(events)
                self._latest = snap
                self.state = snap.state
        if self.state not in ("error", "stopped"):
            code = self._proc.exitcode if not self._proc.is_alive() else None
            with self._lock:
                if code not in (0, None) and self.state != "stopped":
                    msg = (f"the training process ended unexpectedly (exit code {code}"
                           f"{', killed: out of memory?' if code in (-9, 137) else ''})")
                    self._events.append(Event("error", msg))
                    self.state = "error"

    # commands: validated here (no torch needed), applied by the child at its next iteration
    def _put(self, *cmd) -> None:
        try:
            self._cmds.put(cmd)
        except (ValueError, OSError):  # queue closed after stop
            pass

    def stop(self, timeout: float | None = 2.0) -> bool:
        self._put("stop")  # (a process still being started reads it first and ends)
        if not self._reader.is_alive() and not self._launched.is_set():
            return True  # never started
        if timeout is None or timeout > 0:
            self._launched.wait(timeout)
            if self._proc.pid is None:
                return True
            self._proc.join(timeout)
            if self._proc.is_alive():  # stuck (e.g. still importing torch): do not keep the window waiting
                self._proc.terminate()
                self._proc.join(1.0)
            if self._helper_proc is not None:  # it ends with the training process's end of its pipe
                from .views_process import stop_helper

                stop_helper(self._helper_proc, 0.5)
        return not self._proc.is_alive()

    def is_alive(self) -> bool:
        return self._proc.is_alive() or self._reader.is_alive()

    def latest(self) -> Snapshot | None:
        return self._latest

    def drain_stats(self) -> np.ndarray:
        with self._lock:
            parts, self._stats = self._stats, []
        if not parts:
            return np.zeros((0, len(STAT_COLUMNS)))
        return np.concatenate(parts)

    def drain_events(self) -> list[Event]:
        with self._lock:
            ev, self._events = self._events, []
        return ev
