"""The panels' views computed in a helper process, so that a live run's training thread only trains.

On a machine with a core to spare (the studio's window process uses about a third of one), the views of a
running trainer (samples, D's histogram and field, the latent view, the nearest neighbours, the live
metrics) cost the training loop nothing but a copy of the weights:

* the training thread copies G's and D's weights (every floating-point tensor of their state dicts) into
  a buffer the two processes share (a memory-mapped file), and sends a small request (the iteration, the
  view request, settings changed since the last one, the fixed noise when it was replaced);
* the helper, which holds its own trainer built from the same configuration (the same models, data and
  fixed noise, the same live-setting changes applied the same way), loads those weights and computes
  exactly what :func:`frame_views` computes on the training thread otherwise, and sends the views back;
* one request is in flight at a time: the training thread writes the buffer only while the helper is
  idle, so neither ever waits for the other. A result is tagged with the iteration it was computed for.

The helper starts in the background (importing torch takes a few seconds); until it is ready, if it dies,
or when the weights cannot be matched, views are computed on the training thread as before. While a run
is paused, stepped or narrated, views are always computed there (at once, for exactly what is shown).
Turned off with ``GAN_STUDIO_VIEWS_PROCESS=0``.
"""
from __future__ import annotations

import mmap
import os
import signal
import tempfile
import time
from typing import Any

import numpy as np

#: How much of a core the helper may use: requests are spaced so that it is busy at most this share of the time.
HELPER_SHARE = 0.5
#: Seconds between two looks at the helper's pipe.
POLL_INTERVAL = 0.002


def views_process_enabled(default: bool) -> bool:
    """``GAN_STUDIO_VIEWS_PROCESS``: 0 turns the helper off, 1 on; otherwise ``default``. Never on one core."""
    env = os.environ.get("GAN_STUDIO_VIEWS_PROCESS", "").strip()
    on = {"0": False, "1": True}.get(env, default)
    return bool(on and (os.cpu_count() or 1) > 1)


def frame_views(live_views, trainer, req, frame: int, names, nn: bool) -> dict:
    """One frame of views for the panels in ``names`` (plus the nearest neighbours when ``nn``)."""
    from ..views import views as V

    out = live_views.compute(trainer, req, frame, names)  # samples, d_hist, field, latent
    fakes = out.get("samples")
    if nn and live_views.static.kind == "images" and fakes is not None:
        ncol = int(np.ceil(np.sqrt(len(fakes))))
        rows_last = fakes[np.minimum(np.arange(ncol - 1, len(fakes), ncol), len(fakes) - 1)]
        out["nn"] = (rows_last, V.nearest_neighbours(trainer, rows_last))
    return out


def _weights(trainer) -> list[tuple[str, Any]]:
    """(name, tensor) of every floating-point tensor in G's and D's state dicts, in a fixed order."""
    out = []
    for prefix, m in (("G.", trainer.G), ("D.", trainer.D)):
        for k, t in m.state_dict(keep_vars=True).items():
            if t.is_floating_point():
                out.append((prefix + k, t))
    return out


