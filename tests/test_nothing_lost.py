"""Nothing lost, nothing leaked (issue 26): a command never destroys an existing run or a file it was not
asked to replace, a shared recipe or run folder never reads the receiver's files or opens the network,
sizes are checked before memory is spent, and numbers that pass one check cannot overflow the next.
Commands run in-process (``gan_studio.cli.run_cli``) on real files and real (tiny) training runs."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from gan_studio.cli import run_cli as cli

TINY = ("--preset", "ring8", "--model-arg", "hidden=16", "--batch-size", "32", "--steps", "3", "--quiet")


def run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, needle: str = "") -> None:
    err = err.strip()
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert needle in err, err


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links as links), by relative name: its content's hash."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


@pytest.fixture(autouse=True)
def _empty_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_DATA", str(tmp_path / "data-root"))


@pytest.fixture
def sockets(monkeypatch):
    """Every socket this process tries to create, refused and recorded: a shared file must open none."""
    made = []

    class NoSocket(socket.socket):
        def __init__(self, *a, **k):
            made.append(a)
            raise OSError("network use in a test of a shared file")

    def no_lookup(*a, **k):  # offline, a download fails at the name lookup, before any socket exists
        made.append(("getaddrinfo",) + a[:2])
        raise OSError("name lookup in a test of a shared file")

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    return made


def test_the_network_detector_sees_a_download(tmp_path, sockets):
    """The detector the tests below rely on: an explicit download (what a shared file must never start) trips it."""
    from gan_studio.core.train.datasets import DatasetError, build_dataset

    with pytest.raises(DatasetError):
        build_dataset("mnist", {"download": True, "root": str(tmp_path / "dl")})
    assert sockets


@pytest.fixture(scope="module")
def a_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nl") / "run"
    assert cli(["train", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory) -> Path:
    """A run with metrics lines (every 2 of its 4 iterations)."""
    out = tmp_path_factory.mktemp("nl") / "logged"
    assert cli(["train", *TINY, "--steps", "4", "--log-every", "2", "--out", str(out)]) == 0
    return out


def copy_run(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, symlinks=True)
    return dst


# ------------------------------------------------------------------------------ 1. never destroy
def test_out_onto_a_run_or_any_file_is_refused_and_nothing_changes(a_run, tmp_path, capsys):
    run_dir = copy_run(a_run, tmp_path / "r")
    before = tree(run_dir)
    code, _, err = run(capsys, "train", *TINY, "--out", run_dir)
    refused(code, err, "already holds a run")
    assert "--overwrite" in err and tree(run_dir) == before
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.txt").write_text("years of work")
    code, _, err = run(capsys, "train", *TINY, "--out", other)
    refused(code, err, "already holds files")
    assert (other / "thesis.txt").read_text() == "years of work" and len(list(other.iterdir())) == 1


def test_overwrite_moves_the_old_run_aside_whole_and_puts_it_back_when_the_command_fails(a_run, tmp_path, capsys):
    run_dir = copy_run(a_run, tmp_path / "r")
    before = tree(run_dir)
    code, _, err = run(capsys, "train", *TINY, "--model-arg", "hidden=0", "--out", run_dir, "--overwrite")
    refused(code, err, "hidden")
    assert tree(run_dir) == before and not (tmp_path / "r.old-1").exists()  # a failed command changed nothing
    code, _, err = run(capsys, "train", *TINY, "--out", run_dir, "--overwrite")
    assert code == 0, err
    assert tree(tmp_path / "r.old-1") == before  # moved, byte for byte
    assert (run_dir / "run.json").is_file() and "r.old-1" in err
    code, _, err = run(capsys, "train", *TINY, "--out", run_dir, "--overwrite", "--resume", run_dir / "checkpoint.pt")
    refused(code, err, "--overwrite")


def test_resume_continues_only_its_own_folder_or_a_new_one(a_run, tmp_path, capsys):
    other = copy_run(a_run, tmp_path / "other")
    mine = copy_run(a_run, tmp_path / "mine")
    before = tree(other)
    code, _, err = run(capsys, "train", "--resume", mine / "checkpoint.pt", "--steps", "4", "--out", other, "--quiet")
    refused(code, err, "checkpoint is not in it")
    assert tree(other) == before
    code, _, err = run(capsys, "train", "--resume", mine / "checkpoint.pt", "--steps", "4", "--out", mine, "--quiet")
    assert code == 0, err


@pytest.mark.parametrize("kind", ["file", "fifo", "link", "dangling link", "device"])
def test_out_that_is_not_a_folder_is_refused_never_replaced(tmp_path, capsys, kind):
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("mine")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "link":
        (tmp_path / "real").mkdir()
        target.symlink_to(tmp_path / "real")
    elif kind == "dangling link":
        target.symlink_to(tmp_path / "nowhere")
    else:
        target = Path("/dev/null")
    before = os.lstat(target)
    code, _, err = run(capsys, "train", *TINY, "--out", target)
    refused(code, err, "link" if "link" in kind else "not a folder")
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    if kind == "link":
        assert not any((tmp_path / "real").iterdir())
    if kind == "dangling link":
        assert not (tmp_path / "nowhere").exists()


def test_a_refused_run_leaves_no_folder_it_created(tmp_path, capsys):
    code, _, err = run(capsys, "train", *TINY, "--model-arg", "hidden=0", "--out", tmp_path / "a" / "b" / "c")
    refused(code, err)
    assert not (tmp_path / "a").exists()


def test_files_are_written_through_devices_and_fifos_and_links_are_replaced_not_followed(tmp_path):
    from gan_studio.core.atomic import atomic_write_bytes

    atomic_write_bytes("/dev/null", b"gone")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write_bytes(fifo, b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("untouched")
    link = tmp_path / "link.json"
    link.symlink_to(secret)
    atomic_write_bytes(link, b"new")
    assert secret.read_text() == "untouched" and not link.is_symlink() and link.read_bytes() == b"new"
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------------------ 2. shared files are inert
def recipe(folder: Path, name: str = "r.json", **kw) -> Path:
    d = {"format": "gan-studio/recipe", "version": 1,
         "config": {"dataset": "ring8", "model": "mlp", "model_args": {"hidden": 16}, "batch_size": 32,
                    "steps": 3, "device": "cpu"}}
    for k, v in kw.items():
        if k == "config":
            d["config"].update(v)
        else:
            d[k] = v
    p = folder / name
    p.write_text(json.dumps(d))
    return p


def test_a_recipe_never_reads_an_absolute_or_outside_path(tmp_path, capsys, sockets):
    outside = tmp_path / "private"
    outside.mkdir()
    np.save(outside / "pts.npy", np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32))
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.npy").symlink_to(outside / "pts.npy")
    cases = {
        "absolute points path": recipe(shared, "a.json", config={"dataset": "points",
                                                                 "dataset_args": {"path": str(outside / "pts.npy")}}),
        "dotdot points path": recipe(shared, "b.json", config={"dataset": "points",
                                                               "dataset_args": {"path": "../private/pts.npy"}}),
        "symlinked points_file": recipe(shared, "c.json", config={"dataset": "points"}, points_file="in.npy"),
    }
    for what, rp in cases.items():
        out = tmp_path / f"out-{rp.stem}"
        code, _, err = run(capsys, "train", "--recipe", rp, "--out", out)
        refused(code, err, "recipe")
        assert not out.exists(), what
    # an image folder named by a recipe is not read: the receiver names theirs on the command line
    img = recipe(shared, "d.json", config={"dataset": "image-folder", "model_args": {},
                                           "dataset_args": {"path": str(outside)}})
    code, _, err = run(capsys, "train", "--recipe", img, "--out", tmp_path / "out-d")
    refused(code, err, "needs the argument 'path'")
    assert sockets == []


def test_a_recipe_naming_mnist_without_data_downloads_nothing_and_creates_no_folder(tmp_path, capsys, sockets):
    rp = recipe(tmp_path, config={"dataset": "mnist", "model_args": {"hidden": 16}, "z_dim": 8,
                                  "dataset_args": {"download": True, "root": str(tmp_path / "theirs")}})
    code, _, err = run(capsys, "train", "--recipe", rp, "--out", tmp_path / "out")
    refused(code, err, "--download")
    assert sockets == [] and not (tmp_path / "data-root").exists() and not (tmp_path / "theirs").exists()
    assert not (tmp_path / "out").exists()


def test_recipe_of_a_received_run_folder_holds_only_what_the_run_recorded(tmp_path, capsys, sockets):
    private = tmp_path / "private.npy"
    np.save(private, np.random.default_rng(1).normal(size=(40, 2)).astype(np.float32))
    run_dir = tmp_path / "received"
    code, _, err = run(capsys, "train", *TINY, "--dataset", "points", "--dataset-arg", f"path={private}",
                       "--out", run_dir)
    assert code == 0, err
    pts_private = np.load(private)
    private.unlink()  # the run keeps its own copy: its recipe needs nothing outside the folder
    code, _, err = run(capsys, "recipe", run_dir, "--out", tmp_path / "mine.json")
    assert code == 0, err
    from gan_studio.core.record.recipe import load

    assert np.array_equal(load(tmp_path / "mine.json").points, pts_private)
    # a received folder whose run.json names a path on this machine: that path is never read
    np.save(private, pts_private * 3)
    meta = json.loads((run_dir / "run.json").read_text())
    for key in ("config", "config_start"):
        meta[key]["dataset_args"]["path"] = str(private)
    (run_dir / "run.json").write_text(json.dumps(meta))
    code, _, err = run(capsys, "recipe", run_dir, "--out", tmp_path / "r.json")
    refused(code, err, "not kept in its folder")
    assert not (tmp_path / "r.json").exists()
    # a run trained from a recipe keeps its points in its folder: its recipe carries exactly those
    pts = np.random.default_rng(2).normal(size=(30, 2)).astype(np.float32)
    rp = recipe(tmp_path, "pts.json", config={"dataset": "points"}, points=pts.tolist())
    code, _, err = run(capsys, "train", "--recipe", rp, "--out", tmp_path / "fromrecipe")
    assert code == 0, err
    code, _, err = run(capsys, "recipe", tmp_path / "fromrecipe", "--out", tmp_path / "again.json")
    assert code == 0, err
    assert np.array_equal(load(tmp_path / "again.json").points, pts)
    kept = next((tmp_path / "fromrecipe").glob("points-*.npy"))
    np.save(kept, pts * 2)  # changed since the run wrote it: its name's hash no longer matches
    code, _, err = run(capsys, "recipe", tmp_path / "fromrecipe", "--out", tmp_path / "changed.json")
    refused(code, err, "hash")
    assert sockets == []


def test_shared_file_commands_open_no_socket(tmp_path, capsys, sockets):
    """Every command that reads a received run folder, checkpoint, state, recipe (file or line), generator
    export or points file: it does its work and creates no socket (nor looks up a name)."""
    from gan_studio.core.record.recipe import load as load_recipe

    run_dir = tmp_path / "r"  # received: trained elsewhere (metrics every 2 iterations, so doctor has them)
    assert cli(["train", *TINY, "--steps", "8", "--log-every", "2", "--out", str(run_dir)]) == 0
    ck = run_dir / "checkpoint.pt"
    at = int(sorted((run_dir / "states").glob("s-*.pt"))[0].stem[2:])
    for args in (["recipe", run_dir, "--out", tmp_path / "r.json"],
                 ["train", "--recipe", tmp_path / "r.json", "--out", tmp_path / "again"],
                 ["train", "--recipe", "LINE", "--out", tmp_path / "from-line"],
                 ["sample", ck, "--n", "10", "--out", tmp_path / "s.npy"],
                 ["export", ck, "--out", tmp_path / "g.safetensors"],
                 ["eval", ck, "--n", "200", "--json"],
                 ["eval", tmp_path / "s.npy", "--dataset", "ring8", "--json"],
                 ["parzen", tmp_path / "s.npy", "--test", tmp_path / "s.npy", "--quiet"],
                 ["metrics", run_dir, "--out", tmp_path / "m.csv"],
                 ["gif", run_dir, "--out", tmp_path / "f.gif", "--max-frames", "2"],
                 ["gif", ck, "--view", "latent", "--out", tmp_path / "l.gif", "--max-frames", "2"],
                 ["doctor", run_dir, "--json"],
                 ["control", run_dir, "--set", "lr_d=0.0005"],
                 ["train", "--branch", run_dir, "--at", at, "--steps", at + 2, "--out", tmp_path / "b", "--quiet"],
                 ["train", "--resume", ck, "--steps", "10", "--out", run_dir, "--quiet"]):
        if "LINE" in args:  # the one-line form of the same recipe, as a chat message carries it
            args[args.index("LINE")] = load_recipe(tmp_path / "r.json").to_line()
        code, _, err = run(capsys, *args)
        assert code in (0, 1), (args, err)  # doctor: 1 when it has findings
        assert "Traceback" not in err, err
    assert sockets == []


# ------------------------------------------------------------------------------ 3. sizes first
def test_sample_n_is_capped_before_anything_is_drawn(a_run, tmp_path, capsys):
    code, _, err = run(capsys, "sample", a_run / "checkpoint.pt", "--n", "999999999999", "--out", tmp_path / "s.npy")
    refused(code, err, "limit")
    assert not (tmp_path / "s.npy").exists()


def test_a_points_file_header_is_checked_before_its_data_are_read(tmp_path, capsys):
    import io

    head = np.lib.format.header_data_from_array_1_0(np.zeros((5, 2), np.float32))
    head["shape"] = (300_000_000, 2)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, head)
    big = tmp_path / "big.npy"
    big.write_bytes(buf.getvalue() + b"\0" * 64)  # claims 2.4 GB, holds 64 bytes
    code, _, err = run(capsys, "train", *TINY, "--dataset", "points", "--dataset-arg", f"path={big}",
                       "--out", tmp_path / "r")
    refused(code, err, "300000000")
    assert not (tmp_path / "r").exists()


def test_networks_too_large_for_the_machine_are_refused_with_the_memory_they_need(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--preset", "ring8", "--model-arg", "hidden=16384", "--model-arg", "layers=64",
                       "--steps", "1", "--out", tmp_path / "r", "--quiet")
    refused(code, err, "parameters")
    assert "GB" in err and "available" in err and not (tmp_path / "r").exists()


def test_the_users_memory_bound_refuses_a_model_the_machine_could_hold(tmp_path, capsys, monkeypatch):
    """GAN_STUDIO_MAX_MEMORY (a shared machine): a model beyond it is refused before it is built, naming the bound."""
    monkeypatch.setenv("GAN_STUDIO_MAX_MEMORY", "64M")
    code, _, err = run(capsys, "train", "--preset", "ring8", "--model-arg", "hidden=2048", "--steps", "1",
                       "--out", tmp_path / "r", "--quiet")
    refused(code, err, "GAN_STUDIO_MAX_MEMORY")
    assert "64 MB available" in err and not (tmp_path / "r").exists()
    code, _, err = run(capsys, "train", *TINY, "--out", tmp_path / "small")  # a small one still trains
    assert code == 0, err


@pytest.mark.parametrize("bound", ["lots", "٣G", "4X", "-1G", "9" * 40])
def test_a_memory_bound_that_is_not_a_size_is_one_line(tmp_path, capsys, monkeypatch, bound):
    monkeypatch.setenv("GAN_STUDIO_MAX_MEMORY", bound)
    code, _, err = run(capsys, "train", *TINY, "--out", tmp_path / "r")
    refused(code, err, "GAN_STUDIO_MAX_MEMORY")
    assert not (tmp_path / "r").exists()


def test_doctor_reads_a_run_json_of_gigabytes_no_further_than_its_cap(logged_run, tmp_path):
    """``doctor --follow`` asks again and again whether the writer closed the run: a run.json that has grown
    to 4 GB meanwhile (sparse: no disk used) is read at most 16 MB deep, and the run is simply not finished."""
    import tracemalloc

    from gan_studio.cli.doctor import FolderFeed
    from gan_studio.core.record.runfolder import RunFolder

    run_dir = copy_run(logged_run, tmp_path / "r")
    feed = FolderFeed(RunFolder(run_dir))
    feed.update()
    assert feed.finished()  # the genuine closed run
    with open(run_dir / "run.json", "r+b") as f:
        f.truncate(4 * 2**30)
    tracemalloc.start()
    try:
        assert feed.finished() is False
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak


def _million_lines(run_dir: Path, tail: bytes = b"") -> int:
    """metrics.jsonl of ``run_dir`` grown to 1,000,000 lines (its own last line repeated, iterations counting
    on), plus ``tail``; returns the file's size."""
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    start = int(last["iteration"])
    last["iteration"] = -12345
    head, rest = json.dumps(last).split("-12345")
    with open(run_dir / "metrics.jsonl", "ab") as f:
        for block in range(10):
            f.write("".join(f"{head}{start + 1 + block * 100_000 + i}{rest}\n" for i in range(100_000)).encode())
        f.write(tail)
    return (run_dir / "metrics.jsonl").stat().st_size


