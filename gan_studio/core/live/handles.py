"""A trainer running in a background thread, steered through a command queue and observed through snapshots.

This is the studio's worker, kept free of Qt so it runs (and is tested) headless:

* Commands (play, pause, step, setting changes, view requests, save) go into one queue and are handled
  by the training thread, one at a time and in the order made, between iterations. A setting change is
  passed to :meth:`Trainer.submit`, so it applies at the very next iteration.
* The training thread publishes a small immutable :class:`Snapshot` (numbers and numpy arrays only) at
  display rate, never per step. Views for the panels that are visible run on their own clock (at most
  ``views_hz``, within ``views_budget``; see :data:`VIEWS_MODES`: ``smooth`` or ``fast``) and go out the
  moment they are computed. Per-iteration statistics are buffered and drained by the observer in bulk.
* The thread never calls back into the GUI: the GUI polls :meth:`latest`, :meth:`drain_stats` and
  :meth:`drain_events` from its own timer.
"""
from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from typing import Any, Callable

import numpy as np

from ..columns import row as stats_row
from ..protocol import STAT_COLUMNS, Capability, Event, EventKind, Snapshot  # noqa: F401 (re-exported)
from ..train.config import ConfigError, TrainConfig  # noqa: F401 (re-exported)
from . import processes
from .commands import (DEFAULT_VIEWS_MODE, HELPER_DELAY, VIEWS_MODES, Commands, check_live_changes,  # noqa: F401
                       check_speed, check_step_kind, run_ids, views_mode)
from .commands import describe_error as _describe
from .dispatch import CommandHandlers
from .recording_sync import RecordingSync

