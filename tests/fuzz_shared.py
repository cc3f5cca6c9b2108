"""The fuzzer's cases for shared files and --out targets (issue 26), used by :func:`fuzzlib.fuzz_case`:
mutated recipes (the file and the one-line form), mutated training states continued with ``--branch``,
points files whose header lies about their size, and ``--out`` targets that already hold something.

Besides fuzzlib's promises (exit 0 or 2, one line, no traceback, no hang, nothing written outside the
allowed places, nothing executed), these check that nothing already there changed: a run folder, a file,
a FIFO or a link given as ``--out`` is left as it was (or, with ``--overwrite``, moved aside whole), and
no socket is created while a shared file is read.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import zlib
from pathlib import Path

import numpy as np

import fuzzlib

KINDS = ("recipe", "line", "state", "out", "header")


# ------------------------------------------------------------------------------------------ genuine files
def genuine_recipe(genuine: dict) -> Path:
    """A genuine recipe of the genuine run (made once, beside the genuine files)."""
    p = genuine["run"].parent / "genuine.recipe.json"
    if not p.exists():
        from gan_studio.cli import run_cli

        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            assert run_cli(["recipe", str(genuine["run"]), "--out", str(p)]) == 0, "could not make a recipe"
    return p


def _tree(root: Path) -> dict:
    """Every entry under ``root`` (links not followed): its kind and, for files, its content's hash."""
    out = {}
    if root.is_symlink() or not root.is_dir():
        return {".": _entry(root)}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = _entry(p)
    return out


def _entry(p: Path) -> str:
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return "absent"
    import stat

    if stat.S_ISLNK(st.st_mode):
        return "link:" + os.readlink(p)
    if stat.S_ISREG(st.st_mode):
        return "file:" + hashlib.sha256(p.read_bytes()).hexdigest()[:16]
    return f"mode:{stat.S_IFMT(st.st_mode)}"


# ------------------------------------------------------------------------------------------ mutations
PATHS = ["/etc/passwd", "/etc", "../secret.npy", "../../x", "sub/../../x", "C:\\x.npy", "inside.npy", "link.npy",
         "ok.npy", "", "a\u0000b", "é/ü.npy", "x" * 2000]


def mutate_recipe_dict(d: dict, rng, folder: Path, outside: Path) -> str:
    """One mutation aimed at what a recipe may name: paths, data locations, numbers, versions, changes."""
    op = rng.randrange(9)
    cfg = d.setdefault("config", {})
    if op == 0:
        cfg["dataset"] = rng.choice(["points", "image-folder", "mnist", "cifar10", "fashion-mnist"])
        cfg["dataset_args"] = {"path": rng.choice(PATHS + [str(outside)])}
        return f"dataset {cfg['dataset']} with path {cfg['dataset_args']['path'][:40]!r}"
    if op == 1:
        d.pop("points", None)
        cfg["dataset"] = "points"
        d["points_file"] = rng.choice(PATHS)
        return f"points_file {d['points_file'][:40]!r}"
    if op == 2:
        cfg["dataset"] = rng.choice(["mnist", "cifar10", "fashion-mnist"])
        cfg["dataset_args"] = {"root": str(outside.parent / "planted-root"), "download": True}
        cfg["model_args"] = {}
        return f"{cfg['dataset']} with a root and download"
    if op == 3:
        key = rng.choice(["lr_min", "lr_decay", "gp_weight", "momentum_ramp", "steps", "seed", "batch_size", "z_dim",
                          "k", "unroll", "lr_d", "momentum"])
        cfg[key] = rng.choice([1e300, -1e300, 2**63, 10**30, -1, 0, 1e-320, float("nan"), "١", True, None, 2**53 + 1])
        return f"{key} = {cfg[key]!r}"[:80]
    if op == 4:
        cfg["model_args"] = {rng.choice(["hidden", "layers", "width", "g_hidden", "d_units", "pieces"]):
                             rng.choice([16384, 10**9, 64, -1, 2**31])}
        return f"model_args {cfg['model_args']}"
    if op == 5:
        d["version"] = rng.choice([0, 2, -1, "1", 1.0, 10**300, True, None])
        return f"version {d['version']!r}"[:60]
    if op == 6:
        d["changes"] = [{"at": rng.choice([0, -1, 2**63, 1e300, "3"]), "set": {rng.choice(["lr_g", "k", "unroll",
                                                                                               "z_dim", "dataset"]):
                                                                                    fuzzlib.weird_value(rng)}}]
        return "a weird change"
    if op == 7:
        target = rng.choice([outside, Path("/etc/passwd"), folder / "nowhere"])
        (folder / "link.npy").unlink(missing_ok=True)
        (folder / "link.npy").symlink_to(target)
        d.pop("points", None)
        cfg["dataset"] = "points"
        d["points_file"] = "link.npy"
        return f"points_file is a link to {target}"
    text = fuzzlib.mutate_json_text(json.dumps(d), rng)
    d.clear()
    d["__raw__"] = text
    return "generic JSON mutation"


