"""A live run's recording and its views helper kept in step: which snapshots are recorded (from the panels'
views, the helper's, or computed for the recording), their training states, a rewind, and the recording's
control file (``gan-studio control``). A part of :class:`~gan_studio.core.live.handles.ThreadRun`."""
from __future__ import annotations

import time

from ..train.config import ConfigError
from ..views.viewspec import D_HIST
from .commands import describe_error as _describe


class RecordingSync:
    """ThreadRun's recording methods (they use its attributes: ``_recorder``, ``_helper``, ``perf``, ...)."""

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

    def _obey_control_file(self, tr) -> None:
        """``gan-studio control`` on this run's recording: pause, resume and live changes, checked by the same
        rules as a watched loop's and ``gan-studio train``'s (control.obey), made as the window's own controls
        make them, and answered in the recording's metrics.jsonl. The window sees the state and settings change
        in what the run publishes."""
        from ..record.control import obey

        for req in self._control.poll():
            def submit(changes):
                tr.queue(changes)  # validated once, by obey's check_live_changes
                if not self._running:
                    tr.apply_changes()
                self._dirty = True
                self._event("warning", "gan-studio control changed "
                            + ", ".join(f"{k} to {v}" for k, v in changes.items()))

            obey(req, lambda event, **data: self._recorder.note(tr, event, **data), submit=submit,
                 pause=lambda: self._handle(tr, ("pause",)), resume=lambda: self._handle(tr, ("play",)),
                 is_paused=lambda: not self._running, config=tr.config.to_dict())

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

    def _rewind(self, tr, iteration: int | None) -> None:
        from ..record.branch import rewind_target, rewind_trainer

        rec = self._recorder
        if rec is None:
            self._event("error", "this run is not being recorded: there is no earlier state to go back to")
            return
        came = tr.iteration
        rec.flush()  # the states asked for so far are on disk before the last one is chosen
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
