"""A fuzzer for the files GAN Studio reads: start from genuine run folders, checkpoints and points files,
mutate them (types, NaN/Inf, huge and zero shapes, missing and extra keys and files, truncation, nesting,
symlinks out of the folder, pickles that would run code), run the commands a user would run on them, and
check the promises: exit status 0 or 2, at most one line on stderr, no traceback, no hang, nothing written
outside ``--out``, nothing executed.

Shared by tests/test_fuzz.py (a few hundred cases in CI) and benchmarks/fuzz.py (10,000+).
Commands run in-process (``gan_studio.cli.run_cli``) so that thousands of cases fit in minutes; the
studio (``open --exit-after``) runs as a real process on a sample of the cases.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HANG_S = 60.0  # CPU seconds (the process's own: a loaded machine stretches wall time, not this)
WAIT_FACTOR = 10  # a command blocked without using the CPU (a FIFO, a lock) is hung after HANG_S x this, wall time
#: the slow end of what one loaded CPU core does (FLOP/s), and what one optimiser step costs besides (s): a
#: command that runs past HANG_S is excused only when the training it was asked for needs longer than that
#: at these rates (see :func:`requested_training_s`)
FLOOR_FLOPS, STEP_OVERHEAD_S = 2e9, 1e-3
MARKER = "/tmp/gan-studio-fuzz-EXECUTED"  # a planted pickle would create this file if it ran


# ------------------------------------------------------------------------------------------ genuine files
def make_genuine(folder: Path) -> dict[str, Path]:
    """A genuine run folder (with checkpoint), a generator export and a points file."""
    from gan_studio.cli import run_cli

    folder.mkdir(parents=True, exist_ok=True)
    run = folder / "run"
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        code = run_cli(["train", "--preset", "ring8", "--steps", "120", "--seed", "3", "--out", str(run), "--quiet"])
        assert code == 0, "could not make a genuine run folder"
        code = run_cli(["export", str(run / "checkpoint.pt"), "--out", str(folder / "g.safetensors")])
        assert code == 0
    pts = folder / "points.npy"
    np.save(pts, np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32))
    return {"run": run, "checkpoint": run / "checkpoint.pt", "generator": folder / "g.safetensors", "points": pts}


# ------------------------------------------------------------------------------------------ values
WEIRD_NUMBERS = [0, -1, 1, 2**31, 2**63, -2**63, 10**30, 1e999, -1e999, float("nan"), 1e-320, 0.5, -0.0, True]


def weird_value(rng: random.Random, depth: int = 0):
    k = rng.randrange(12)
    if k == 0:
        return rng.choice(WEIRD_NUMBERS)
    if k == 1:
        return rng.choice(["", "abc", "nan", "Infinity", "../../etc/passwd", "/usr/share", "x" * 5000, "é\u0000"])
    if k == 2:
        return None
    if k == 3 and depth < 3:
        return [weird_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if k == 4 and depth < 3:
        return {rng.choice(["a", "iteration", "file", "loss", "k"]): weird_value(rng, depth + 1)
                for _ in range(rng.randrange(3))}
    if k == 5:  # deep nesting
        v: object = 1
        for _ in range(rng.choice([40, 200, 3000])):
            v = [v]
        return v
    if k == 6:
        return rng.uniform(-1e6, 1e6)
    if k == 7:
        return rng.randrange(-5, 10**6)
    if k == 8:
        return rng.choice([True, False])
    return rng.choice(WEIRD_NUMBERS + [None, "abc", []])


def weird_array(rng: random.Random) -> np.ndarray:
    shape = rng.choice([(), (0,), (5,), (0, 2), (3, 0), (7, 2), (2, 3, 4), (64, 1, 8, 8), (1, 1, 1, 1, 1), (100, 100)])
    kind = rng.randrange(9)
    if kind == 0:
        return np.zeros(shape, np.complex64)
    if kind == 1:
        return np.zeros(shape, "m8[s]")
    if kind == 2:
        return np.array(["a"] * int(np.prod(shape))).reshape(shape) if shape else np.array("a")
    if kind == 3:
        return np.full(shape, np.nan, np.float32)
    if kind == 4:
        return np.full(shape, 1e300, np.float64)
    if kind == 5:
        return np.ones(shape, bool)
    if kind == 6:
        return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    return np.random.default_rng(rng.randrange(1000)).normal(size=shape).astype(np.float32)


# ------------------------------------------------------------------------------------------ mutations
def _json_paths(v, prefix=()):
    yield prefix
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _json_paths(x, prefix + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v[:5]):
            yield from _json_paths(x, prefix + (i,))


def _set_path(v, path, new):
    if not path:
        return new
    cur = v
    for p in path[:-1]:
        cur = cur[p]
    if new is _DELETE:
        if isinstance(cur, dict):
            cur.pop(path[-1], None)
        else:
            del cur[path[-1]]
    else:
        cur[path[-1]] = new
    return v


_DELETE = object()


def mutate_json_text(text: str, rng: random.Random) -> str:
    try:
        v = json.loads(text)
    except ValueError:
        return text[: rng.randrange(len(text) + 1)]
    paths = list(_json_paths(v))
    path = rng.choice(paths)
    new = _DELETE if (path and rng.random() < 0.2) else weird_value(rng)
    try:
        v = _set_path(v, path, new)
        return json.dumps(v)  # NaN/Infinity literals on purpose
    except (RecursionError, ValueError, TypeError, KeyError, IndexError):
        return "[" * 100000


def mutate_npz(path: Path, rng) -> None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - already broken: truncate further
        path.write_bytes(path.read_bytes()[: rng.randrange(64)])
        return
    op = rng.randrange(4)
    keys = list(arrays)
    if op == 0 and keys:
        arrays[rng.choice(keys)] = weird_array(rng)
    elif op == 1 and keys:
        arrays.pop(rng.choice(keys))
    elif op == 2:
        arrays[rng.choice(["extra", "field.d", "samples", "real"])] = weird_array(rng)
    else:
        with open(path, "r+b") as f:
            f.truncate(rng.randrange(max(1, path.stat().st_size)))
        return
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def mutate_file(path: Path, rng: random.Random, outside: Path) -> str:
    """One mutation of one file; returns a description."""
    op = rng.randrange(10)
    if op == 0:
        path.unlink()
        return f"deleted {path.name}"
    if op == 1:
        data = path.read_bytes()
        path.write_bytes(data[: rng.randrange(len(data) + 1)])
        return f"truncated {path.name}"
    if op == 2:
        path.unlink()
        target = rng.choice([outside, Path("/etc/passwd"), Path("/dev/zero"), path.parent / "missing"])
        path.symlink_to(target)
        return f"{path.name} → symlink to {target}"
    if op == 3:
        path.unlink()
        path.mkdir()
        return f"{path.name} replaced by a folder"
    if path.suffix == ".npz":
        mutate_npz(path, rng)
        return f"mutated arrays in {path.name}"
    if path.suffix in (".json", ".jsonl"):
        text = path.read_text(errors="replace")
        if path.suffix == ".jsonl":
            lines = text.splitlines() or ["{}"]
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines[i] = mutate_json_text(lines[i], rng)
            else:
                try:
                    lines.append(json.dumps({"iteration": weird_value(rng), "file": weird_value(rng),
                                             rng.choice(["d_loss", "event", "modes_covered"]): weird_value(rng)}))
                except RecursionError:  # a value nested deeper than json.dumps goes: write the nesting itself
                    lines.append('{"iteration": ' + "[" * 100000)
            path.write_text("\n".join(lines) + ("\n" if rng.random() < 0.5 else ""))
        else:
            path.write_text(mutate_json_text(text, rng))
        return f"mutated JSON in {path.name}"
    data = bytearray(path.read_bytes())
    for _ in range(rng.randrange(1, 16)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))
    return f"flipped bytes in {path.name}"


def mutate_run_folder(run: Path, rng: random.Random, outside: Path) -> list[str]:
    files = sorted(p for p in run.rglob("*") if p.is_file() and not p.is_symlink() and p.suffix != ".pt")
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        files = [p for p in files if p.exists() and p.is_file() and not p.is_symlink()]
        if not files:
            break
        done.append(mutate_file(rng.choice(files), rng, outside))
    if rng.random() < 0.05:
        (run / "snapshots" / "extra.npz").write_bytes(b"PK\x03\x04 not a zip")
        done.append("extra broken npz")
    return done


def mutate_checkpoint(path: Path, rng: random.Random) -> str:
    import torch

    op = rng.randrange(8)
    if op == 0:
        data = path.read_bytes()
        path.write_bytes(data[: rng.randrange(len(data))])
        return "truncated checkpoint"
    if op == 1:  # a pickle that would run code if it were ever unpickled unsafely
        import pickle

        class Evil:
            def __reduce__(self):
                return (os.system, (f"touch {MARKER}",))

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("archive/data.pkl", pickle.dumps({"format": "gan-studio/checkpoint", "x": Evil()}))
            z.writestr("archive/version", "3\n")
        path.write_bytes(buf.getvalue())
        return "malicious pickle"
    st = torch.load(path, weights_only=True)
    keys = list(st)
    key = rng.choice(keys)
    what = rng.randrange(5)
    if what == 0:
        st.pop(key)
        desc = f"removed {key}"
    elif what == 1 and isinstance(st[key], dict) and st[key]:
        sub = rng.choice(list(st[key]))
        st[key][sub] = _weird_tensor_or_value(rng)
        desc = f"{key}.{sub} replaced"
    elif what == 2 and key in ("G", "D"):
        sub = rng.choice(list(st[key]))
        t = st[key][sub]
        st[key][sub] = torch.full_like(t, float("nan")) if rng.random() < 0.5 else torch.zeros(3, 3)
        desc = f"{key}.{sub} NaN or wrong shape"
    elif what == 3 and key == "config":
        ck = rng.choice(list(st["config"]))
        st["config"][ck] = weird_value(rng) if rng.random() < 0.7 else rng.choice(
            [{"root": "/tmp/gan-studio-fuzz-planted-root"}, {"path": "/usr/share"}])
        if rng.random() < 0.3:
            st["config"]["dataset"] = rng.choice(["mnist", "image-folder", "points", "cifar10"])
        desc = f"config.{ck} replaced"
    else:
        st[key] = _weird_tensor_or_value(rng)
        desc = f"{key} replaced"
    try:
        torch.save(st, path)
    except (RecursionError, RuntimeError, TypeError, ValueError):  # nested deeper than pickle goes
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
        desc += " (then unsavable: junk written)"
    return desc


def _weird_tensor_or_value(rng: random.Random):
    import torch

    if rng.random() < 0.5:
        a = weird_array(rng)
        if a.dtype.kind in "biuf":
            return torch.as_tensor(a)
    return weird_value(rng) if rng.random() < 0.8 else [1, "a", None]


def mutate_points(path: Path, rng: random.Random) -> str:
    if rng.random() < 0.7:
        a = weird_array(rng)
        with open(path, "wb") as f:
            np.save(f, a, allow_pickle=False) if a.dtype.kind != "O" else f.write(b"junk")
        return f"points {a.dtype} {a.shape}"
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(len(data))])
    return "truncated points"


# ------------------------------------------------------------------------------------------ running
@dataclass
class Outcome:
    argv: list
    code: int | None
    stderr: str
    problems: list = field(default_factory=list)
    slow: str = ""  # excused: ran past the hang limit training what it was legitimately asked for


def _tree(root: Path) -> set:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + dirnames:
            out.add(os.path.join(dirpath, n))
    return out


def requested_training_s(tb, iterations: int | None) -> float | None:
    """How long the training a command was asked for takes at the slow-end rates, when the alarm landed
    inside a trainer (every file was read and checked, the networks built); None when it did not.

    The rule (issue 26): a shared file may legitimately ask for a big model (within the memory check,
    core/train/sizes.py) or many steps per iteration; training it is slow, not hung. Work per iteration =
    6 x parameters x batch FLOPs for each of its k + g_steps x (1 + unroll) optimiser steps."""
    from gan_studio.core.train import sizes
    from gan_studio.core.train.trainer import Trainer

    if iterations is None:
        return None
    trainer = None
    while tb is not None:
        for v in (tb.tb_frame.f_locals.get("self"), tb.tb_frame.f_locals.get("trainer")):
            if isinstance(v, Trainer):
                trainer = v
        tb = tb.tb_next
    if trainer is None:
        return None
    cfg = trainer.config
    try:
        if getattr(trainer, "G", None) is not None and getattr(trainer, "D", None) is not None:
            n = sum(p.numel() for m in (trainer.G, trainer.D) for p in m.parameters())
        else:
            n = sizes.parameter_count(cfg, trainer.dataset.shape, trainer.dataset.n_classes)
    except Exception:  # noqa: BLE001 - cannot count: no excuse
        return None
    steps = cfg.k + cfg.g_steps * (1 + cfg.unroll)
    return iterations * steps * (STEP_OVERHEAD_S + 6 * n * cfg.batch_size / FLOOR_FLOPS)


def run_in_process(argv: list, watch: list[Path], allowed: list[Path], hang_s: float = HANG_S,
                   iterations: int | None = None) -> Outcome:
    """Run one CLI command in this process; check exit status, stderr, hangs and stray files.
    Hung: more than ``hang_s`` of this process's CPU time (a busy loop; CPU time, because on a shared,
    loaded machine the same work takes many times longer on the clock), or ``hang_s * WAIT_FACTOR`` on the
    clock (blocked). ``iterations``: how many training iterations the command asks for (for the slow-not-hung
    rule, :func:`requested_training_s`)."""
    from gan_studio.cli import run_cli

    import signal

    before = {w: _tree(w) for w in watch}
    err, out = io.StringIO(), io.StringIO()

    class _Hang(BaseException):
        pass

    def alarm(signum, frame):
        raise _Hang(signum)

    old = signal.signal(signal.SIGALRM, alarm), signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, hang_s)
    signal.setitimer(signal.ITIMER_REAL, hang_s * WAIT_FACTOR)
    hung, need, how = False, None, ""
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = run_cli([str(a) for a in argv])
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            except _Hang:
                raise
            except BaseException as exc:  # noqa: BLE001 - that is the finding
                import traceback

                code = 1
                err.write("Traceback (most recent call last):\n" + "".join(traceback.format_exception(exc)))
    except _Hang as exc:
        hung, code = True, None
        how = (f"used more than {hang_s:.0f} s of CPU" if exc.args and exc.args[0] == signal.SIGPROF
               else f"blocked for more than {hang_s * WAIT_FACTOR:.0f} s")
        need = requested_training_s(exc.__traceback__, iterations)
        del exc
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old[0])
        signal.signal(signal.SIGPROF, old[1])
    o = Outcome(argv, code, err.getvalue())
    if hung:
        if need is not None and need > hang_s:
            o.slow = f"training asked for needs ~{need:.0f} s at the slow-end rates: slow, not hung"
        else:
            o.problems.append(f"hung: {how}")
        return o
    check_outcome(o)
    for w in watch:
        new = _tree(w) - before[w]
        stray = [n for n in new if not any(n == str(a) or n.startswith(str(a) + os.sep) for a in allowed)]
        if stray:
            o.problems.append(f"wrote outside --out: {sorted(stray)[:3]}")
    if os.path.exists(MARKER):
        o.problems.append("a planted pickle was executed")
    return o


def check_outcome(o: Outcome) -> None:
    lines = [ln for ln in o.stderr.splitlines() if ln.strip()]
    allowed = (0, 2, 3) if "train" in map(str, o.argv[:2]) else (0, 2)  # 3: train's documented "diverged"
    if o.code not in allowed:
        o.problems.append(f"exit status {o.code}")
    if "Traceback" in o.stderr or "Exception ignored" in o.stderr:
        o.problems.append("traceback on stderr")
    if len(lines) > 2:  # one error line (plus at most one warning about skipped damaged lines)
        o.problems.append(f"{len(lines)} lines on stderr")


def run_studio_open(run: Path, timeout: float = 90) -> Outcome:
    argv = [sys.executable, "-m", "gan_studio", "open", str(run), "--exit-after", "2"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return Outcome(argv, None, "", [f"studio hung for more than {timeout:.0f} s"])
    o = Outcome(argv, p.returncode, "\n".join(ln for ln in p.stderr.splitlines()
                                              if "propagateSizeHints" not in ln))
    check_outcome(o)
    return o


class DrawRandom:
    """The ``random.Random`` calls the mutations make, answered by hypothesis draws (so a failing case
    shrinks to a small one, and CI runs a fixed, reproducible set)."""

    def __init__(self, data) -> None:
        self.data = data

    def randrange(self, a: int, b: int | None = None) -> int:
        from hypothesis import strategies as st

        lo, hi = (0, a) if b is None else (a, b)
        return self.data.draw(st.integers(lo, hi - 1))

    def choice(self, seq):
        return seq[self.randrange(len(seq))]

    def random(self) -> float:
        from hypothesis import strategies as st

        return self.data.draw(st.floats(0, 1, exclude_max=True))

    def uniform(self, a: float, b: float) -> float:
        from hypothesis import strategies as st

        return self.data.draw(st.floats(a, b))


def fuzz_case(genuine: dict, work: Path, rng, studio: bool = False, tag: str = "0") -> list[Outcome]:
    """One generated case: copy the genuine files, mutate one kind, run the commands that read it.
    ``rng`` is a ``random.Random`` (benchmark) or a :class:`DrawRandom` (hypothesis)."""
    import fuzz_shared  # the shared-file and --out cases (issue 26)

    case = work / f"case-{tag}"
    if case.exists():
        shutil.rmtree(case)
    case.mkdir(parents=True)
    outside = work / "outside-secret.txt"
    outside.write_text("not for you")
    out = case / "out"
    out.mkdir()
    kind = rng.choice(["run", "run", "checkpoint", "checkpoint", "generator", "points", *fuzz_shared.KINDS])
    outcomes = []
    watch = [case, Path.cwd()]
    if kind in fuzz_shared.KINDS:  # recipes, their one-line form, states, lying .npy headers, --out targets
        outcomes, desc = fuzz_shared.shared_case(kind, genuine, case, out, rng, watch, outside)
    elif kind == "run":
        run = case / "run"
        shutil.copytree(genuine["run"], run, symlinks=True)
        (run / "checkpoint.pt").unlink(missing_ok=True)
        desc = mutate_run_folder(run, rng, outside)
        allowed = [out]
        for argv in (["gif", run, "--out", out / "f.gif", "--max-frames", "4"],
                     ["gif", run, "--view", "samples", "--out", out / "s.gif", "--max-frames", "4"],
                     ["metrics", run, "--out", out / "m.csv"]):
            outcomes.append(run_in_process(argv, watch, allowed))
        if studio:
            outcomes.append(run_studio_open(run))
    elif kind == "checkpoint":
        ck = case / "c.pt"
        shutil.copy(genuine["checkpoint"], ck)
        desc = [mutate_checkpoint(ck, rng)]
        allowed = [out]
        for argv in (["sample", ck, "--n", "16", "--out", out / "s.npy"],
                     ["export", ck, "--out", out / "g.safetensors"],
                     ["eval", ck, "--n", "200", "--json"],
                     ["train", "--resume", ck, "--steps", "125", "--out", out / "resumed", "--quiet"]):
            outcomes.append(run_in_process(argv, watch, allowed, iterations=5))
        planted = Path("/tmp/gan-studio-fuzz-planted-root")
        if planted.exists():
            outcomes[-1].problems.append("a dataset root named in the checkpoint was created")
            shutil.rmtree(planted, ignore_errors=True)
    elif kind == "generator":
        g = case / "g.safetensors"
        shutil.copy(genuine["generator"], g)
        js = Path(str(genuine["generator"]) + ".json") if Path(str(genuine["generator"]) + ".json").exists() else \
            genuine["generator"].with_suffix(".json")
        if js.exists():
            shutil.copy(js, case / js.name.replace(genuine["generator"].stem, "g"))
        target = rng.choice([g] + [p for p in case.glob("g*.json")])
        desc = [mutate_file(target, rng, outside)]
        allowed = [out]
        outcomes.append(run_in_process(["eval", g, "--n", "100", "--json"], watch, allowed))
    else:
        pts = case / "p.npy"
        shutil.copy(genuine["points"], pts)
        desc = [mutate_points(pts, rng)]
        allowed = [out]
        for argv in (["train", "--dataset", "points", "--dataset-arg", f"path={pts}", "--steps", "3",
                      "--out", out / "r", "--quiet"],
                     ["parzen", pts, "--test", genuine["points"], "--quiet"],
                     ["eval", pts, "--dataset", "ring8", "--json"]):
            outcomes.append(run_in_process(argv, watch, allowed, iterations=3))
    for o in outcomes:
        o.argv = [f"[{kind}: {'; '.join(desc)}]"] + [str(a) for a in o.argv]
    shutil.rmtree(case, ignore_errors=True)
    return outcomes