def _dump(d: dict) -> str:
    if "__raw__" in d:
        return d["__raw__"]
    try:
        return json.dumps(d)
    except (ValueError, RecursionError):
        return "{"


def to_line(text: str, rng) -> tuple[str, str]:
    """The one-line form of ``text`` (a recipe's JSON), sometimes damaged."""
    body = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8", "replace"), 9)).decode("ascii").rstrip("=")
    op = rng.randrange(6)
    version = "1"
    if op == 0:
        version = rng.choice(["٣", "1" * 5000, "", "-1", "2", "0x1", " 1"])
    elif op == 1 and body:
        i = rng.randrange(len(body))
        body = body[:i] + rng.choice(["!", "=", "\u00e9", "A", ""]) + body[i + 1:]
    elif op == 2:
        body = body[: rng.randrange(len(body) + 1)]
    elif op == 3:
        body = base64.urlsafe_b64encode(zlib.compress(b"{" * 100 + b"[" * 10**5)).decode("ascii")
    return f"ganstudio:{version}:{body}", f"line op {op}"


def lying_header(path: Path, rng) -> str:
    """A .npy whose header claims a shape its bytes do not hold (or an object array)."""
    head = np.lib.format.header_data_from_array_1_0(np.zeros((5, 2), np.float32))
    head["shape"] = rng.choice([(300_000_000, 2), (10**12,), (2, 10**9), (5, 2), (0, 2), (2**62, 2)])
    if rng.random() < 0.2:
        head["descr"] = "|O"
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, head)
    except ValueError:
        np.lib.format.write_array_header_2_0(buf, head)
    path.write_bytes(buf.getvalue() + b"\0" * rng.choice([0, 8, 40, 4096]))
    return f"header claims {head['shape']} {head['descr']}"


# ------------------------------------------------------------------------------------------ one case
@contextlib.contextmanager
def no_sockets(made: list):
    real = socket.socket

    class NoSocket(real):
        def __init__(self, *a, **k):
            made.append(a)
            raise OSError("network use while reading a shared file")

    def no_lookup(*a, **k):  # offline, a download fails at the name lookup, before any socket exists
        made.append(("getaddrinfo",) + a[:2])
        raise OSError("name lookup while reading a shared file")

    real_lookup = socket.getaddrinfo
    socket.socket, socket.getaddrinfo = NoSocket, no_lookup
    try:
        yield
    finally:
        socket.socket, socket.getaddrinfo = real, real_lookup


