"""Writing a run folder as a run trains (:class:`RunWriter`; what the folder holds: :mod:`.runfolder`).

With ``background=True`` (``gan-studio train``, the studio) the disk work is done on a writer thread
(:mod:`.background`): the training thread only copies what a file will hold — a training state's tensors, a
snapshot's arrays, G's and D's weights for views computed off the thread (:mod:`.shadow`) — and goes on. Jobs
run in the order they were asked for, each file is renamed into place complete, and a snapshot's index line is
written only after its file (and its state before it), so a reader never sees half of anything. ``flush()``
waits until everything asked for is on disk; ``close()`` flushes, and a failure of the writer thread is kept
in :attr:`RunWriter.last_error` (one line), as one on the training thread is.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import columns
from ..columns import RunEvent
from ..views.viewspec import D_HIST, StaticInfo
from .budget import CostMeter, spacing_within
from .runfiles import (FORMAT, RECORD_REQUEST, VERSION, RunFolderError, atomic_write, flatten_views,
                       line_iteration, npz_bytes)


class RunWriter:
    """A trainer observer that writes a run folder (see :mod:`.runfolder`).

    ``resume=True`` keeps what is there up to the trainer's current iteration (a resumed run);
    ``background=True`` writes on a writer thread (see the module's docstring). ``budget``: the share of the
    run's time its recording may take — the CPU time of a snapshot's work on either thread against the loop's
    time between two snapshots; while it costs more, the spacing ``every`` grows (None: exactly every
    ``every``; see :meth:`keep_budget`)."""

    def __init__(self, path: str | os.PathLike, trainer, *, every: int = 25, max_snapshots: int = 240,
                 log_every: int = 1, snapshots: bool = True, resume: bool = False, states: bool = True,
                 parent: dict | None = None, static: StaticInfo | None = None, background: bool = False,
                 budget: float | None = None) -> None:
        from ..views import views as V

        if every < 1 or max_snapshots < 4 or log_every < 1:
            raise ValueError("every and log_every must be ≥ 1, max_snapshots ≥ 4")
        self.path = Path(path).expanduser()
        try:
            (self.path / "snapshots").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create run folder {self.path}: {exc.strerror or exc}") from None
        if not os.access(self.path, os.W_OK):
            raise RunFolderError(f"run folder {self.path} is not writable")
        self.every = int(every)
        self.max_snapshots = int(max_snapshots)
        self.log_every = int(log_every)
        self.record_snapshots = snapshots
        self.budget = None if budget is None else float(budget)
        self._meter = CostMeter()  # what its work costs (budget.py)
        self.static = static if static is not None else V.static_info(trainer)  # (given: a watched loop, watch.py)
        self.index: list[dict] = []
        self.last_error: str | None = None
        self.first_error: str | None = None
        # training states (states.py): one every `state_every` snapshots, chosen once the first one's size is known
        self.record_states = bool(states)
        self.parent = parent if parent is not None else getattr(trainer, "branch_parent", None)
        self.state_every: int | None = None
        self.state_bytes = 0
        self._since_state = 0
        self._last_state_it = -(10 ** 9)
        self._meta_lock = threading.Lock()
        self._bg = None
        self._shadow = None  # G and D copies for views computed on the writer thread (made at the first snapshot)
        self._capture: tuple[int, dict] | None = None  # the newest state captured: (iteration, payload)
        start = trainer.iteration
        self._config_start = trainer.config.to_dict()
        if resume and (self.path / "run.json").exists():
            from .runreader import RunFolder

            try:
                old = RunFolder(self.path)
                self._config_start = old.meta.get("config_start") or old.meta["config"]
                self.index = [e for e in old.index if e["iteration"] <= start]
                self.every = max(self.every, int(old.meta.get("snapshot_every", self.every)))
                self.parent = self.parent or old.meta.get("parent")
            except RunFolderError:
                self.index = []
        else:
            for p in (self.path / "snapshots").glob("s-*.npz"):
                p.unlink(missing_ok=True)
        self._drop_states(lambda it: not resume or it > start)
        self._write_meta(trainer, created=time.time())
        self._write_static()
        self._rewrite_index(self.index)
        self._trim_metrics(start if resume else None)
        self._metrics = open(self.path / "metrics.jsonl", "a", buffering=1, encoding="utf-8")
        if background:
            from .background import Writer

            self._bg = Writer("gan-studio-run-writer")
        if snapshots and (not self.index or self.index[-1]["iteration"] < start):
            try:
                self.snapshot(trainer)
            except BaseException:
                self.close()  # the writer thread and the metrics file end with the failed start
                raise

    # -- the writer thread ----------------------------------------------------------------------------
    def _io(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (disk work) on the writer thread, after what was asked before; or now, without one."""
        if self._bg is None:
            fn()
        else:
            self._bg.submit(self._meter.timed(fn) if self.budget is not None else fn)

    def flush(self) -> None:
        """Wait until everything asked for so far is on disk."""
        if self._bg is not None:
            self._bg.drain()
            self._surface()

    def _surface(self) -> None:
        if self._bg is not None and self._bg.error and not self.first_error:
            self._fail(f"could not write in {self.path}: {self._bg.error}")

    def _fail(self, why: str) -> None:
        """A file could not be written: ``last_error`` says so until the next snapshot is recorded;
        ``first_error`` keeps the run's first failure (reported when the run ends)."""
        self.last_error = why
        if self.first_error is None:
            self.first_error = why

    # -- files --------------------------------------------------------------------------------------
    def _write_meta(self, trainer, created: float) -> None:
        st = self.static
        meta = {"format": FORMAT, "version": VERSION, "created": created, "config": trainer.config.to_dict(),
                "config_start": self._config_start,
                "data": {"kind": st.kind, "dim": st.dim, "shape": list(st.shape), "name": st.name,
                         "description": st.description, "n_classes": st.n_classes, "sigma": st.sigma},
                "loss": {"name": st.loss, "sigmoid": st.sigmoid, "d_equilibrium": st.d_equilibrium,
                         "g_equilibrium": st.g_equilibrium},
                "device": str(trainer.device), "snapshot_every": self.every, "iteration": trainer.iteration}
        if self.parent:
            meta["parent"] = self.parent
        self._meta = meta
        self._save_meta_now()

    def _save_meta_now(self) -> None:
        with self._meta_lock:
            data = (json.dumps(self._meta, indent=2) + "\n").encode()
        atomic_write(self.path / "run.json", data)

    def _save_meta(self, quiet: bool = False) -> None:
        """Rewrite run.json with the entries in force when the job runs (so the last job writes the newest)."""
        def job():
            try:
                self._save_meta_now()
            except RunFolderError:
                if not quiet:
                    raise
        self._io(job)

    def update_meta(self, **entries: Any) -> None:
        """Add entries to run.json (rewritten at once, or by the writer thread next)."""
        with self._meta_lock:
            self._meta.update(entries)
        if self._bg is None:
            self._save_meta_now()
        else:
            self._save_meta()

    def _write_static(self) -> None:
        st = self.static
        arrays = {k: np.asarray(getattr(st, k)) for k in ("real", "centers", "x_grid", "p_data")
                  if getattr(st, k) is not None}
        if st.bounds is not None:
            arrays["lo"], arrays["hi"] = np.asarray(st.bounds[0]), np.asarray(st.bounds[1])
        atomic_write(self.path / "static.npz", npz_bytes(arrays))

    def _rewrite_index(self, entries: list[dict]) -> None:
        atomic_write(self.path / "snapshots.jsonl", "".join(json.dumps(e) + "\n" for e in entries).encode())

    def _trim_metrics(self, upto: int | None) -> None:
        p = self.path / "metrics.jsonl"
        if upto is None or not p.exists():
            p.unlink(missing_ok=True)
            return
        keep = []
        with open(p, encoding="utf-8", errors="replace") as f:  # line by line: a long run's file is large
            for ln in f:
                it = line_iteration(ln)
                if it is not None and it <= upto:
                    keep.append(ln.rstrip("\n") + "\n")
        atomic_write(p, "".join(keep).encode())

    # -- observer -----------------------------------------------------------------------------------
    def on_iteration(self, trainer, s) -> None:
        if s.iteration % self.log_every == 0:
            self._metrics.write(json.dumps(columns.to_line(s)) + "\n")  # the columns' on-disk names
        if self.record_snapshots and s.iteration % self.every == 0:
            if self.budget is None:
                self.snapshot(trainer)
                return
            looked = self._meter.record(lambda: self.snapshot(trainer), int(s.iteration))
            if looked is not None:
                self.keep_budget(*looked)

    def keep_budget(self, cost: float, per_it: float) -> None:
        """Space the snapshots out (to a round number, budget.py) when one (``cost`` seconds of work) costs more
        than ``budget`` of the loop's time between two (``per_it`` seconds an iteration): a tiny, fast network
        then records less often instead of training slower. The record stays evenly spaced (multiples of the
        spacing in force); run.json says the spacing."""
        every = spacing_within(self.budget, cost, per_it, self.every)
        if every != self.every:
            self.every = every
            with self._meta_lock:
                self._meta["snapshot_every"] = every
            self._save_meta(quiet=True)

    def on_diverged(self, trainer, message) -> None:
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": RunEvent.DIVERGED.value,
                                        "message": message}) + "\n")

    def note(self, trainer, event: str, **data: Any) -> None:
        """A user action worth seeing in a replay (a setting changed, a remedy switched on): ``event`` is a
        :class:`~gan_studio.core.columns.RunEvent` (or its value; anything else is an error)."""
        event = RunEvent(event).value
        self._metrics.write(json.dumps({"iteration": trainer.iteration, "event": event, **data}) + "\n")

    def snapshot(self, trainer, views: dict | None = None, state: bool = False) -> None:
        """Record what the panels show now (with a training state when one is due, or ``state``). Failures (disk
        full) are kept in ``last_error``; training goes on. Without ``views`` they are computed here, or from
        copies of the networks on the writer thread when there is one."""
        from .shadow import capture_weights, shadow_of

        it = int(trainer.iteration)
        if not self.begin_snapshot(trainer, state):
            return
        if views is None and self._bg is not None:
            if self._shadow is None:  # (not for a plug-in's networks and data: their code may not expect threads)
                self._shadow = getattr(trainer.config, "plugin", None) is None and shadow_of(trainer) or False
            if self._shadow:
                cap = self._capture[1] if self._capture is not None and self._capture[0] == it else None
                weights, shadow = capture_weights(trainer, cap), self._shadow
                self._add(it, lambda: self._record_views(shadow.load(weights)))
                return
        if views is None:
            try:
                views = self._record_views(trainer)
            except (RunFolderError, OSError) as exc:
                self._fail(f"could not record a snapshot in {self.path}: {exc}")
                return
        self.add_snapshot(it, views)

    def _record_views(self, trainer) -> dict:
        """The views a snapshot records (what :data:`RECORD_REQUEST` asks for)."""
        from ..views import views as V

        st = self.static
        fakes = V.samples(trainer, RECORD_REQUEST, 0)
        views = {"samples": fakes, D_HIST: V.d_hist(trainer, 256)}
        if st.kind == "points" and st.dim <= 2:
            views["field"] = V.field(trainer, st, RECORD_REQUEST, fakes)
        return views

    def begin_snapshot(self, trainer, state: bool = False) -> bool:
        """The first half of :meth:`snapshot`: the training state (when one is due, or ``state``), taken
        before the views are computed (they draw on the views' random stream). False when the trainer's
        iteration is recorded already. Views computed elsewhere (a helper process) are added later with
        :meth:`add_snapshot` for this same iteration."""
        it = int(trainer.iteration)
        if self.record_states:
            self._maybe_state(trainer, force=state)
        return not (self.index and self.index[-1]["iteration"] >= it)

    def add_snapshot(self, iteration: int, views: dict) -> bool:
        """Record ``views`` (computed for ``iteration``) as a snapshot; ignored (False) when a later one is
        recorded already."""
        return self._add(int(iteration), lambda: views)

    def _add(self, it: int, views_fn: Callable[[], dict]) -> bool:
        """Index a snapshot of ``it`` now; compute its views (``views_fn``) and write its file and index line
        on the writer thread (or now)."""
        if self.index and self.index[-1]["iteration"] >= it:
            return False
        entry: dict[str, Any] = {"iteration": it, "file": f"s-{it:09d}.npz", "time": round(time.time(), 3)}
        self.index.append(entry)
        gone: list[dict] = []
        if len(self.index) > self.max_snapshots:
            gone = self._thin()
        listed = list(self.index) if gone else None

        def job():
            try:
                self._write_snapshot(entry, views_fn(), listed, gone)
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - a full disk, or views that failed: training goes on
                self._fail(f"could not record a snapshot in {self.path}: {exc}")
                if not gone and entry in self.index:  # its file is not there: it is not listed either
                    self.index.remove(entry)
        self._io(job)
        return True

    def _write_snapshot(self, entry: dict, views: dict, listed: list[dict] | None, gone: list[dict]) -> None:
        from ..evaluate.metrics import mode_metrics

        st = self.static
        if st.centers is not None and st.sigma is not None and "samples" in views:
            m = mode_metrics(np.asarray(views["samples"]).reshape(len(views["samples"]), -1), st.centers, st.sigma)
            entry.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                         high_quality=round(m["high_quality"], 4))
        atomic_write(self.path / "snapshots" / entry["file"], npz_bytes(flatten_views(views)))
        if listed is None:
            with open(self.path / "snapshots.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            return
        self._save_meta_now()  # the doubled spacing
        self._rewrite_index(listed)
        for e in gone:
            (self.path / "snapshots" / e["file"]).unlink(missing_ok=True)
        kept = {e["iteration"] for e in listed}
        self._drop_states(lambda it: it not in kept)

    def drop_state(self, iteration: int) -> None:
        """Remove the training state at ``iteration`` unless a snapshot shows it (its views never came)."""
        it = int(iteration)
        if not any(e["iteration"] == it for e in self.index):
            self._io(lambda: self._drop_states(lambda i: i == it))
            if self._last_state_it == it:
                self._since_state = self.state_every or 0  # the next snapshot takes a state again

    def _thin(self) -> list[dict]:
        """Every other snapshot goes and the spacing doubles (in memory; the files go on the writer's job)."""
        self.every *= 2
        keep = [e for e in self.index if e["iteration"] % self.every == 0]
        if len(keep) >= len(self.index) or len(keep) < 2:
            keep = self.index[::2]
        gone = [e for e in self.index if e not in keep]
        self.index = keep
        with self._meta_lock:
            self._meta["snapshot_every"] = self.every
        return gone

    # -- training states (states.py) ----------------------------------------------------------------
    def _maybe_state(self, trainer, force: bool = False) -> None:
        from ..train.checkpoint import capture_checkpoint
        from .states import MIN_STATE_GAP

        it = int(trainer.iteration)
        if it == self._last_state_it:
            return
        if not force and self.state_every is not None and (self._since_state + 1 < self.state_every
                                                            or it - self._last_state_it < MIN_STATE_GAP):
            self._since_state += 1
            return
        if self._bg is None:
            self._write_state(it, lambda: trainer)
        else:
            payload = capture_checkpoint(trainer, history=False)  # copied now, serialised on the writer thread
            self._capture = (it, payload)
            if self.state_every is None:  # the first one: its size sets the spacing of the next ones
                self._io(lambda: self._write_state(it, lambda: payload))
                self._bg.drain()
            else:
                self._io(lambda: self._write_state(it, lambda: payload))
        self._since_state = 0
        self._last_state_it = it

    def _write_state(self, it: int, what: Callable[[], Any]) -> None:
        """Write the state of ``it`` (``what()``: the trainer, or a captured payload) and keep its size."""
        from ..atomic import CheckpointError
        from ..train.checkpoint import save_checkpoint, write_checkpoint
        from .states import STATES_DIR, spacing, state_name

        target = self.path / STATES_DIR / state_name(it)
        try:
            (self.path / STATES_DIR).mkdir(exist_ok=True)
            src = what()
            (write_checkpoint(src, target) if isinstance(src, dict) else save_checkpoint(src, target, history=False))
            size = target.stat().st_size
        except (CheckpointError, OSError) as exc:
            self._fail(f"could not record a training state in {self.path}: {exc}")
            return
        if size > self.state_bytes:  # (the first state is smaller: the optimisers' moments appear at the first step)
            self.state_bytes = size
            self.state_every = spacing(size, self.max_snapshots)
            with self._meta_lock:
                self._meta["states"] = {"every_snapshots": self.state_every, "bytes": size}
            try:
                self._save_meta_now()
            except RunFolderError:
                pass

    def _drop_states(self, drop) -> None:
        from .states import STATE_FILE, STATES_DIR

        d = self.path / STATES_DIR
        if not d.is_dir():
            return
        for p in d.iterdir():
            m = STATE_FILE.fullmatch(p.name)
            if m and drop(int(m.group(1))) or p.name.startswith(".s-") and p.name.endswith(".tmp") and drop(-1):
                p.unlink(missing_ok=True)  # (a temp file: left by a run killed while writing a state)

    def truncate(self, trainer, iteration: int) -> None:
        """A live run went back to ``iteration`` (a rewind): what was recorded after it is dropped — snapshots,
        states and metrics lines — so the folder reads as if the run had gone on from there; a ``rewind``
        event (with the iteration it came from) marks the place."""
        self.flush()
        came_from = max([e["iteration"] for e in self.index] + [int(trainer.iteration)])
        gone = [e for e in self.index if e["iteration"] > iteration]
        self.index = [e for e in self.index if e["iteration"] <= iteration]
        self._rewrite_index(self.index)
        for e in gone:
            (self.path / "snapshots" / e["file"]).unlink(missing_ok=True)
        self._drop_states(lambda it: it > iteration)
        if not self._metrics.closed:
            self._metrics.close()
        self._trim_metrics(iteration)
        self._metrics = open(self.path / "metrics.jsonl", "a", buffering=1, encoding="utf-8")
        self._since_state = 0
        self._last_state_it = int(iteration)
        self._metrics.write(json.dumps({"iteration": int(iteration), "event": RunEvent.REWIND.value, "from": came_from}) + "\n")

    def close(self, trainer=None) -> None:
        """The last snapshot and run.json's final iteration and settings (with ``trainer``); then the writer thread
        ends and the metrics file closes — all but the snapshot even when it fails (the failure is raised after)."""
        try:
            if trainer is not None:
                try:
                    if self.record_snapshots:
                        self.snapshot(trainer, state=True)
                finally:  # run.json says where the run ended, even when its last snapshot failed
                    with self._meta_lock:
                        self._meta["iteration"] = trainer.iteration
                        self._meta["config"] = trainer.config.to_dict()
                    self._save_meta(quiet=True)
        finally:
            if self._bg is not None:
                self._bg.close()
                self._surface()
            if not self._metrics.closed:
                self._metrics.close()


__all__ = ["RunWriter"]