def test_a_live_runs_answer_is_found_in_a_million_line_log_streamed(logged_run, tmp_path):
    """``control --wait`` and the studio's steering look for a run's answer in metrics.jsonl: streamed a
    megabyte at a time (a million lines, ~100 MB, and a 32 MB line are never held whole)."""
    import tracemalloc

    from gan_studio.core.record.control import find_answer

    run_dir = copy_run(logged_run, tmp_path / "r")
    rid = "req-7"
    answer = {"iteration": 5, "event": "set", "request": rid, "changes": {"lr_d": 0.0005}}
    long_line = b'{"request": "req-7", "pad": "' + b"x" * (32 * 2**20) + b'"}\n'
    size = _million_lines(run_dir, long_line + json.dumps(answer).encode() + b"\n")
    assert size > 60 * 2**20
    tracemalloc.start()
    try:
        found = find_answer(run_dir, rid)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == answer
    assert peak < 16 * 2**20, peak
    assert find_answer(run_dir, "req-unknown") is None


@pytest.mark.slow
def test_doctor_on_a_million_line_metrics_file_stays_within_its_cap(logged_run, tmp_path):
    """issue 26: "a 1 M-line metrics file read into 2 GB by doctor". Readers of logs stream and cap: doctor
    answers (its report) with its memory bounded, whatever the file's length. Measured in a process of its
    own (its peak resident memory: tracemalloc would slow a million lines past the test's limit): 2.3 GB
    when every row was kept, ~100 MB streamed (a 290 MB file)."""
    import subprocess
    import sys

    run_dir = copy_run(logged_run, tmp_path / "r")
    size = _million_lines(run_dir)
    assert size > 200 * 2**20
    # (VmHWM, the peak of this process's own memory: ru_maxrss would count the forked pytest's, kept over exec)
    child = ("import json, sys\n"
             "from gan_studio.cli import run_cli\n"
             "code = run_cli(['doctor', sys.argv[1], '--json'])\n"
             "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0].split()[1]\n"
             "print(json.dumps({'code': code, 'maxrss_kb': int(hwm)}), file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", child, str(run_dir)], capture_output=True, text=True, timeout=280)
    *warnings, last = p.stderr.strip().splitlines()
    got = json.loads(last)
    assert "Traceback" not in p.stderr and len(warnings) <= 1, p.stderr[-2000:]
    report = json.loads(p.stdout)
    assert got["code"] in (0, 1) and report["iteration"] == 1_000_004  # every line was read, to the last
    assert got["maxrss_kb"] * 1024 < 512 * 2**20, f"doctor held {got['maxrss_kb'] // 1024} MB for a 1 M-line file"


