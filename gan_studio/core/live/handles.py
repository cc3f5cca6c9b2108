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

import itertools
import os
import queue
import threading
import time
import traceback
from typing import Any, Callable

import numpy as np

from ..columns import RunEvent, row as stats_row
from ..protocol import STAT_COLUMNS, Capability, Event, EventKind, Snapshot  # noqa: F401 (re-exported)
from ..settings import check_live_change
from ..train.config import ConfigError, TrainConfig
from ..views.viewspec import D_HIST

_run_ids = itertools.count(1)

#: How the panels are fed while training (``views=`` on a run handle, or ``GAN_STUDIO_VIEWS``):
#:
#: * ``smooth``: the display first: new views for every display tick (30 a second) while they take at
#:   most 20% of the training thread's CPU time;
#: * ``fast``: training first: 15 snapshots a second at most, views within 4% of its CPU time.
#:
#: ``publish_hz``: snapshots a second (statistics, state); ``views_hz``: of those, how many carry new
#: views at most; ``views_budget``: the share of the CPU time the training thread gets that views may use
#: (on a busy machine, or one core shared with the window, the thread gets less than a core; the views
#: rate drops below ``views_hz`` where they cost more: slow or busy machines, big models).
VIEWS_MODES = {
    "smooth": {"publish_hz": 30.0, "views_hz": 30.0, "views_budget": 0.20},
    "fast": {"publish_hz": 15.0, "views_hz": 15.0, "views_budget": 0.04},
}
DEFAULT_VIEWS_MODE = "smooth"
#: Seconds a run trains (with views computed on its own thread) before it starts a views helper process of its
#: own (a ThreadRun asked for one; short runs never pay for it). A helper the window started begins at once.
HELPER_DELAY = 1.0


def views_mode(mode: str | None = None) -> str:
    """The views mode to use: ``mode`` if given, else ``GAN_STUDIO_VIEWS`` if it names one, else the default."""
    if mode is not None:
        if mode not in VIEWS_MODES:
            raise ConfigError(f"views mode must be one of {', '.join(VIEWS_MODES)}, not {mode!r}")
        return mode
    env = os.environ.get("GAN_STUDIO_VIEWS", "").strip().lower()
    return env if env in VIEWS_MODES else DEFAULT_VIEWS_MODE


def check_step_kind(kind: str) -> None:
    if kind not in ("full", "d", "g"):
        raise ValueError(f"step kind must be full, d or g, not {kind!r}")


def check_live_changes(changes: dict, in_force: dict | None = None) -> None:
    """The one validator of live setting changes (the settings table's), used by every run handle before a change is queued."""
    check_live_change(changes, in_force)


def check_speed(it_per_s: float | None) -> None:
    if it_per_s is not None and not (it_per_s > 0):
        raise ConfigError(f"the speed limit must be a positive number of iterations per second, got {it_per_s}")


