"""Watch and steer any training loop: :func:`watch` (``gan_studio.watch``) makes a user's own PyTorch loop write
the same run folder as ``gan-studio train``, and obey the run folder's control file (control.py; applied by
watch_steering.py).

::

    w = gan_studio.watch("runs/mine", generator=G, discriminator=D, z_dim=64, real=X,
                         optimizers={"d": opt_d, "g": opt_g})
    for it in range(1, n + 1):
        ...                                     # the user's own D and G updates
        w.log(it, d_loss=ld.item(), g_loss=lg.item(), d_real=out_real, d_fake=out_fake)
    w.close()

What it writes (runfolder.py's :class:`RunWriter`, unchanged): ``run.json``, ``static.npz``, ``metrics.jsonl``
(every ``log_every``-th log, the doctor's findings, the changes made through the control file), snapshots of
the samples from a fixed z, D's histogram and (1-D/2-D points) D's field every ``every`` iterations (thinned like
any recording), and, when ``optimizers`` are given, training states beside them (``states/s-N.pt``: G, D and the
optimisers' state dicts, for the user's own resuming; the studio cannot continue them, as it does not know the
networks). ``run.json``'s configuration describes the watched loop as far as a
:class:`~gan_studio.core.train.config.TrainConfig` can (its ``dataset``/``model`` are placeholders; ``watch`` in
``run.json`` says so).

Off the caller's path: the snapshot's pictures are computed in a background thread on copies of G and D (their
weights are copied in at the snapshot's iteration, a few microseconds for small networks) and the files are
written there; the caller only copies weights and writes one metrics line per log. On a rank other than 0
(``torchrun``) :func:`watch` returns a watch that does nothing.
"""
from __future__ import annotations

import copy
import io
import math
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..columns import RunEvent
from ..protocol import STAT_COLUMNS
from ..train.trainer import IterationStats
from .control import ControlReader
from .runfolder import RunWriter
from .watch_steering import Steering
from .watch_data import WatchError, SnapshotViews, real_examples, static_info, unwrap
from .watch_data import value_range as _value_range

STATE_FORMAT = "gan-studio/watch-state"


def _rank() -> int:
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except (ImportError, RuntimeError, ValueError):
        pass
    try:
        return int(os.environ.get("RANK", "0") or 0)
    except ValueError:
        return 0


class _Run:
    """What :class:`RunWriter` reads of a trainer: the iteration, the settings, the device."""

    branch_parent = None

    def __init__(self, config, device) -> None:
        self.config = config
        self.device = device
        self.iteration = 0


def _num(v) -> float:
    if v is None:
        return math.nan
    if type(v) is float:
        return v
    if isinstance(v, torch.Tensor):
        return float(v.detach().float().mean()) if v.numel() else math.nan
    return float(v)


