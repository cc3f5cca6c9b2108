"""How GAN Studio starts its processes -- the studio's training process, the views helper, an evaluation: one
rule, here.

On Linux they are forked from a *fork server* that has imported torch, numpy and the training code once: a
process started after the first one begins in a fraction of a second instead of importing torch again (~2 s
of a core), so switching presets, restarting a run, Evaluate and the helper start quickly. The server is a
fresh interpreter (never a fork of the window's process, which has Qt, threads or CUDA) that only imports;
its processes get the parent's environment, working folder and import path of the moment they are started,
as a spawned process would (:func:`process`). Elsewhere (macOS, Windows), and with
``GAN_STUDIO_FORKSERVER=0``, every process is spawned: a fresh interpreter importing everything itself.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading

#: what the fork server imports once, for every process it starts (nothing here reads the environment when
#: imported: a process started later sees the environment of that moment). ``torch._dynamo``: torch imports it
#: when the first optimiser is built (``Optimizer.add_param_group`` is wrapped by ``torch._disable_dynamo``),
#: ~1.5 s of every training process's start
PRELOAD = ("torch", "numpy", "torch._dynamo", "gan_studio.core.live.process_run", "gan_studio.core.live.views_process",
           "gan_studio.core.train.trainer", "gan_studio.core.views.views")

_context = None
_warm: threading.Event | None = None  # set once the fork server has started a process (its imports are done)
_warm_lock = threading.Lock()


def forkserver_enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("GAN_STUDIO_FORKSERVER", "").strip() != "0"


def context():
    """The multiprocessing context every GAN Studio process is started from (queues, pipes, events too)."""
    global _context
    if _context is None:
        if forkserver_enabled():
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(list(PRELOAD))
        else:
            ctx = mp.get_context("spawn")
        _context = ctx
    return _context


def process(target, args: tuple = (), *, name: str, daemon: bool = True):
    """A process (not started) that runs ``target(*args)`` with this process's environment, working folder and
    import path as they are now."""
    here = (dict(os.environ), os.getcwd(), list(sys.path))
    return context().Process(target=_run_as_started, args=(here, target, args), name=name, daemon=daemon)


def _run_as_started(here, target, args) -> None:
    env, cwd, path = here
    os.environ.clear()
    os.environ.update(env)
    try:
        os.chdir(cwd)
    except OSError:  # the folder went away meanwhile: the process starts in the server's
        pass
    sys.path[:] = path
    target(*args)


def warm_up() -> None:
    """Have the fork server start now, in the background: the first process it starts waits for its imports
    (~3 s), so a thread that must not wait that long (a training thread) starts one once :func:`ready`."""
    global _warm
    with _warm_lock:
        if _warm is not None or not forkserver_enabled():
            return
        _warm = threading.Event()
    threading.Thread(target=_warm_server, args=(_warm,), name="forkserver-warm-up", daemon=True).start()


def ready() -> bool:
    """Whether a process starts without waiting for the fork server's imports (always, when spawning)."""
    return not forkserver_enabled() or (_warm is not None and _warm.is_set())


def _warm_server(done: threading.Event) -> None:
    try:
        p = context().Process(target=_nothing, name="gan-studio-warm-up", daemon=True)
        p.start()
        p.join(120)
    except Exception:  # noqa: BLE001 - a process started later says what is wrong
        pass
    finally:
        done.set()


def _nothing() -> None:
    pass


#: bytes a one-way pipe from a training process holds before its writer waits (Linux: 64 KiB by default, about
#: two snapshots with pictures: a writer whose reader was late -- the window painting -- waited for it)
PIPE_BYTES = 1 << 20


def pipe(ctx=None):
    """A one-way pipe ``(receiving end, sending end)`` from :func:`context` whose sender rarely waits: on Linux
    its buffer is :data:`PIPE_BYTES` (as much as the system allows an unprivileged process; elsewhere, as is)."""
    recv, send = (ctx or context()).Pipe(duplex=False)
    if sys.platform.startswith("linux"):
        import fcntl

        try:
            fcntl.fcntl(recv.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (OSError, AttributeError):  # above /proc/sys/fs/pipe-max-size, or too many pipes: the default
            pass
    return recv, send