class ViewsHelper:
    """The training thread's side: the helper process, the shared weights buffer, the request in flight."""

    def __init__(self, conn, proc=None) -> None:
        """``conn``: this side of a pipe to a helper started by :func:`start_helper` (here, or by the window's
        process for a training process, which may not start processes of its own); ``proc``: the helper
        process when it was started here."""
        self._conn, self._proc = conn, proc
        self._started = False
        self._polled = 0.0
        self.ready = False  # the helper has built its trainer
        self.dead = False  # it failed (or cannot match the weights): views are computed on the training thread
        self.error: str | None = None
        self._pending: dict | None = None  # the request in flight
        self._seq = 0
        self._cfg = None  # what the helper's trainer is configured with
        self._fixed_z = None  # the fixed noise the helper has (object identity: a checkpoint replaces it)
        self._models = None  # (G, D) the weights list below belongs to
        self._tensors: list = []
        self._flat = None  # the shared buffer (a torch view of the memory map)
        self._map = None
        self._path: str | None = None
        self._old_paths: list[str] = []
        self.cost = 0.0  # the helper's CPU seconds per request (a moving average)
        self.lost_record: int | None = None  # the iteration of a recording snapshot whose views were lost
        self.last_cost = 0.0

    def begin(self, trainer, static) -> None:
        """Have the helper build its trainer (like ``trainer``, with ``static``'s data); it says when ready."""
        if self._started or self.dead:
            return
        self._started = True
        self._cfg = trainer.config
        try:
            self._conn.send(("init", trainer.config.to_dict(), static))
        except (OSError, ValueError) as exc:
            self.fail(f"could not reach the views process: {exc}")

    @property
    def usable(self) -> bool:
        return self.ready and not self.dead

    @property
    def idle(self) -> bool:
        return self._pending is None

    @property
    def record_in_flight(self) -> int | None:
        """The iteration of the recording snapshot whose views are being computed, if any."""
        p = self._pending
        return p["iteration"] if p is not None and p["record"] else None

    def min_interval(self) -> float:
        """Requests no closer than this: the helper busy at most HELPER_SHARE of the time."""
        return self.cost / HELPER_SHARE

    def cancel(self) -> None:
        """Forget the request in flight (the run went back, or stopped running): its result is dropped."""
        if self._pending is not None:
            self._pending["stale"] = True

    # -- requests ---------------------------------------------------------------------------------------
    def request(self, trainer, req, names, frame: int, *, nn: bool = False, metrics: bool = False,
                record: bool = False) -> bool:
        """Send the trainer's weights and a request for these views; False when none can be sent now."""
        if not self.usable or self._pending is not None:
            return False
        import torch

        from ..train.config import LIVE_KEYS

        msg: dict = {"seq": self._seq + 1, "iteration": int(trainer.iteration), "frame": int(frame), "req": req,
                     "names": tuple(names), "nn": bool(nn), "metrics": bool(metrics)}
        if trainer.config is not self._cfg:
            old, new = self._cfg.to_dict(), trainer.config.to_dict()
            msg["changes"] = {k: new[k] for k in LIVE_KEYS if old.get(k) != new.get(k)}
            self._cfg = trainer.config
        if trainer.fixed_z is not self._fixed_z:
            msg["fixed_z"] = trainer.fixed_z.detach().cpu().numpy()
            self._fixed_z = trainer.fixed_z
        models = (trainer.G, trainer.D)
        if self._models is None or models[0] is not self._models[0] or models[1] is not self._models[1]:
            named = _weights(trainer)
            self._tensors = [t for _, t in named]
            self._models = models
            msg["buffer"] = (self._new_buffer(sum(t.numel() for t in self._tensors)),
                             [(k, tuple(t.shape)) for k, t in named])
        try:
            with torch.no_grad():
                torch.cat([t.detach().reshape(-1) for t in self._tensors], out=self._flat)
            self._conn.send(("frame", msg))
        except (OSError, ValueError, RuntimeError) as exc:
            self.fail(f"could not reach the views process: {exc}")
            return False
        self._seq += 1
        self._pending = {"seq": self._seq, "iteration": msg["iteration"], "record": record, "stale": False,
                         "nn": nn, "metrics": metrics}
        return True

    def _new_buffer(self, n: int) -> str:
        import torch

        d = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        fd, path = tempfile.mkstemp(prefix="gan-studio-weights-", suffix=".bin", dir=d)
        try:
            os.ftruncate(fd, max(4, 4 * n))
            mm = mmap.mmap(fd, max(4, 4 * n))
        finally:
            os.close(fd)
        if self._path is not None:
            self._old_paths.append(self._path)  # the helper removes each once mapped; these, if it never did
        self._map, self._path = mm, path
        self._flat = torch.frombuffer(mm, dtype=torch.float32, count=n)
        return path

    # -- results ----------------------------------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> dict | None:
        """A finished request's result (``iteration``, ``views``, ``metrics``, ``nn``, ``record``, ``error``,
        ``stale``: cancelled, its views are not to be shown), or None; waits up to ``timeout`` seconds for one.
        A result with an error ends the helper's use (:meth:`fail`): its trainer may no longer match."""
        if self.dead:
            return None
        now = time.perf_counter()
        if timeout <= 0 and now - self._polled < POLL_INTERVAL:  # a pipe poll costs ~10 µs: not every iteration
            return None
        self._polled = now
        try:
            if not self._conn.poll(timeout):
                return None
            msg = self._conn.recv()
        except (EOFError, OSError) as exc:
            self.fail(f"the views process ended ({exc or 'closed'})")
            return None
        if msg[0] == "ready":
            self.ready = True
            return None
        if msg[0] == "fatal":
            self.fail(msg[1])
            return None
        _, seq, views, metrics, cost, error = msg
        pending, self._pending = self._pending, None
        for p in self._old_paths:
            _unlink(p)
        self._old_paths = []
        self.last_cost = cost
        self.cost = cost if self.cost == 0 else 0.8 * self.cost + 0.2 * cost
        if pending is None or pending["seq"] != seq:
            return None
        if error:
            self.fail(f"it could not draw a panel ({error})")
        return {"iteration": pending["iteration"], "views": views, "metrics": metrics, "error": error,
                "nn": pending["nn"], "record": pending["record"], "stale": pending["stale"]}

    def fail(self, why: str) -> None:
        """Stop using the helper (views are computed on the training thread from now on)."""
        if not self.dead and self._pending is not None and self._pending["record"]:
            self.lost_record = self._pending["iteration"]  # its state was written; its views will not come
        self.dead = True
        self.error = why
        self._pending = None

    def close(self) -> None:
        try:
            self._conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self._conn.close()
        if self._proc is not None:
            stop_helper(self._proc)
        self._flat = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a tensor still views it: the mapping goes with the process
                pass
        for p in self._old_paths + ([self._path] if self._path else []):
            _unlink(p)
        self._old_paths, self._path = [], None