class ThreadRun(Commands, CommandHandlers, RecordingSync):
    """A trainer in a background thread of this process (headless tests, GAN_STUDIO_THREAD_WORKER=1)."""

    def __init__(self, config: TrainConfig, *, start_paused: bool = False, views: str | None = None,
                 publish_hz: float | None = None, views_hz: float | None = None, views_budget: float | None = None,
                 nn_hz: float = 1.0, metrics_hz: float = 2.0, metrics_budget: float = 0.03, checkpoint: dict | None = None,
                 trainer_factory: Callable[[TrainConfig], Any] | None = None, run_id: int | None = None,
                 inbox=None, sink: Callable | None = None, record_dir: str | None = None,
                 record_every: int = 50, record_log_every: int = 10, checkpoint_path: str | None = None,
                 doctor: bool = True, branch: dict | None = None, views_process: bool | None = None,
                 views_conn=None) -> None:
        self.run_id = next(run_ids) if run_id is None else run_id
        self.config = config
        self._factory = trainer_factory
        self._checkpoint = checkpoint
        self._checkpoint_path = checkpoint_path  # resume from this file (its configuration wins)
        self._branch = branch  # {"run": folder, "iteration": step, "changes": {...}}: continue a recording (branch.py)
        # a run folder (configuration, metrics, periodic snapshots) written as the run trains; see runfolder.py
        self._record_dir = record_dir
        self._record_every = int(record_every)
        self._record_log_every = int(record_log_every)
        self._recorder = None
        self._control = None  # the recording's control file (gan-studio control RUN_DIR), once recording
        self._doctor_on = bool(doctor)  # the GAN doctor watches the run: findings become `finding` events
        self.doctor = None
        self._limit: int | None = None  # compare mode: train only up to this iteration (lockstep)
        # commands come from a queue.Queue (thread mode) or a multiprocessing queue (ProcessRun's child)
        self._cmds = inbox if inbox is not None else queue.Queue()
        # in a child process, every publication is also handed to `sink` (which sends it to the parent)
        self._sink = sink
        self._running = not start_paused
        self._stop = threading.Event()
        # explicit rates win over the mode's
        self._views_overrides = {k: float(v) for k, v in (("publish_hz", publish_hz), ("views_hz", views_hz),
                                                            ("views_budget", views_budget)) if v is not None}
        self._set_views_mode(views_mode(views))
        self._views_cost = 0.0  # CPU seconds per frame of views (a moving average)
        self._views_due = 0.0
        self._nn_dt = 1.0 / nn_hz
        self._metrics_dt = 1.0 / metrics_hz
        self._metrics_budget = float(metrics_budget)
        self._metrics_due = 0.0
        self._metrics_it = -1
        self._metrics_cost = 0.0
        self._speed: float | None = None
        self._request = None  # views.ViewRequest
        self._latest: Snapshot | None = None
        self._stats: list[tuple] = []
        self._stats_lock = threading.Lock()
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name=f"gan-studio-train-{self.run_id}", daemon=True)
        from .narrate import Narration

        self._narr = Narration(self)  # narrate mode (off until the `narrate` command)
        self.trainer = None  # owned by the training thread; read it only while it is stopped
        self.state = "loading"
        self._message = ""
        self._static = None
        self._live_views = None  # views.LiveViews, once the data are known
        # views computed in a helper process while training (views_process.py): None = GAN_STUDIO_VIEWS_PROCESS
        self._views_process = views_process
        self._views_conn = views_conn  # a pipe to a helper the window's process started (ProcessRun), else None
        self._helper = None
        self._helper_at: float | None = None  # when to start it: once the run has trained for a moment
        self._views_sent_at = 0.0
        self._helper_warned = False
        self._frame = 0
        self._dirty = True
        self._cfg_src = self._cfg_dict = None
        # what the display path did (benchmarks read it): snapshots published, frames of views and their
        # CPU time, metrics evaluations and theirs, CPU time spent publishing
        self.perf = {"publishes": 0, "views": 0, "views_cpu_s": 0.0, "metrics": 0, "metrics_cpu_s": 0.0,
                     "publish_cpu_s": 0.0, "publish_wall_s": 0.0, "records": 0, "record_cpu_s": 0.0,
                     "helper_views": 0, "helper_cpu_s": 0.0,
                     "requests": 0, "request_cpu_s": 0.0, "step_cpu_s": 0.0}

    def _set_views_mode(self, mode: str) -> None:
        rates = dict(VIEWS_MODES[mode], **self._views_overrides)
        for key in ("views_hz", "views_budget"):  # benchmarks (the frontier between the modes)
            env = os.environ.get(f"GAN_STUDIO_{key.upper()}")
            if env and key not in self._views_overrides:
                try:
                    rates[key] = max(1e-3, float(env))
                except ValueError:
                    pass
        self.views_mode = mode
        self._publish_dt = 1.0 / rates["publish_hz"]
        self._views_dt = 1.0 / rates["views_hz"]
        self._views_budget = rates["views_budget"]  # at most this share of the thread's CPU time

    # ----------------------------------------------------------------------------- control (any thread)
    def start(self) -> "ThreadRun":
        self._thread.start()
        return self

    def _put(self, *cmd) -> None:
        self._cmds.put(cmd)

    def stop(self, timeout: float | None = 2.0) -> bool:
        """Ask the thread to finish after the current iteration; wait up to ``timeout``. True when stopped."""
        self._stop.set()
        self._cmds.put(("stop",))
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    # ----------------------------------------------------------------------------- observing (any thread)
    def latest(self) -> Snapshot | None:
        return self._latest

    def drain_stats(self) -> np.ndarray:
        """Statistics of every iteration since the last call, as an n×6 array (see STAT_COLUMNS)."""
        with self._stats_lock:
            buf, self._stats = self._stats, []
        return np.array(buf, dtype=np.float64).reshape(-1, len(STAT_COLUMNS))

    def drain_events(self) -> list[Event]:
        with self._events_lock:
            ev, self._events = self._events, []
        return ev

    # ----------------------------------------------------------------------------- the training thread
    def _event(self, kind: str, message: str, data: Any = None) -> None:
        with self._events_lock:
            self._events.append(Event(kind, message, data))
        self._dirty = True

    def _set_state(self, state: str, message: str = "") -> None:
        if state != self.state or message != self._message:
            self.state, self._message = state, message
            self._event("state", state, message)
            self._dirty = True

    def _build(self):
        if self._factory is not None:
            return self._factory(self.config)
        from ..train.trainer import Trainer

        if self._branch is not None:
            from ..record.branch import branch_trainer

            b = self._branch
            tr = branch_trainer(b["run"], b["iteration"], b.get("changes"), device=self.config.device)
            self.config = tr.config
            return tr
        if self._checkpoint_path is not None:
            from ..train.checkpoint import trainer_from_checkpoint

            tr = trainer_from_checkpoint(self._checkpoint_path, device=self.config.device)
            self.config = tr.config
            return tr
        tr = Trainer(self.config)
        if self._checkpoint is not None:
            tr.load_state_dict(self._checkpoint)
        return tr

    def _main(self) -> None:
        try:
            tr = self._build()
            from ..views import views

            self._static = views.static_info(tr)
            self._live_views = views.LiveViews(self._static)
            if self._static.kind == "points":
                import scipy.ndimage  # noqa: F401  (the live metrics' density estimate; ~0.2 s to import)
        except Exception as exc:  # bad data, missing files, out of memory: shown in the window
            self._set_state("error", _describe(exc))
            self._event("error", _describe(exc))
            self._publish(force=True)
            return
        self.trainer = tr
        if self._record_dir:
            self._start_recording(tr)
        if self._doctor_on:
            self._start_doctor(tr)
        self._start_helper(tr)
        self._set_state("running" if self._running else "paused")
        if tr.diverged:
            self._running = False
            self._set_state("diverged", tr.diverged)
        self._event("ready", f"{tr.dataset.name} on {tr.device}", {"device": str(tr.device)})
        self._views_due = 0.0
        self._nn_due = 0.0
        self._metrics_due = 0.0
        self._metrics_it = -1
        self._dirty = True
        self._last_publish = 0.0
        self._rate_t, self._rate_it, self._rate = time.perf_counter(), tr.iteration, 0.0
        self._cpu_t, self._cpu_share = time.thread_time(), 1.0
        self._next_step = 0.0
        w0, c0, i0 = time.perf_counter(), time.thread_time(), tr.iteration
        try:
            self._loop(tr)
        except Exception as exc:  # never die silently: the window shows what happened
            self._running = False
            why, detail = _describe(exc), traceback.format_exc()
            if tr.config.plugin is not None:  # the user's own code: its file and line, its frames only
                from ..train.plugins import describe_failure

                why, detail = describe_failure(exc, tr.config.plugin) or (why, detail)
            self._set_state("error", why)
            self._event("error", why, detail)
        finally:
            self.perf.update(loop_wall_s=time.perf_counter() - w0, loop_cpu_s=time.thread_time() - c0,
                             loop_iterations=tr.iteration - i0)
            self._settle_helper()
            if self._helper is not None:
                self._helper.close()
            if self._recorder is not None:
                try:
                    self._recorder.snapshot(tr, state=True)  # the last iteration (close() leaves it to us)
                except Exception:  # noqa: BLE001 - a full disk or a failing plug-in must not hide why the run ended
                    pass
                try:
                    self._recorder.close(tr)  # ends its writer thread even when its last write fails
                except Exception:  # noqa: BLE001
                    pass
            if self.state not in ("error",):
                self._set_state("stopped")
            self._publish(force=True)


    def _start_helper(self, tr) -> None:
        """Decide whether views go to a helper process; it is asked to start after a second of training (short
        runs, tests, never pay for one)."""
        from .views_process import views_process_enabled

        on = self._views_process
        if (on is False or self._factory is not None or tr.device.type != "cpu"
                or not views_process_enabled(bool(on))):
            if self._views_conn is not None:
                self._views_conn.close()  # the helper the window started ends
            return
        # a helper the window started has loaded torch meanwhile: it starts with training
        self._helper_at = time.perf_counter() + (HELPER_DELAY if self._views_conn is None else 0.0)
        if self._views_conn is None:
            processes.warm_up()

    def _begin_helper(self, tr) -> None:
        from .views_process import ViewsHelper, start_helper

        self._helper_at = None
        try:
            self._helper = ViewsHelper(self._views_conn) if self._views_conn is not None else ViewsHelper(*start_helper())
            self._helper.begin(tr, self._static)
        except Exception as exc:  # noqa: BLE001 - views are computed here instead
            self._helper = None
            self._event("warning", f"the panels are computed by the training process itself (a little slower): {_describe(exc)}")

    def _start_doctor(self, tr) -> None:
        from .doctoring import attach_doctor  # findings as events (and run-folder lines); see doctoring.py

        try:
            self.doctor = attach_doctor(tr, self._event, self._recorder)
        except Exception as exc:  # noqa: BLE001 - training goes on without the doctor
            self._event("warning", f"the doctor is not watching this run: {_describe(exc)}")

    def _loop(self, tr) -> None:
        from ..train.trainer import Diverged

        while not self._stop.is_set():
            now = time.perf_counter()
            if self._running and self.state == "running":
                wait = max(0.0, self._next_step - now) if self._speed else 0.0
            else:
                wait = 0.05
            if self._limit is not None and tr.iteration >= self._limit:
                wait = 0.02
            if self._narr.on:  # narrating: an iteration starts when a sub-step is asked for
                wait = 0.0 if self._narr.credits else 0.05
            self._handle_commands(tr, wait)
            if self._control is not None:
                self._obey_control_file(tr)
            if self._stop.is_set():
                break
            now = time.perf_counter()
            limited = self._limit is not None and tr.iteration >= self._limit
            if self._narr.on:
                go = not limited and not tr.diverged and self._narr.start_iteration()
            else:
                go = self._running and self.state == "running" and not limited and (not self._speed or
                                                                                      now >= self._next_step)
            if go:
                try:
                    c0 = time.thread_time()
                    s = tr.step()
                    self.perf["step_cpu_s"] += time.thread_time() - c0  # the training alone (benchmarks)
                    self._record(s)
                    if self._recorder is not None:
                        self._maybe_record(tr)
                except Diverged as exc:
                    self._running = False
                    if self._helper is not None:
                        self._helper.cancel()  # views of weights that are being restored
                    self._set_state("diverged", str(exc))
                    self._event("diverged", str(exc))
                if self._speed:
                    self._next_step = max(now, self._next_step) + 1.0 / self._speed
            self._maybe_publish(tr)


    def _record(self, s) -> None:
        with self._stats_lock:
            self._stats.append(stats_row(s))
        self._dirty = True

    def _maybe_publish(self, tr) -> None:
        """After each iteration: publish a snapshot when one is due, with new views when those are due.

        While training, views keep their own clock (``views_hz``, slowed down to stay within
        ``views_budget``) and are published the moment they are computed — on this thread, or in the
        views helper process when there is one (views_process.py: then this thread only sends the weights,
        and publishes the views when they come back); snapshots without new views (statistics, state) go
        out at ``publish_hz`` only when no views are about to. Otherwise (paused, stepping), views follow
        what changed, at most at ``publish_hz``, computed here."""
        now = time.perf_counter()
        running = self.state == "running"
        wanted = self._request is not None and bool(self._request.names)
        if (self._helper_at is not None and running and now >= self._helper_at
                and (self._views_conn is not None or processes.ready())):  # (starting one here: once the fork
            self._begin_helper(tr)                                         # server's imports are done)
        helper = self._helper
        arrived = self._from_helper(running and not self._narr.on) if helper is not None else None
        offload = running and wanted and helper is not None and helper.usable and not self._narr.on
        if offload:
            if now >= self._views_due and helper.idle:
                self._send_views(tr, now)
            views_due = arrived is not None
        elif running:
            views_due = wanted and now >= self._views_due
        else:
            views_due = wanted and self._dirty and now - self._last_publish >= self._publish_dt
        if not views_due:
            if now - self._last_publish < self._publish_dt:
                return
            if not self._dirty and not running and now - self._last_publish < 0.5:
                return
            if wanted and running and (self._views_due - now < 0.5 * self._publish_dt
                                       or offload and not helper.idle and now - self._views_sent_at < self._publish_dt):
                return  # views are about to go out: they carry the statistics too
        dt = now - self._rate_t
        if dt >= 0.5:
            self._rate = (tr.iteration - self._rate_it) / dt
            self._rate_t, self._rate_it = now, tr.iteration
            cpu = time.thread_time()
            # the share of a core this thread got: the views budget is a share of what training gets
            self._cpu_share = min(1.0, max(0.05, (cpu - self._cpu_t) / dt))
            self._cpu_t = cpu
        if not running and dt >= 0.5:
            self._rate = 0.0
        views = v_it = None
        if arrived is not None:
            views, v_it = arrived
        elif views_due:
            self._metrics_cost = 0.0
            c0 = time.thread_time()
            views = self._compute_views(tr, now)
            cost = time.thread_time() - c0 - self._metrics_cost
            self.perf["views"] += 1
            self.perf["views_cpu_s"] += cost
            self._views_cost = cost if self._views_cost == 0 else 0.8 * self._views_cost + 0.2 * cost
            # while training, views may use at most `views_budget` of the thread's CPU time; paused, no limit.
            # The clock keeps its phase (due += interval), so the rate is views_hz, not views_hz less a step.
            interval = max(self._views_dt, self._views_cost / (self._views_budget * self._cpu_share))
            self._views_due = max(self._views_due + interval, now + 0.5 * interval)
            if self._recorder is not None and running:
                self._maybe_record(tr, views)
        c0, w0 = time.thread_time(), time.perf_counter()
        self._publish(views=views, views_iteration=v_it)
        self.perf["publishes"] += 1
        self.perf["publish_cpu_s"] += time.thread_time() - c0
        self.perf["publish_wall_s"] += time.perf_counter() - w0  # more than its CPU: waited for the window
        self._last_publish = now
        self._dirty = False


    def _compute_views(self, tr, now: float) -> dict:
        from ..views import views as V
        from .views_process import frame_views

        req, st = self._request, self._static
        self._frame += 1
        names = req.names
        try:
            nn = "nn" in names and st.kind == "images" and now >= self._nn_due
            out = frame_views(self._live_views, tr, req, self._frame, names, nn)
            if nn:
                self._nn_due = now + self._nn_dt
            if "metrics" in names and st.kind == "points" and (now >= self._metrics_due or self._metrics_it < 0):
                t0 = time.thread_time()
                m = V.metrics(tr, st, req, self._frame)
                cost = time.thread_time() - t0
                self._metrics_cost += cost  # kept out of the per-frame views cost: it has its own cadence
                self.perf["metrics"] += 1
                self.perf["metrics_cpu_s"] += cost
                self._metrics_due = now + max(self._metrics_dt, min(cost, 0.2) / self._metrics_budget)
                self._metrics_done(m, out)
            self._keep_previous(out)
        except Exception as exc:  # a view must never stop training
            self._event("error", f"could not draw a panel: {_describe(exc)}")
            self._request = None
            out = {}
        return out

    def _publish(self, views: dict | None = None, force: bool = False, views_iteration: int | None = None) -> None:
        tr = self.trainer
        prev = self._latest
        if views is None:
            views = prev.views if prev is not None and prev.run_id == self.run_id else {}
            v_it = prev.views_iteration if prev is not None else -1
        else:
            v_it = views_iteration if views_iteration is not None else tr.iteration if tr is not None else -1
        src = tr.config if tr is not None else self.config
        if src is not self._cfg_src:  # a new configuration object only when a setting changed
            self._cfg_src, self._cfg_dict = src, src.to_dict()
        cfg = self._cfg_dict
        loss_info = (tr.loss.name, bool(tr.loss.sigmoid), float(tr.loss.d_equilibrium),
                     float(tr.loss.g_equilibrium)) if tr is not None else ()
        self._latest = snap = Snapshot(
            run_id=self.run_id, iteration=tr.iteration if tr is not None else 0, state=self.state,
            message=self._message, it_per_s=self._rate if tr is not None else 0.0,
            device=str(tr.device) if tr is not None else "", config=cfg, static=self._static, views=views,
            views_iteration=v_it, lr_d=float(tr.lr_d) if tr is not None else 0.0,
            lr_g=float(tr.lr_g) if tr is not None else 0.0, time=time.perf_counter(), loss_info=loss_info)
        if self._sink is not None:
            try:
                self._sink(snap, self.drain_stats(), self.drain_events())
            except (BrokenPipeError, EOFError, OSError):  # the window is gone: stop training
                self._stop.set()