class Watch(Steering):
    """See :func:`watch`. Use :meth:`log` once per iteration (or every few), :meth:`on_change` for settings the
    loop takes itself, and :meth:`close` at the end (or ``with watch(...) as w:``)."""

    def __init__(self, path, generator, discriminator, *, z_dim, real, optimizers: dict | None = None,
                 loss: str = "nonsaturating", every: int = 50, log_every: int = 1, steps: int = 0,
                 name: str | None = None, description: str = "", noise: str = "normal", value_range=None,
                 centers=None, sigma=None, states: bool = True, doctor: bool = True, control: bool = True,
                 background: bool = True, k: int = 1, g_steps: int = 1, batch_size: int | None = None,
                 max_snapshots: int = 240, budget: float | None = 0.02) -> None:
        from ..train import losses as losses_mod
        from ..train.config import ConfigError, TrainConfig

        self.G, self.D = unwrap(generator), unwrap(discriminator)
        if not isinstance(self.G, torch.nn.Module) or not isinstance(self.D, torch.nn.Module):
            raise WatchError("generator and discriminator must be torch.nn.Module objects")
        try:
            self.loss = losses_mod.get_loss(loss)
        except ValueError as exc:
            raise WatchError(f"loss: {exc}") from None
        self.optimizers = {str(k_): o for k_, o in (optimizers or {}).items()}
        bad = [k_ for k_ in self.optimizers if k_ not in ("d", "g")]
        if bad:
            raise WatchError(f"optimizers: expected the keys 'd' and 'g', got {', '.join(map(repr, bad))}")
        p = next(iter(self.G.parameters()), None)
        self.device = p.device if p is not None else torch.device("cpu")
        zshape = (int(z_dim),) if isinstance(z_dim, (int, np.integer)) else tuple(int(s) for s in z_dim)
        if not zshape or min(zshape) < 1:
            raise WatchError(f"z_dim: expected a positive size (or a shape), got {z_dim!r}")
        real_x = real_examples(real, 2000)
        kind = "images" if real_x.ndim == 4 else "points"
        to_unit = None
        if kind == "images":
            lo, hi = _value_range(real_x, value_range)
            to_unit = (lambda x, lo=lo, hi=hi: ((x - lo) / (hi - lo)).clamp(0, 1))
        self.static = static_info(real_x, name or Path(sys.argv[0] or "loop").stem or "loop", description,
                                  self.loss, centers, sigma)
        lrs = {f"lr_{w}": float(self.optimizers[w].param_groups[0]["lr"]) for w in ("d", "g") if w in self.optimizers}
        opt_name = "sgd" if any(type(o).__name__ == "SGD" for o in self.optimizers.values()) else "adam"
        try:
            config = TrainConfig(dataset="points" if kind == "points" else "image-folder", model="mlp",
                                 loss=self.loss.name, optimizer=opt_name, k=int(k), g_steps=int(g_steps),
                                 batch_size=int(batch_size or 64), z_dim=min(4096, int(np.prod(zshape))), noise=noise,
                                 steps=int(steps), device=self.device.type,
                                 **{k_: v for k_, v in lrs.items() if 0 < v <= 10})
        except ConfigError as exc:
            raise WatchError(str(exc)) from None
        self._run = _Run(config, self.device)
        gen = torch.Generator().manual_seed(0)
        n = 64 if kind == "images" else 1024
        z = (torch.rand(n, *zshape, generator=gen) * 2 - 1 if noise == "uniform"
             else torch.randn(n, *zshape, generator=gen))
        self.fixed_z = z.to(self.device)
        self.views = SnapshotViews(self.static, self.fixed_z, real_x.to(self.device), self.loss.probability, to_unit)
        self.real = real_x
        self._range = value_range
        self.every = max(1, int(every))  # as asked; the writer's `every` is the spacing in force (it grows)
        #: the share of the loop's time the snapshots' work may take (None: no limit); over it, their spacing
        #: grows (budget.py)
        self.budget = None if budget is None else float(budget)
        self._iter_s: float | None = None  # seconds per iteration of the loop (a running mean)
        self.writer = RunWriter(path, self._run, every=self.every, max_snapshots=max_snapshots,
                                log_every=max(1, int(log_every)), snapshots=False, states=False, static=self.static,
                                budget=self.budget)
        self.path = self.writer.path
        self.writer.update_meta(watch={"generator": type(self.G).__name__, "discriminator": type(self.D).__name__,
                                       "script": os.path.basename(sys.argv[0] or ""),
                                       "note": "a loop watched with gan_studio.watch: config.dataset and "
                                               "config.model are placeholders for the script's own"})
        self.record_states = bool(states) and bool(self.optimizers)
        self._callbacks: list[Callable[[str, Any], bool]] = []
        self._reader = ControlReader(self.path) if control else None
        self.paused = False
        self.last_iteration = 0
        self._last_t = time.perf_counter()
        self._last_it = 0
        self._closed = False
        self._snap_due = True
        self.errors: list[str] = []
        # the doctor: statistics every log, the samples' metrics from each snapshot (fed back from the worker)
        self.doctor = None
        if doctor:
            from ..doctor.engine import Doctor

            self.doctor = Doctor(config.to_dict(), kind=kind)
        self._probes: queue.SimpleQueue = queue.SimpleQueue()
        self._image_ref = None
        # snapshots and states: copies of G and D the worker computes on (or the live ones, synchronously)
        self._shadow = None
        self._worker = None
        if background:
            try:
                self._shadow = (copy.deepcopy(self.G), copy.deepcopy(self.D))
                self._pairs = [(s, l) for sm, lm in ((self._shadow[0], self.G), (self._shadow[1], self.D))
                               for s, l in zip([*sm.parameters(), *sm.buffers()], [*lm.parameters(), *lm.buffers()])]
            except Exception:  # noqa: BLE001 - a network deepcopy cannot copy: compute on the live one
                self._shadow = None
        if self._shadow is not None:
            for m in self._shadow:
                m.requires_grad_(False)
            self._jobs: queue.Queue = queue.Queue()
            self._idle = threading.Event()
            self._idle.set()
            self._worker = threading.Thread(target=self._work, name="gan-studio-watch", daemon=True)
            self._worker.start()
        self._state_every: int | None = None
        self._since_state = 0

    # -- the user's API -------------------------------------------------------------------------------
    def log(self, iteration: int, d_loss=None, g_loss=None, d_real=None, d_fake=None, **extra) -> None:
        """Record iteration ``iteration`` (losses as numbers, D's raw outputs on this step's real and generated
        batches as tensors or their means); take a snapshot when one is due; obey the control file (a pause
        blocks here until resumed)."""
        if self._closed:
            return
        it = int(iteration)
        now = time.perf_counter()
        seconds = (now - self._last_t) / max(1, it - self._last_it)
        self._iter_s = seconds if self._iter_s is None else 0.9 * self._iter_s + 0.1 * seconds
        self._last_t, self._last_it = now, it
        self._run.iteration = it
        self.last_iteration = it
        self._record_stats(it, d_loss, g_loss, d_real, d_fake, seconds, extra)
        if self._snap_due or it % self.writer.every == 0:
            self._snap_due = False
            self._snapshot(it)
        self._feed_probes()
        if self._reader is not None:
            self._steer(self._reader.poll())
            while self.paused:
                time.sleep(0.05)  # Ctrl+C (KeyboardInterrupt) ends the wait and the loop
                self._steer(self._reader.poll(True))
            self._last_t = time.perf_counter()  # a pause is not training time

    def close(self) -> None:
        """The last snapshot (with a state), run.json's final settings; waits for the background writes."""
        if self._closed:
            return
        it = self._run.iteration
        if self._worker is not None:
            self._idle.wait()
        if not self.writer.index or self.writer.index[-1]["iteration"] < it:
            self._snapshot(it, force_state=True, wait=True)
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join()
        self._feed_probes()
        if self.doctor is not None:
            self.doctor.flush()
            self._report()
        self._closed = True
        self.writer.close(self._run)

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- statistics and the doctor --------------------------------------------------------------------
    def _record_stats(self, it, d_loss, g_loss, d_real, d_fake, seconds, extra) -> None:
        sig = self.loss.sigmoid

        def prob(v):  # a mean probability (sigmoid losses) or critic score, from D's raw outputs
            if isinstance(v, torch.Tensor):
                v = v.detach()
                return float((v.sigmoid() if sig else v).mean()) if v.numel() else math.nan
            return math.nan if v is None else float(v)

        cfg = self._run.config
        od, og = self.optimizers.get("d"), self.optimizers.get("g")
        batch = extra.get("batch_size") or (len(d_real) if isinstance(d_real, torch.Tensor) and d_real.ndim else
                                            cfg.batch_size)
        s = IterationStats(iteration=it, d_loss=_num(d_loss), g_loss=_num(g_loss), d_real=prob(d_real),
                           d_fake=prob(d_fake), seconds=seconds, d_steps=int(extra.get("k", cfg.k)),
                           g_steps=int(extra.get("g_steps", cfg.g_steps)),
                           lr_d=float(od.param_groups[0]["lr"]) if od is not None else cfg.lr_d,
                           lr_g=float(og.param_groups[0]["lr"]) if og is not None else cfg.lr_g, batch_size=int(batch),
                           g_grad_norm=_num(extra.get("g_grad_norm")), d_grad_norm=_num(extra.get("d_grad_norm")))
        try:
            self.writer.on_iteration(self._run, s)
        except (OSError, ValueError) as exc:
            self._error(f"could not write metrics in {self.path}: {exc}")
        if self.doctor is not None:
            self.doctor.feed_row(tuple(getattr(s, c) for c in STAT_COLUMNS))
            self._report()

    def _report(self) -> None:
        for f in self.doctor.new_findings():
            self._note(RunEvent.FINDING, **f.to_dict())

    def _feed_probes(self) -> None:
        while True:
            try:
                m = self._probes.get_nowait()
            except queue.Empty:
                return
            if self.doctor is not None:
                self.doctor.feed_metrics(m)

    def _note(self, event: str, **data) -> None:
        try:
            self.writer.note(self._run, event, **data)
        except (OSError, ValueError) as exc:
            self._error(f"could not write in {self.path}: {exc}")

    def _error(self, text: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(text)

    # -- snapshots and states -------------------------------------------------------------------------
    def _state_due(self, force: bool) -> bool:
        if not self.record_states:
            return False
        if force or self._state_every is None or self._since_state + 1 >= self._state_every:
            self._since_state = 0
            return True
        self._since_state += 1
        return False

    def _state_payload(self, it: int) -> dict:
        def clone(sd):
            return {k: (v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)) for k, v in sd.items()}

        return {"format": STATE_FORMAT, "version": 1, "iteration": it, "generator": clone(self.G.state_dict()),
                "discriminator": clone(self.D.state_dict()),
                "optimizers": {k: copy.deepcopy(o.state_dict()) for k, o in self.optimizers.items()},
                "config": self._run.config.to_dict()}

    def _snapshot(self, it: int, force_state: bool = False, wait: bool = False) -> bool:
        """Take the snapshot of ``it``. While the worker still writes the previous one, the caller waits (only
        when a snapshot takes longer than ``every`` iterations of the loop: the record keeps its spacing)."""
        if self._worker is not None and not self._idle.is_set():
            self._idle.wait()
        state = self._state_payload(it) if self._state_due(force_state) else None
        if self._worker is None:
            t0 = time.perf_counter()
            self._write_snapshot(it, self.G, self.D, state)
            self._keep_budget(time.perf_counter() - t0)
            return True
        with torch.no_grad():
            for s, l in self._pairs:
                s.copy_(l)
        self._idle.clear()
        self._jobs.put((it, state))
        if wait:
            self._idle.wait()
        return True

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                t0 = time.perf_counter()
                self._write_snapshot(job[0], self._shadow[0], self._shadow[1], job[1])
                self._keep_budget(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - the user's loop must go on
                self._error(f"could not record the snapshot of iteration {job[0]}: {exc}")
            finally:
                self._idle.set()

    def _keep_budget(self, cost: float) -> None:
        """The writer's rule (:meth:`RunWriter.keep_budget`), against the loop's own time per iteration (measured
        at its logs)."""
        if self._iter_s is not None:
            self.writer.keep_budget(cost, self._iter_s)

    def _write_snapshot(self, it: int, G, D, state: dict | None) -> None:
        from .states import STATES_DIR, spacing, state_name
        from .runfolder import RunFolderError

        if state is not None:
            buf = io.BytesIO()
            torch.save(state, buf)
            data = buf.getvalue()
            try:
                (self.path / STATES_DIR).mkdir(exist_ok=True)
                from ..atomic import atomic_write_bytes

                atomic_write_bytes(self.path / STATES_DIR / state_name(it), data)
                if self._state_every is None or len(data) > self.writer.state_bytes:
                    self.writer.state_bytes = len(data)
                    self._state_every = spacing(len(data), self.writer.max_snapshots)
                    self.writer.update_meta(states={"every_snapshots": self._state_every, "bytes": len(data),
                                                    "format": STATE_FORMAT})
            except (OSError, RunFolderError, Exception) as exc:  # noqa: BLE001
                self._error(f"could not record a training state in {self.path}: {exc}")
        views = self.views.compute(G, D)
        self.writer.add_snapshot(it, views)
        if self.writer.last_error:
            self._error(self.writer.last_error)
        if self.doctor is not None:
            self._probes.put(self._probe(it, views))

    def _probe(self, it: int, views: dict) -> dict:
        from ..doctor.probes import ImageReference, folder_point_metrics

        st = self.static
        if st.kind == "points":
            m = folder_point_metrics(views["samples"], st)
        else:
            if self._image_ref is None:
                ref = self.real[:2000]
                lo, hi = _value_range(self.real, self._range)
                self._image_ref = ImageReference(((ref - lo) / (hi - lo)).clamp(0, 1), None)
            m = self._image_ref.metrics(views["samples"])
        m["iteration"] = it
        return m


class NullWatch:
    """What :func:`watch` returns on a rank other than 0: every method does nothing."""

    paused = False
    path = None

    def on_change(self, fn):
        return fn

    def log(self, *a, **k) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def load_state(run_dir: str | os.PathLike, iteration: int | None = None, map_location="cpu") -> dict:
    """A watched run's training state (the newest, or the one at ``iteration``), read safely (``weights_only``):
    ``{"iteration", "generator", "discriminator", "optimizers": {"d", "g"}, "config"}`` — load them into your own
    networks and optimisers with ``load_state_dict`` to continue."""
    from .states import available_states, state_path

    have = available_states(run_dir)
    if not have:
        raise WatchError(f"{run_dir} keeps no training states (watch() records them when given optimizers)")
    path = state_path(run_dir, have[-1] if iteration is None else int(iteration))
    from ..train.sizes import check_torch_archive

    try:
        check_torch_archive(path, map_location)  # sizes first, from the zip directory
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: one line
        raise WatchError(f"{path} cannot be read as a training state ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise WatchError(f"{path} is not a state written by gan_studio.watch")
    return data


def watch(path: str | os.PathLike, generator, discriminator, *, z_dim, real, optimizers: dict | None = None,
          loss: str = "nonsaturating", every: int = 50, log_every: int = 1, **options) -> Watch | NullWatch:
    """Watch a plain PyTorch GAN loop: write a run folder at ``path`` that ``gan-studio open --follow``,
    ``doctor --follow``, ``metrics`` and ``gif`` read while it grows, and obey ``gan-studio control``.

    ``real``: the real data — a tensor or array (N×d points, N×C×H×W images), a Dataset, a DataLoader, or a
    function returning a batch. ``optimizers``: ``{"d": opt_d, "g": opt_g}`` (their learning rates become
    steerable, and training states are recorded). ``loss``: the loss's name (how D's raw outputs read:
    sigmoid probabilities for the BCE losses). ``every``: iterations between snapshots; ``log_every``: between
    metrics lines. Options: ``steps`` (the planned total), ``name``, ``description``, ``noise`` ("normal" or
    "uniform"), ``value_range`` (images: (low, high) of the data), ``centers``/``sigma`` (a mixture's modes,
    for mode coverage), ``states``, ``doctor``, ``control``, ``background`` (False: snapshots on the caller's
    thread), ``k``, ``g_steps``, ``batch_size`` (as recorded), ``budget`` (the share of the loop's time the
    snapshots may take, 0.02: beyond it their spacing grows to a round number; None: exactly every ``every``).
    On a rank other than 0 returns a :class:`NullWatch`."""
    if _rank() != 0:
        return NullWatch()
    return Watch(path, generator, discriminator, z_dim=z_dim, real=real, optimizers=optimizers, loss=loss,
                 every=every, log_every=log_every, **options)


__all__ = ["Watch", "NullWatch", "WatchError", "watch", "load_state", "STATE_FORMAT"]