# ------------------------------------------------------------------------------ 4. one validation for every number
@pytest.mark.parametrize("value", ["٣", "1_000", "9" * 5000, "3" * 30])
def test_whole_numbers_on_the_command_line_are_ascii_digits_within_range(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exc:
        cli(["train", "--preset", "ring8", "--steps", value, "--out", str(tmp_path / "r")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and not (tmp_path / "r").exists()


@pytest.mark.parametrize("line", ["ganstudio:٣:eJw", "ganstudio:" + "9" * 5000 + ":eJw"])
def test_a_recipe_lines_version_is_ascii_digits(line):
    from gan_studio.core.record.recipe import RecipeError, from_line

    with pytest.raises(RecipeError, match="bad version"):
        from_line(line)


def test_every_number_in_the_settings_table_has_a_finite_range():
    """One validation for every number: no numeric setting is left open-ended (a value that passes one check
    must not overflow the next)."""
    import math

    from gan_studio.core.settings import SETTINGS

    numeric = [s for s in SETTINGS if s.kind in ("int", "float", "betas")]
    assert {"lr_min", "lr_decay", "gp_weight", "steps", "seed", "momentum_ramp"} <= {s.name for s in numeric}
    open_ended = [s.name for s in numeric if s.lo is None or s.hi is None or not math.isfinite(s.hi)]
    assert open_ended == []


@pytest.mark.parametrize("setting", [{"lr_min": 1e300}, {"lr_decay": 1e300}, {"gp_weight": 1e300},
                                     {"momentum_ramp": 2**60}, {"steps": 2**50}])
def test_settings_beyond_their_range_are_refused_in_a_recipe(tmp_path, capsys, setting):
    code, _, err = run(capsys, "train", "--recipe", recipe(tmp_path, config=setting), "--out", tmp_path / "r")
    refused(code, err, next(iter(setting)))


def _tamper(path: Path, fn) -> None:
    import torch

    data = torch.load(path, weights_only=True)
    fn(data)
    torch.save(data, path)


@pytest.mark.parametrize("how", ["nan weights", "negative step", "huge step", "inf moment"])
def test_a_state_is_checked_at_load(a_run, tmp_path, capsys, how):
    import torch

    run_dir = copy_run(a_run, tmp_path / "r")
    state = sorted((run_dir / "states").glob("s-*.pt"))[-1]  # after some steps: the optimisers have state
    at = int(state.stem[2:])

    def fn(d):
        if how == "nan weights":
            k = next(iter(d["G"]))
            d["G"][k] = torch.full_like(d["G"][k], float("nan"))
        else:
            st = next(iter(d["opt_D"]["state"].values()))
            if how == "inf moment":
                st["exp_avg"] = torch.full_like(st["exp_avg"], float("inf"))
            else:
                st["step"] = torch.tensor(-1e30 if how == "negative step" else 1e30)

    _tamper(state, fn)
    before = tree(run_dir)
    code, _, err = run(capsys, "train", "--branch", run_dir, "--at", at, "--steps", at + 2, "--out",
                       tmp_path / "b", "--quiet")
    refused(code, err, "NaN" if how in ("nan weights", "inf moment") else "step")
    assert tree(run_dir) == before and not (tmp_path / "b").exists()


def test_a_state_copied_from_another_run_is_refused_with_the_reason(a_run, tmp_path, capsys):
    run_dir = copy_run(a_run, tmp_path / "r")
    other = tmp_path / "other"
    code, _, err = run(capsys, "train", "--preset", "ring8", "--model-arg", "hidden=16", "--batch-size", "32",
                       "--steps", "3", "--seed", "5", "--out", other, "--quiet")
    assert code == 0, err
    mine = sorted((run_dir / "states").glob("s-*.pt"))[0]
    theirs = sorted((other / "states").glob("s-*.pt"))[0]
    mine.write_bytes(theirs.read_bytes())
    at = int(mine.stem[2:])
    code, _, err = run(capsys, "train", "--branch", run_dir, "--at", at, "--steps", at + 2, "--out",
                       tmp_path / "b", "--quiet")
    refused(code, err, "another run")
    assert "seed" in err


@pytest.mark.parametrize("argv", [["open", "RUN", "--position", str(2**40)], ["figure1", "--at", "1", "2", "3", "9" * 30]])
def test_positions_and_iterations_beyond_what_qt_or_c_can_hold_are_refused(tmp_path, capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli([str(tmp_path) if a == "RUN" else a for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_setting_that_is_a_tensor_is_named_on_one_line():
    """Found by the fuzzer (seed 9793): a state whose device setting was a tensor gave a 3-line message."""
    import torch

    from gan_studio.core.train.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError) as exc:
        TrainConfig.from_dict({"device": torch.arange(24).reshape(2, 3, 4)})
    assert "\n" not in str(exc.value)