class _Commands:
    """The commands of a live run: validated here, queued with ``_put``, applied by the training loop
    between iterations in the order given. Shared by :class:`ThreadRun` and :class:`ProcessRun`."""

    capabilities = Capability.TRAIN

    def _put(self, *cmd) -> None:  # pragma: no cover - each handle says where commands go
        raise NotImplementedError

    def play(self) -> None:
        self._put("play")

    def pause(self) -> None:
        self._put("pause")

    def step(self, kind: str = "full") -> None:
        """One iteration now: ``full`` (k D-steps then the G-steps), ``d`` (one D-step) or ``g`` (one G-step)."""
        check_step_kind(kind)
        self._put("step", kind)

    def set(self, **changes: Any) -> None:
        """Change live settings; validated now (raises :class:`ConfigError`), applied at the next iteration."""
        check_live_changes(changes, getattr(self.latest(), "config", None))  # with the settings in force
        self._put("set", dict(changes))

    def set_speed(self, it_per_s: float | None) -> None:
        """Limit training to ``it_per_s`` iterations per second (None: as fast as possible)."""
        check_speed(it_per_s)
        self._put("speed", it_per_s)

    def set_views(self, request) -> None:
        self._put("views", request)

    def set_views_mode(self, mode: str) -> None:
        """``smooth`` (views for every display tick) or ``fast`` (fewer views, more training); see VIEWS_MODES."""
        mode = views_mode(mode)
        self.views_mode = mode
        self._put("views_mode", mode)

    def save(self, path: str) -> None:
        self._put("save", str(path))

    def set_limit(self, iteration: int | None) -> None:
        """Train only until this iteration, then wait (None: no limit). Compare mode keeps two runs in step."""
        self._put("limit", None if iteration is None else int(iteration))

    def call(self, fn: Callable[[Any], Any], label: str = "call") -> None:
        """Run ``fn(trainer)`` in the training loop between iterations; its result comes back as an event
        of kind ``label`` (an EventKind). For a :class:`ProcessRun`, ``fn`` must be picklable (a module-level function)."""
        self._put("call", fn, EventKind(label).value)

    def close(self, timeout: float | None = 2.0) -> bool:
        return self.stop(timeout)

    def rewind(self, iteration: int | None = None) -> None:
        """Go back to a recorded training state — ``iteration``, or the last one before now — and continue from
        there with the settings in force; what was recorded after it is dropped (a ``rewound`` event follows)."""
        self._put("rewind", None if iteration is None else int(iteration))

    # narrate mode (Algorithm 1 in slow motion; see narrate.py)
    def narrate(self, on: bool = True) -> None:
        """On: the trainer stops after each sub-step of Algorithm 1 (a ``substep`` event) until :meth:`substep`."""
        self._put("narrate", bool(on))

    def substep(self) -> None:
        """Narrating: run the next sub-step (after an iteration's last one: start the next iteration)."""
        self._put("substep")


