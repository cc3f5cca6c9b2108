import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the studio's settings must never touch the real user's: tests point them at a throwaway folder
os.environ["GAN_STUDIO_CONFIG_DIR"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"gan-studio-tests-{os.getpid()}")
# ... and cached evaluation classifiers go to a throwaway folder too
os.environ["GAN_STUDIO_CACHE"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"gan-studio-tests-cache-{os.getpid()}")

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _one_thread_torch():
    """Tests use tiny networks; one intra-op thread is both faster and steadier on a 2-core runner."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _no_thread_outlives_its_test():
    """A run's threads (writers, GIF frames, views) end with the run: a test that leaves one behind fails
    itself, instead of a later test that counts threads (in-process CLI runs share this process)."""
    import threading
    import time

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive() and t.name.startswith("gan-studio")]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"threads left running after the test: {sorted(t.name for t in left)}"


@pytest.fixture
def mnist_root():
    if not (SHARED_MNIST / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/data/mnist is not beside this checkout")
    return str(SHARED_MNIST)


#: A window's first run is ready within this (a training process imports torch and builds the networks).
LOAD_MS = 90_000


#: the Speed slider of the test windows (iterations a second): what a window test checks comes at the display's
#: rate, and a run at full speed would spend a core on iterations nobody looks at (``speed=None``: no limit;
#: ``speed=REMEMBERED``: what the window's settings remember, as a user reopening the studio gets)
WINDOW_SPEED = 100
REMEMBERED = "remembered"


def make_window(qtbot, tmp_path, preset="ring8", autoplay=False, *, process=False, size=(1280, 800), wait=True,
                speed=WINDOW_SPEED, **kw):
    """The studio window on ``preset``, shown offscreen and started; returns once its first run is drawn
    (``wait``). ``process=False`` trains in a thread of this process (GAN_STUDIO_THREAD_WORKER=1: the same
    run loop without a fresh interpreter importing torch per window), for tests about the window and what it
    does with a run; ``process=True`` uses the studio's real training process (its default), for tests about
    that process.
    ``speed``: the Speed slider, as a user sets it (iterations a second; None: as fast as possible).
    Keyword arguments go to :class:`StudioWindow`; ``confirm_reset`` to its run manager."""
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    from gan_studio.core.live.handles import ThreadRun
    from gan_studio.core.live.process_run import ProcessRun

    confirm = kw.pop("confirm_reset", None)
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset=preset, autoplay=autoplay, **kw)
    w.run_class = ProcessRun if process else ThreadRun  # chosen before the first run starts
    qtbot.addWidget(w)
    if confirm is not None:
        w.confirm_reset = confirm
    w.resize(*size)
    if speed != REMEMBERED:
        w.controls.set_speed(speed)
    w.show()
    if wait:
        with qtbot.waitSignal(w.controller.snapshotChanged, timeout=LOAD_MS):  # drawn: static and snapshot known
            w.start()
        assert w.static is not None and w.snapshot is not None
    else:
        w.start()
    return w


@pytest.fixture
def studio(qtbot, tmp_path):
    """A factory of studio windows (:func:`make_window`), each closed at the end of the test."""
    made = []

    def factory(*a, **kw):
        w = make_window(qtbot, tmp_path, *a, **kw)
        made.append(w)
        return w

    yield factory
    for w in made:
        w.close()


#: Commands that open the studio window: these run as a separate process (a window, its own QApplication).
_WINDOW_COMMANDS = {"open", "compare"}


def _opens_a_window(argv: list[str]) -> bool:
    from gan_studio.cli import commands

    if not argv or argv[0].startswith("-") or argv[0] in _WINDOW_COMMANDS:
        return True
    return argv[0] not in {c.NAME for c in commands()}  # gan-studio RECIPE.json opens the studio


def run_cli_process(*args, check=False, timeout=300, env=None):
    """Run ``gan-studio`` as a user would (a separate process); return the CompletedProcess. For tests of the
    process itself (its exit status, signals, a crash kept out of the window) and of the window's launch."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "gan_studio", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f"gan-studio {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
    return p


def run_cli(*args, check=False, timeout=300, env=None, process=None):
    """``gan-studio ARGS``: its exit status, stdout and stderr (a CompletedProcess). A command runs in this
    process through the entry point's ``main(argv)`` -- the same parser, commands and error handling as the
    real ``python -m gan_studio``, without importing torch afresh for every call -- unless it opens the studio
    window or ``process=True``, which run it as a separate process (:func:`run_cli_process`).

    In this process: ``env`` is set in ``os.environ`` for the call; an uncaught exception becomes exit status 1
    with its traceback on stderr, as Python's would; warnings the process would print go to stderr."""
    argv = [str(a) for a in args]
    if process or (process is None and _opens_a_window(argv)):
        return run_cli_process(*argv, check=check, timeout=timeout, env=env)
    import contextlib
    import io
    import signal
    import traceback
    import warnings

    from gan_studio.__main__ import main

    saved_env = {k: os.environ.get(k) for k in (env or {})}
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    os.environ.update({k: str(v) for k, v in (env or {}).items()})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # Python's own defaults, as the process would show them
            for quiet in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.filterwarnings("ignore", category=quiet)
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors and --help
                code = exc.code
                if isinstance(code, str):
                    print(code, file=sys.stderr)
                    code = 1
            except Exception:  # a traceback escaped main(): the process would print it and exit 1
                traceback.print_exc()
                code = 1
            for w in caught:
                err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for s, h in saved_signals.items():
            signal.signal(s, h)
    p = subprocess.CompletedProcess(["gan-studio", *argv], 0 if code is None else code, out.getvalue(),
                                    err.getvalue())
    if check and p.returncode != 0:
        raise AssertionError(f"gan-studio {' '.join(argv)} failed ({p.returncode}):\n{p.stderr}")
    return p


# Where the suite's CPU time goes: one JSON line per test. "children" counts the processes this one started
# and reaped, not those forked by the fork server (core/live/processes.py: they are the server's children);
# a suite's whole CPU time, every descendant counted, is a cgroup's (cpuacct.usage), as its figures were taken.
if os.environ.get("GAN_STUDIO_TEST_CPU"):
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        import json
        import resource
        import time

        def cpu():
            s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime

        (s0, c0), w0 = cpu(), time.perf_counter()
        yield
        (s1, c1), w1 = cpu(), time.perf_counter()
        with open(os.environ["GAN_STUDIO_TEST_CPU"], "a", encoding="utf-8") as f:
            f.write(json.dumps({"test": item.nodeid, "cpu": round(s1 - s0, 2), "children": round(c1 - c0, 2),
                                "wall": round(w1 - w0, 2)}) + "\n")