def shared_case(kind: str, genuine: dict, case: Path, out: Path, rng, watch: list, outside: Path):
    """Run one case of ``kind``; returns (outcomes, descriptions)."""
    outcomes, desc, made = [], [], []
    allowed = [out]
    if kind in ("recipe", "line"):
        d = json.loads(genuine_recipe(genuine).read_text())
        (case / "ok.npy").write_bytes(genuine["points"].read_bytes())
        desc.append(mutate_recipe_dict(d, rng, case, outside))
        text = _dump(d)
        if kind == "line":
            text, how = to_line(text, rng)
            desc.append(how)
        r = case / ("r.json" if kind == "recipe" else "r.txt")
        r.write_text(text, encoding="utf-8", errors="replace")
        with no_sockets(made):
            outcomes.append(fuzzlib.run_in_process(["train", "--recipe", r, "--steps", "3", "--out", out / "r",
                                                    "--quiet"], watch, allowed, iterations=3))
    elif kind == "state":
        run = case / "run"
        shutil.copytree(genuine["run"], run, symlinks=True)
        states = sorted((run / "states").glob("s-*.pt"))
        st = rng.choice(states)
        desc.append(f"{st.name}: " + fuzzlib.mutate_checkpoint(st, rng))
        at = int(st.stem[2:])
        before = _tree(run)
        with no_sockets(made):
            o = fuzzlib.run_in_process(["train", "--branch", run, "--at", at, "--steps", at + 2, "--out", out / "b",
                                        "--quiet"], watch, allowed, iterations=2)
        if _tree(run) != before:
            o.problems.append("the run folder branched from was changed")
        outcomes.append(o)
    elif kind == "header":
        p = case / "p.npy"
        desc.append(lying_header(p, rng))
        for argv in (["train", "--dataset", "points", "--dataset-arg", f"path={p}", "--steps", "3", "--out",
                      out / "r", "--quiet"], ["parzen", p, "--test", genuine["points"], "--quiet"]):
            outcomes.append(fuzzlib.run_in_process(argv, watch, allowed, iterations=3))
    else:
        outcomes.append(out_case(genuine, case, rng, watch, desc))
    if made:
        outcomes[-1].problems.append(f"a socket was created ({len(made)})")
    planted = outside.parent / "planted-root"
    if planted.exists():
        outcomes[-1].problems.append("a data root named in a recipe was created")
        shutil.rmtree(planted, ignore_errors=True)
    return outcomes, desc


def out_case(genuine: dict, case: Path, rng, watch: list, desc: list):
    """``train --out`` / ``sample --out`` onto something that is already there."""
    import stat

    target = case / "target"
    op = rng.randrange(8)
    if op == 0:
        shutil.copytree(genuine["run"], target, symlinks=True)
        what = "a run folder"
    elif op == 1:
        target.mkdir()
        (target / "notes.txt").write_text("mine")
        what = "a folder with a file"
    elif op == 2:
        target.write_text("a file")
        what = "a file"
    elif op == 3:
        os.mkfifo(target)
        what = "a FIFO"
    elif op == 4:
        (case / "real").mkdir()
        target.symlink_to(case / "real")
        what = "a link to a folder"
    elif op == 5:
        target.symlink_to(case / "nowhere")
        what = "a dangling link"
    elif op == 6:
        target.mkdir()
        what = "an empty folder"
    else:
        (case / "elsewhere.npy").write_bytes(b"keep me")
        target = case / "target.npy"
        target.symlink_to(case / "elsewhere.npy")
        what = "a link to a file (sample --out)"
    flags = rng.choice([[], [], ["--overwrite"], ["--resume", genuine["checkpoint"]],
                        ["--resume", target / "checkpoint.pt"]])
    desc.append(f"--out {what} {' '.join(map(str, flags))}".strip())
    before = _tree(target)
    elsewhere = _entry(case / "elsewhere.npy")
    real = _tree(case / "real") if (case / "real").exists() else None
    if target.suffix == ".npy":
        argv = ["sample", genuine["checkpoint"], "--n", "8", "--out", target]
        allowed = [target]
    else:
        argv = ["train", "--preset", "ring8", "--model-arg", "hidden=16", "--batch-size", "32", "--steps", "123",
                "--out", target, "--quiet", *flags]
        allowed = [target] + [case / f"target.old-{i}" for i in (1, 2)]
    o = fuzzlib.run_in_process(argv, watch + [case], allowed, iterations=3 if "--resume" in flags else 123)
    moved = case / "target.old-1"
    if o.code == 0 and op in (0, 1) and "--overwrite" in flags:
        if _tree(moved) != before:
            o.problems.append("--overwrite did not keep the old folder whole")
    elif o.code == 0 and op in (0,) and "--resume" in flags and _inside(flags[1], target):
        pass  # a run continued in its own folder
    elif o.code == 0 and op in (6, 7):
        pass  # an empty folder filled; a link replaced by the file, never followed
    elif _tree(target) != before:
        o.problems.append(f"--out {what} was changed (exit {o.code})")
    if _entry(case / "elsewhere.npy") != elsewhere:
        o.problems.append("a file a link pointed to was written through")
    if real is not None and _tree(case / "real") != real:
        o.problems.append("a folder a link pointed to was written into")
    if op == 3 and not stat.S_ISFIFO(os.lstat(target).st_mode):
        o.problems.append("a FIFO was replaced")
    return o


def _inside(p, folder: Path) -> bool:
    try:
        Path(p).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