class ThreadRun(_Commands):
    """A trainer in a background thread of this process (headless tests, GAN_STUDIO_THREAD_WORKER=1)."""

    def __init__(self, config: TrainConfig, *, start_paused: bool = False, views: str | None = None,
                 publish_hz: float | None = None, views_hz: float | None = None, views_budget: float | None = None,
                 nn_hz: float = 1.0, metrics_hz: float = 2.0, metrics_budget: float = 0.03, checkpoint: dict | None = None,
                 trainer_factory: Callable[[TrainConfig], Any] | None = None, run_id: int | None = None,
                 inbox=None, sink: Callable | None = None, record_dir: str | None = None,
                 record_every: int = 50, record_log_every: int = 10, checkpoint_path: str | None = None,
                 doctor: bool = True, branch: dict | None = None, views_process: bool | None = None,
                 views_conn=None) -> None:
        self.run_id = next(_run_ids) if run_id is None else run_id
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
                     "publish_cpu_s": 0.0, "records": 0, "record_cpu_s": 0.0, "helper_views": 0, "helper_cpu_s": 0.0,
                     "requests": 0, "request_cpu_s": 0.0}

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
                    self._recorder.close(tr)
                except Exception:  # noqa: BLE001 - a full disk must not hide why the run ended
                    pass
            if self.state not in ("error",):
                self._set_state("stopped")
            self._publish(force=True)

    def _start_recording(self, tr) -> None:
        from ..record.runfolder import RunWriter

        try:
            self._recorder = tr.add_observer(RunWriter(self._record_dir, tr, every=self._record_every,
                                                       log_every=self._record_log_every, background=True))
            # its snapshots are taken here (_maybe_record), from the panels' views when they have what it
            # records, instead of computing them again on its own every `every` iterations
            self._recorder.record_snapshots = False
            self._event("recording", str(self._record_dir))
            from ..record.control import ControlReader

            self._control = ControlReader(self._record_dir, interval=0.25)
        except Exception as exc:  # noqa: BLE001 - training goes on without a recording
            self._event("error", f"this run is not being recorded: {_describe(exc)}")

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
                    self._record(tr.step())
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

    def _handle_commands(self, tr, wait: float) -> None:
        for cmd in self._narr.take_deferred():  # what arrived while a narrated iteration waited
            self._handle(tr, cmd)
        try:
            cmd = self._cmds.get(timeout=wait) if wait > 0 else self._cmds.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(tr, cmd)
            try:
                cmd = self._cmds.get_nowait()
            except queue.Empty:
                return

    def _obey_control_file(self, tr) -> None:
        """``gan-studio control`` on this run's recording: pause, resume and live changes, checked by the same
        rules as a watched loop's and ``gan-studio train``'s (control.obey), made as the window's own controls
        make them, and answered in the recording's metrics.jsonl. The window sees the state and settings change
        in what the run publishes."""
        from ..record.control import obey

        for req in self._control.poll():
            def submit(changes):
                tr.submit(**changes)
                if not self._running:
                    tr.apply_changes()
                self._dirty = True
                self._event("warning", "gan-studio control changed "
                            + ", ".join(f"{k} to {v}" for k, v in changes.items()))

            obey(req, lambda event, **data: self._recorder.note(tr, event, **data), submit=submit,
                 pause=lambda: self._handle(tr, ("pause",)), resume=lambda: self._handle(tr, ("play",)),
                 is_paused=lambda: not self._running)

    def _handle(self, tr, cmd: tuple) -> None:
        from ..train.trainer import Diverged

        kind = cmd[0]
        if kind == "play":
            if tr.diverged:
                tr.clear_divergence()  # continue from the restored weights (the user may have lowered the lr)
            self._running = True
            self._next_step = 0.0
            self._set_state("running")
        elif kind == "pause":
            self._settle_helper()
            self._running = False
            if self.state == "running":
                self._set_state("paused")
            if self._recorder is not None and tr.iteration > 0:
                self._recorder.snapshot(tr, state=True)  # with a training state: a paused run can be continued from here
                self._recorder.flush()  # (on disk before the window offers to continue from it)
        elif kind == "rewind":
            self._rewind(tr, cmd[1])
        elif kind == "step":
            if tr.diverged:
                tr.clear_divergence()
                self._set_state("paused")
            self._running = False
            if self.state == "running":
                self._set_state("paused")
            self._settle_helper()
            d, g = {"full": (None, None), "d": (1, 0), "g": (0, 1)}[cmd[1]]
            try:
                self._record(tr.step(d, g))
                if self._recorder is not None:
                    self._maybe_record(tr)
            except Diverged as exc:
                self._set_state("diverged", str(exc))
                self._event("diverged", str(exc))
            self._dirty = True
        elif kind == "set":
            try:
                tr.submit(**cmd[1])
                if self._recorder is not None:  # (a refused change is not recorded as made)
                    self._recorder.note(tr, RunEvent.SET, changes=cmd[1])
            except ConfigError as exc:
                self._event("error", str(exc))
            if not self._running:
                tr.apply_changes()  # paused: apply now, so what the window shows is what the next step uses
                self._dirty = True
        elif kind == "speed":
            self._speed = cmd[1]
            self._next_step = 0.0
        elif kind == "views_mode":
            self._set_views_mode(cmd[1])
            self._views_due = 0.0
        elif kind == "views":
            self._request = cmd[1]
            self._views_due = 0.0
            self._nn_due = 0.0
            self._metrics_due = 0.0
            self._dirty = True
        elif kind == "save":
            from ..train.checkpoint import save_checkpoint

            try:
                save_checkpoint(tr, cmd[1])
                self._event("saved", cmd[1])
            except Exception as exc:
                self._event("error", f"could not save the checkpoint to {cmd[1]}: {_describe(exc)}")
        elif kind == "stop":
            self._stop.set()
        elif kind == "limit":
            self._limit = cmd[1]
        elif kind in ("narrate", "substep"):
            self._narr.command(tr, cmd)
        elif kind == "call":
            try:
                self._event(cmd[2], "done", cmd[1](tr))
            except Exception as exc:
                self._event("error", f"{cmd[2]} failed: {_describe(exc)}")

    def _rewind(self, tr, iteration: int | None) -> None:
        from ..record.branch import rewind_target, rewind_trainer

        rec = self._recorder
        if rec is None:
            self._event("error", "this run is not being recorded: there is no earlier state to go back to")
            return
        came = tr.iteration
        try:
            target = rewind_target(rec.path, came, iteration)
            rewind_trainer(tr, rec.path, target)
        except ConfigError as exc:  # no state there, a damaged file: the run goes on unchanged
            self._event("error", f"cannot go back: {exc}")
            return
        rec.truncate(tr, target)
        if self._helper is not None:
            self._helper.cancel()  # views of the abandoned future
        with self._stats_lock:
            self._stats = [s for s in self._stats if s[0] <= target]
        if self.state == "diverged":
            self._set_state("running" if self._running else "paused")
        self._metrics_it = -1
        self._dirty = True
        self._event("rewound", f"back to iteration {target:,} (from {came:,})", {"iteration": target, "from": came})

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
        if self._helper_at is not None and running and now >= self._helper_at:
            self._begin_helper(tr)
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
        c0 = time.thread_time()
        self._publish(views=views, views_iteration=v_it)
        self.perf["publishes"] += 1
        self.perf["publish_cpu_s"] += time.thread_time() - c0
        self._last_publish = now
        self._dirty = False

    def _last_recorded(self) -> int:
        """The recording's newest snapshot, counting one whose views are still in the helper."""
        rec, helper = self._recorder, self._helper
        last = rec.index[-1]["iteration"] if rec.index else -(10 ** 9)
        pending = helper.record_in_flight if helper is not None else None
        return last if pending is None else max(last, pending)

    def _record_keeps(self) -> tuple:
        """The views a recording snapshot holds."""
        st = self._static
        return ("samples", D_HIST, "field") if st.kind == "points" and st.dim <= 2 else ("samples", D_HIST)

    def _send_views(self, tr, now: float) -> None:
        """Ask the views helper for this iteration's views (with a recording snapshot's state when one is due)."""
        helper, req, st, rec = self._helper, self._request, self._static, self._recorder
        names = req.names
        nn = "nn" in names and st.kind == "images" and now >= self._nn_due
        met = "metrics" in names and st.kind == "points" and (now >= self._metrics_due or self._metrics_it < 0)
        record = False
        if rec is not None:
            if tr.iteration - self._last_recorded() >= rec.every and all(k in names for k in self._record_keeps()):
                c1 = time.thread_time()
                record = rec.begin_snapshot(tr)  # the state now; the snapshot when the views are back
                self.perf["record_cpu_s"] += time.thread_time() - c1
        self._frame += 1
        c0 = time.thread_time()
        if not helper.request(tr, req, names, self._frame, nn=nn, metrics=met, record=record):
            if record:
                rec.drop_state(tr.iteration)  # written for a snapshot that will not come
            return
        self._views_sent_at = now
        if nn:
            self._nn_due = now + self._nn_dt
        if met:
            self._metrics_due = now + self._metrics_dt
        cost = time.thread_time() - c0
        self.perf["views"] += 1
        self.perf["views_cpu_s"] += cost
        self.perf["requests"] += 1
        self.perf["request_cpu_s"] += cost
        self._views_cost = cost if self._views_cost == 0 else 0.8 * self._views_cost + 0.2 * cost
        interval = max(self._views_dt, helper.min_interval(),
                       self._views_cost / (self._views_budget * self._cpu_share))
        self._views_due = max(self._views_due + interval, now + 0.5 * interval)

    def _from_helper(self, accept: bool, timeout: float = 0.0) -> tuple | None:
        """Views that came back from the helper: (views, their iteration), or None. Dropped unless ``accept``
        (the run stopped running meanwhile: views are computed here then) and not cancelled; a recording
        snapshot they carry is recorded all the same, when its iteration has not been undone."""
        helper, rec = self._helper, self._recorder
        res = helper.poll(timeout)
        if helper.lost_record is not None:
            if rec is not None:
                rec.drop_state(helper.lost_record)
            helper.lost_record = None
        if helper.dead and not self._helper_warned:
            self._helper_warned = True
            self._event("warning", f"the panels are computed by the training process itself (a little slower): "
                                   f"{helper.error}")
        if res is None:
            return None
        self.perf["helper_views"] += 1
        self.perf["helper_cpu_s"] += helper.last_cost
        views, it = res["views"], res["iteration"]
        if res["record"] and rec is not None:  # its state is written: the snapshot goes with it, or neither
            c0 = time.thread_time()
            now_it = self.trainer.iteration if self.trainer is not None else it
            if (res["error"] or views is None or it > now_it or not all(k in views for k in self._record_keeps())
                    or not rec.add_snapshot(it, views)):
                rec.drop_state(it)
            self.perf["records"] += 1
            self.perf["record_cpu_s"] += time.thread_time() - c0
        if not accept or res["stale"] or res["error"]:
            return None
        if res["metrics"] is not None:
            self._metrics_done(res["metrics"], views)
        self._keep_previous(views)
        return views, it

    def _settle_helper(self) -> None:
        """Before the run stops running: wait (briefly) for the views in flight, so a recording gets its snapshot."""
        helper = self._helper
        if helper is not None and not helper.idle:
            self._from_helper(False, 1.0)
            if not helper.idle:
                helper.cancel()  # slow: its views are not shown when they come (its snapshot is still recorded)

    def _metrics_done(self, m: dict, out: dict) -> None:
        if m["scalars"]["iteration"] != self._metrics_it:  # a history point per new iteration
            self._metrics_it = m["scalars"]["iteration"]
            self._event("metrics", "", m["scalars"])
        out["theory"] = m["theory"]

    def _keep_previous(self, out: dict) -> None:
        """Views with their own, slower cadence (nearest neighbours, the theory maps) stay until renewed."""
        names = self._request.names if self._request is not None else ()
        prev = self._latest.views if self._latest is not None else {}
        for name, key in (("nn", "nn"), ("metrics", "theory")):
            if name in names and key not in out and key in prev:
                out[key] = prev[key]

    def _maybe_record(self, tr, views: dict | None = None) -> None:
        """A snapshot for the recording once ``every`` iterations have passed since the last one: from
        ``views`` (just computed for the panels) when they hold what a recording keeps; computed by the
        recorder itself only when no such views came for twice that long."""
        rec = self._recorder
        gap = tr.iteration - self._last_recorded()
        if gap < rec.every:
            return
        keeps = self._record_keeps()
        c0 = time.thread_time()
        if views is not None and all(k in views for k in keeps):
            rec.snapshot(tr, views)
        elif views is None and gap >= 2 * rec.every:
            rec.snapshot(tr)
        else:
            return
        self.perf["records"] += 1
        self.perf["record_cpu_s"] += time.thread_time() - c0

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


def _describe(exc: BaseException) -> str:
    msg = str(exc).strip() or type(exc).__name__
    if isinstance(exc, MemoryError) or "out of memory" in msg.lower():
        return f"out of memory ({msg.splitlines()[0]}); try a smaller batch size"
    if isinstance(exc, (ValueError, ConfigError, FileNotFoundError, OSError, KeyError)):
        return msg.splitlines()[0] if isinstance(exc, OSError) else msg
    return f"{type(exc).__name__}: {msg.splitlines()[0]}"