def start_helper(later: bool = False):
    """Start a helper process (idle until a :class:`ViewsHelper` sends it ``init``) → (its pipe end, process).
    The helper ends when the other end of the pipe is closed everywhere, or is told to stop. ``later``: not
    started → (its pipe end, the helper's end, process); the caller starts it, then closes the helper's end."""
    from . import processes

    conn, child = processes.context().Pipe(duplex=True)  # (never a fork of this process: threads, CUDA)
    proc = processes.process(_helper_main, (child,), name="gan-studio-views")
    if later:
        return conn, child, proc
    proc.start()
    child.close()
    return conn, proc


def stop_helper(proc, timeout: float = 1.0) -> None:
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join(1.0)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ------------------------------------------------------------------------------------------- the helper
def _helper_main(conn) -> None:
    """The helper process: wait for ``init``, build a trainer like the training one, then answer requests
    until told to stop (or the pipe closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's to handle
    try:
        os.nice(10)  # on a busy machine, training (and the window) go first
    except (OSError, AttributeError):
        pass
    try:  # at once, while the training process loads too: ready by the time training has started
        import torch

        torch.set_num_threads(1)
        from ..train.config import TrainConfig
        from ..train.trainer import Trainer
        from ..views import views as V
    except Exception as exc:  # noqa: BLE001
        _send(conn, ("fatal", f"the views process could not start: {type(exc).__name__}: {exc}"))
        return
    try:
        msg = conn.recv()
    except (EOFError, OSError):
        return
    if msg[0] != "init":
        return
    _, cfg_dict, static = msg
    try:
        if cfg_dict.get("plugin"):  # sent by a training process that runs this plug-in with the user's consent
            from ..train.plugin_spec import allow, check_record, ref_of

            allow(ref_of(check_record(cfg_dict["plugin"])))
        tr = Trainer(TrainConfig.from_dict(dict(cfg_dict, device="cpu")))
        live = V.LiveViews(static)
        conn.send(("ready",))
    except Exception as exc:  # noqa: BLE001 - the training side falls back to computing views itself
        _send(conn, ("fatal", f"the views process could not start: {type(exc).__name__}: {exc}"))
        return
    weights = None  # this trainer's tensors, in the order of the shared buffer
    flat = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "frame":
            return
        r = msg[1]
        t0 = time.thread_time()
        views = metrics = error = None
        try:
            if r.get("changes"):
                tr.submit(**r["changes"])
                tr.apply_changes()
            if "fixed_z" in r:
                tr.fixed_z = torch.as_tensor(r["fixed_z"])
            if "buffer" in r:
                path, layout = r["buffer"]
                named = _weights(tr)
                if [(k, tuple(t.shape)) for k, t in named] != [(k, tuple(s)) for k, s in layout]:
                    _send(conn, ("fatal", "the views process's models differ from the training ones"))
                    return
                weights = [t for _, t in named]
                n = sum(t.numel() for t in weights)
                with open(path, "r+b") as f:  # shared: what the training thread writes is what is read here
                    flat = torch.frombuffer(mmap.mmap(f.fileno(), max(4, 4 * n)), dtype=torch.float32, count=n)
                _unlink(path)  # both processes have it mapped: the name is not needed, nothing is left behind
            with torch.no_grad():
                o = 0
                for t in weights:
                    n = t.numel()
                    t.copy_(flat[o:o + n].view_as(t))
                    o += n
            tr.iteration = r["iteration"]
            views = frame_views(live, tr, r["req"], r["frame"], r["names"], r["nn"])
            if r["metrics"]:
                metrics = V.metrics(tr, static, r["req"], r["frame"])
        except Exception as exc:  # noqa: BLE001 - reported like a view failing on the training thread
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        if not _send(conn, ("views", r["seq"], views, metrics, time.thread_time() - t0, error)):
            return


def _send(conn, msg) -> bool:
    try:
        conn.send(msg)
        return True
    except (OSError, ValueError):
        return False
