"""Hostile and damaged files, and a full disk: every command either works or ends with exactly one line on
stderr and exit status 2 (no traceback), writes nothing outside its --out, and never lets a file decide
which folders are read, created or downloaded into. Commands run in-process (``gan_studio.cli.run_cli``),
so that a full disk can be simulated by monkeypatching, without root or a tiny file system."""
from __future__ import annotations

import copy
import errno
import json
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.cli import run_cli as cli
from gan_studio.core import TrainConfig, Trainer
from gan_studio.core.train import datasets as datasets_mod
from gan_studio.core.train.checkpoint import save_checkpoint
from gan_studio.core.train.data import images as images_mod
from gan_studio.core.train.data.images import ImageDataset
from gan_studio.core.train.datasets import DatasetError, build_dataset


def run(capsys, *args) -> tuple[int, str, str]:
    """``gan-studio ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, err: str, needle: str = "") -> None:
    err = err.strip()
    assert code == 2, (code, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert needle in err, err


def tmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


@pytest.fixture(autouse=True)
def _no_downloads_no_real_data(monkeypatch, tmp_path):
    """No test here may download anything, and the default data root is an empty throwaway folder."""
    def no_download(*a, **k):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(images_mod, "_download_torchvision", no_download)
    monkeypatch.setenv("GAN_STUDIO_DATA", str(tmp_path / "default-data-root"))


def ring_checkpoint(path: Path, steps: int = 3) -> Path:
    tr = Trainer(TrainConfig(dataset="ring8", model="mlp", model_args={"hidden": 16}, batch_size=32, device="cpu",
                             seed=1, steps=steps))
    tr.run(steps)
    save_checkpoint(tr, path)
    return path


def fake_images(name: str, shape=(1, 28, 28), n: int = 20, labels: bool = True) -> ImageDataset:
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    return ImageDataset(name, imgs, torch.arange(n) % 10 if labels else None, "fake")


def image_checkpoint(path: Path, dataset: str, dataset_args: dict, ds: ImageDataset) -> Path:
    cfg = TrainConfig(dataset=dataset, dataset_args=dataset_args, model="mlp",
                      model_args={"hidden": 16, "out_range": "unit"}, z_dim=4, batch_size=8, device="cpu", steps=2)
    tr = Trainer(cfg, dataset=ds)
    tr.run(2)
    save_checkpoint(tr, path)
    return path


# ------------------------------------------------------------------------------ 1. configuration stays inert
def test_a_checkpoints_data_folder_is_never_created_downloaded_or_read(tmp_path, capsys):
    where = tmp_path / "some" / "where"
    ck = image_checkpoint(tmp_path / "m.pt", "mnist", {"root": str(where)}, fake_images("mnist"))
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = run(capsys, "sample", ck, "--n", "5", "--out", out / "s.npy")
    assert code == 0, err
    assert np.load(out / "s.npy").shape == (5, 1, 28, 28)
    code, _, err = run(capsys, "export", ck, "--out", out / "g.safetensors")
    assert code == 0, err
    assert json.loads((out / "g.json").read_text())["dataset_args"] == {}  # the file's root is not repeated
    # eval needs the real data: only from the default data root (empty here) or --data-root; never downloaded
    code, _, err = run(capsys, "eval", ck, "--json")
    refused(code, err, str(tmp_path / "default-data-root" / "MNIST" / "raw"))
    assert "download not asked for" in err
    code, _, err = run(capsys, "train", "--resume", ck, "--out", out / "resumed", "--quiet")
    refused(code, err, str(tmp_path / "default-data-root" / "MNIST" / "raw"))
    assert not where.exists() and not (tmp_path / "some").exists()
    assert not (tmp_path / "default-data-root").exists()  # nothing created there either
    assert sorted(p.name for p in out.iterdir()) == ["g.json", "g.safetensors", "s.npy"]


def test_a_checkpoints_image_folder_path_is_never_walked(tmp_path, capsys, monkeypatch):
    ck = image_checkpoint(tmp_path / "f.pt", "image-folder", {"path": "/usr/share", "size": 8},
                          fake_images("image-folder", shape=(3, 8, 8), labels=False))
    walked = []
    monkeypatch.setattr(datasets_mod, "image_folder", lambda path, **kw: walked.append(path) or 1 / 0)
    code, _, err = run(capsys, "sample", ck, "--n", "4", "--out", tmp_path / "s.npy")
    assert code == 0, err
    code, _, err = run(capsys, "export", ck, "--out", tmp_path / "g.safetensors")
    assert code == 0, err
    code, out, err = run(capsys, "eval", ck, "--json")  # no metric needs the images: none are read
    assert code == 0, err
    assert json.loads(out)["dataset"] == "image-folder"
    code, _, err = run(capsys, "eval", ck, "--parzen", "--json")  # Parzen does: the user must name them
    refused(code, err, "path")
    code, _, err = run(capsys, "train", "--resume", ck, "--out", tmp_path / "r", "--quiet")
    refused(code, err, "--dataset-arg path=")
    assert walked == [] and not (tmp_path / "r").exists()


def test_resume_of_a_folder_dataset_uses_the_path_given_on_the_command_line(tmp_path, capsys):
    folder = tmp_path / "imgs"
    write_pngs(folder, 6)
    ck = image_checkpoint(tmp_path / "f.pt", "image-folder", {"path": "/usr/share", "size": 8},
                          build_dataset("image-folder", {"path": str(folder), "size": 8}))
    code, out, err = run(capsys, "train", "--resume", ck, "--dataset-arg", f"path={folder}", "--steps", "4",
                         "--out", tmp_path / "r", "--quiet")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["iterations"] == 4
    saved = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)["config"]["dataset_args"]
    assert saved["path"] == str(folder)


# ------------------------------------------------------------------------------ 2. damaged checkpoints
def _set(*keys, value):
    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return mutate


def _first(name):
    return lambda d: next(iter(d[name]))


MUTATIONS = {
    "version text": _set("version", value="1"),
    "version list": _set("version", value=[1]),
    "version float": _set("version", value=1.5),
    "iteration text": _set("iteration", value="5"),
    "iteration negative": _set("iteration", value=-3),
    "rng list": _set("rng", value=[1, 2]),
    "rng gen text": _set("rng", "gen", value="abc"),
    "rng float state": _set("rng", "torch_cpu", value=torch.zeros(3)),
    "rng state size": _set("rng", "gen", value=torch.zeros(7, dtype=torch.uint8)),
    "rng device type": _set("rng", "device_type", value=5),
    "history text": _set("history", value="x"),
    "history 2-D": _set("history", "d_loss", value=torch.zeros(2, 2)),
    "history lengths": _set("history", "d_loss", value=torch.zeros(1, dtype=torch.float64)),
    "data_info text": _set("data_info", value="points"),
    "data_info shape text": _set("data_info", "shape", value="abc"),
    "data_info shape wrong": _set("data_info", "shape", value=[3]),
    "data_info shape huge": _set("data_info", "shape", value=[10**9]),
    "data_info classes text": _set("data_info", "n_classes", value="x"),
    "data_info kind": _set("data_info", "kind", value="images"),
    "opt_G list": _set("opt_G", value=[1]),
    "opt_G groups text": _set("opt_G", "param_groups", value="x"),
    "opt_G betas text": lambda d: d["opt_G"]["param_groups"][0].__setitem__("betas", "ab"),
    "opt_G lr nan": lambda d: d["opt_G"]["param_groups"][0].__setitem__("lr", float("nan")),
    "opt_G params short": lambda d: d["opt_G"]["param_groups"][0].__setitem__("params", [0]),
    "opt_G state shape": lambda d: d["opt_G"]["state"][0].__setitem__("exp_avg", torch.zeros(3)),
    "opt_D state text": lambda d: d["opt_D"]["state"].__setitem__(0, "x"),
    "opt_D state odd name": lambda d: d["opt_D"]["state"][0].__setitem__("a\nb", "x"),
    "fixed_z text": _set("fixed_z", value="abc"),
    "fixed_z columns": _set("fixed_z", value=torch.zeros(1024, 3)),
    "fixed_z ints": _set("fixed_z", value=torch.zeros(1024, 2, dtype=torch.int64)),
    "fixed_z rows": _set("fixed_z", value=torch.zeros(10, 2)),
    "betas text": _set("config", "betas", value="ab"),
    "betas nan": _set("config", "betas", value=[float("nan"), 0.9]),
    "betas number": _set("config", "betas", value=5),
    "loss number": _set("config", "loss", value=5),
    "loss infinity": _set("config", "loss", value=float("inf")),
    "lr_d infinity": _set("config", "lr_d", value=float("inf")),
    "z_dim text": _set("config", "z_dim", value="2"),
    "hidden huge": _set("config", "model_args", value={"hidden": 10**9}),
    "hidden other": _set("config", "model_args", value={"hidden": 64}),
    "dataset arg text": _set("config", "dataset_args", value={"n_modes": "abc"}),
    "dataset args text": _set("config", "dataset_args", value="abc"),
    "dataset list": _set("config", "dataset", value=["ring8"]),
    "device list": _set("config", "device", value=["cuda"]),
    "config text": _set("config", value="x"),
    "config odd keys": _set("config", value={1: 2, "a": 3}),
    "G missing weights": _set("G", value={"x": torch.zeros(1)}),
    "G number name": _set("G", value={"body.0.weight": torch.zeros(1), 3: torch.zeros(1)}),
    "G newline name": _set("G", value={"line one\nline two": torch.zeros(1)}),
    "G shape": lambda d: d["G"].__setitem__(next(iter(d["G"])), torch.zeros(5, 5)),
    "G complex": lambda d: d["G"].__setitem__(next(iter(d["G"])), torch.zeros(16, 2, dtype=torch.complex64)),
    "G list": _set("G", value=[1]),
    "lr text": _set("lr", value={"d": "x", "g": 1.0}),
    "diverged number": _set("diverged", value=5),
    "data perm text": _set("data", value={"perm": "x", "pos": 0}),
}


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    return ring_checkpoint(tmp_path_factory.mktemp("good") / "c.pt")


def commands(ck: Path, out: Path) -> list[list]:
    return [["sample", ck, "--n", "5", "--out", out / "s.npy"], ["export", ck, "--out", out / "g.safetensors"],
            ["eval", ck, "--json"], ["train", "--resume", ck, "--steps", "4", "--out", out / "r", "--quiet"]]


def test_the_undamaged_checkpoint_works_with_every_command(tmp_path, capsys, good_checkpoint):
    data = torch.load(good_checkpoint, weights_only=True)
    ck = tmp_path / "same.pt"
    torch.save(copy.deepcopy(data), ck)  # saved again the same way as the damaged ones below
    for args in commands(ck, tmp_path):
        code, _, err = run(capsys, *args)
        assert code == 0, (args[0], err)


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_damaged_checkpoints_get_one_line_from_every_command(tmp_path, capsys, good_checkpoint, name):
    data = torch.load(good_checkpoint, weights_only=True)
    data = copy.deepcopy(data)
    MUTATIONS[name](data)
    ck = tmp_path / "bad.pt"
    torch.save(data, ck)
    out = tmp_path / "out"
    out.mkdir()
    errors = set()
    for args in commands(ck, out):
        code, _, err = run(capsys, *args)
        refused(code, err)
        errors.add(err.split(": error: ", 1)[1].strip())
    assert list(out.iterdir()) == []
    assert len(errors) == 1, errors  # the same reason from every command: the file, not the command
    print(name, "->", errors.pop())


def test_nan_weights_load_and_eval_json_stays_json(tmp_path, capsys, good_checkpoint):
    data = torch.load(good_checkpoint, weights_only=True)
    for t in data["G"].values():
        t.fill_(float("nan"))
    ck = tmp_path / "nan.pt"
    torch.save(data, ck)
    code, out, err = run(capsys, "eval", ck, "--json")
    assert code == 0, err

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON")

    r = json.loads(out, parse_constant=no_constants)
    assert r["non_finite_samples"] == r["n_samples"] == 2500
    code, out, err = run(capsys, "sample", ck, "--n", "3", "--out", tmp_path / "s.npy")
    assert code == 0, err


# ------------------------------------------------------------------------------ 2. bad arguments and arrays
@pytest.mark.parametrize("args,needle", [
    (["--dataset", "image-folder", "--dataset-arg", "path={t}", "--dataset-arg", "size=abc"], "size"),
    (["--dataset", "ring8", "--dataset-arg", "n_modes=abc"], "n_modes"),
    (["--dataset", "ring8", "--dataset-arg", "n_modes=100000000"], "n_modes"),
    (["--dataset", "ring8", "--dataset-arg", "radios=2"], "bad argument 'radios'"),
    (["--dataset", "bimodal1d", "--dataset-arg", "means=[1, \"x\"]"], "means"),
    (["--model-arg", "hidden=-1"], "hidden"),
    (["--model-arg", "layers=abc"], "layers"),
])
def test_typed_dataset_and_model_args(tmp_path, capsys, args, needle):
    code, _, err = run(capsys, "train", *[a.replace("{t}", str(tmp_path)) for a in args], "--out", tmp_path / "x",
                       "--quiet")
    refused(code, err, needle)
    assert not (tmp_path / "x").exists()


def test_every_dataset_builder_takes_exactly_the_typed_arguments():
    import inspect

    from gan_studio.core.train.config import DATASET_ARGS
    from gan_studio.core.train.data.images import cifar10, image_folder, mnist_like
    from gan_studio.core.train.datasets import DATASETS

    real = {"mnist": mnist_like, "fashion-mnist": mnist_like, "cifar10": cifar10, "image-folder": image_folder}
    assert set(DATASET_ARGS) == set(DATASETS)
    for name, spec in DATASETS.items():
        params = inspect.signature(real.get(name, spec.build)).parameters
        takes = {p for p, v in params.items() if v.kind is not v.VAR_KEYWORD and p != "name"}
        assert takes == set(DATASET_ARGS[name]), name


def save_npy(path: Path, a) -> Path:
    np.save(path, a)
    return path


@pytest.mark.parametrize("make,needle", [
    (lambda: np.array([[1e300, 0.0], [0.0, 1.0], [1.0, 1.0]]), "float32"),
    (lambda: np.array([[1 + 2j, 0], [0, 1], [1, 1]]), "complex"),
    (lambda: np.array([[1, 2], [3, 4], [5, 6]], dtype="timedelta64[s]"), "timedelta64"),
    (lambda: np.array([[np.nan, 0.0], [0.0, 1.0]]), "finite"),
])
def test_points_files_are_refused_before_training(tmp_path, capsys, make, needle):
    p = save_npy(tmp_path / "p.npy", make())
    code, _, err = run(capsys, "train", "--dataset", "points", "--dataset-arg", f"path={p}", "--steps", "3",
                       "--out", tmp_path / "x", "--quiet")
    refused(code, err, needle)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("make,extra,needle", [
    (lambda: np.zeros((5, 2), np.complex64), [], "complex"),
    (lambda: np.zeros((5, 2), "timedelta64[s]"), [], "timedelta64"),
    (lambda: np.zeros((5, 0)), [], "no values"),
    (lambda: np.zeros((5, 2)), ["--device", "foo"], "device"),
    (lambda: np.zeros((5, 2)), ["--device", "cuda" if not torch.cuda.is_available() else "cuda:99"], "cuda"),
])
def test_parzen_refuses_arrays_and_devices_it_cannot_use(tmp_path, capsys, make, extra, needle):
    a = save_npy(tmp_path / "a.npy", make())
    code, _, err = run(capsys, "parzen", a, "--test", a, "--quiet", *extra)
    refused(code, err, needle)


@pytest.mark.parametrize("dtype", [np.complex128, "timedelta64[s]", "datetime64[s]"])
def test_eval_refuses_arrays_that_are_not_real_numbers(tmp_path, capsys, dtype):
    a = save_npy(tmp_path / "a.npy", np.zeros((5, 2), dtype))
    code, _, err = run(capsys, "eval", a, "--dataset", "ring8", "--json")
    refused(code, err, np.dtype(dtype).name)


def test_core_refuses_object_and_complex_arrays():
    from gan_studio.core.evaluate.parzen import parzen_evaluate
    from gan_studio.core.evaluate.scores import evaluate_samples
    from gan_studio.core.train.config import ConfigError
    from gan_studio.core.train.data.points import ArrayPoints

    obj = np.array([[1, "x"], [2, None]], dtype=object)
    for bad in (obj, np.zeros((4, 2), np.complex64)):
        with pytest.raises(ConfigError):
            parzen_evaluate(bad, np.zeros((3, 2)))
        with pytest.raises(ConfigError):
            evaluate_samples(bad, "ring8")
        with pytest.raises(DatasetError):
            ArrayPoints(bad)


# ------------------------------------------------------------------------------ 2. hostile images
def png_bytes(width: int, height: int, rows=None, text: bytes | None = None) -> bytes:
    """A valid 1-bit greyscale PNG of any size, built without holding its pixels (rows of zeros)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    z = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    if text is not None:  # compressed text: PIL refuses more than 1 MB once inflated
        out += chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(text, 9))
    return out + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def write_pngs(folder: Path, n: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(folder / f"ok{i}.png")


def test_decompression_bombs_and_huge_text_chunks_are_skipped_quietly(tmp_path, capsys):
    folder = tmp_path / "imgs"
    write_pngs(folder, 2)
    (folder / "bomb.png").write_bytes(png_bytes(20000, 20000))
    (folder / "text.png").write_bytes(png_bytes(16, 16, text=b"x" * (2 * 2**20)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning is printed
        ds = build_dataset("image-folder", {"path": str(folder), "size": 8})
    assert len(ds) == 2 and "2 unreadable skipped" in ds.description and "too large" in ds.description
    (folder / "ok0.png").unlink()
    code, _, err = run(capsys, "train", "--dataset", "image-folder", "--dataset-arg", f"path={folder}",
                       "--out", tmp_path / "x", "--quiet")
    refused(code, err, "found 1 readable images")
    assert "2 unreadable skipped" in err and not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------ 5. full disks
@pytest.fixture
def disk_full(monkeypatch):
    """Every fsync fails with ENOSPC (as on a full file system): what the atomic writers do last."""
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)


def test_train_on_a_full_disk_is_one_line_and_leaves_no_partial_files(tmp_path, capsys, disk_full):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--preset", "ring8", "--steps", "5", "--out", out, "--quiet")
    refused(code, err, "No space left on device")
    assert tmp_files(tmp_path) == []
    assert not (out / "config.json").exists() and not (out / "checkpoint.pt").exists()


def test_train_whose_final_save_fails_keeps_the_previous_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--preset", "ring8", "--steps", "5", "--out", out, "--quiet")
    assert code == 0, err
    before = (out / "checkpoint.pt").read_bytes()
    real_save = torch.save

    def failing_save(obj, f, *a, **k):  # what torch's zip writer raises on a full disk
        real_save({"partial": torch.zeros(10)}, f)
        raise RuntimeError("[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file "
                           "data/3: file write failed")

    monkeypatch.setattr(torch, "save", failing_save)
    code, _, err = run(capsys, "train", "--resume", out / "checkpoint.pt", "--steps", "10", "--out", out, "--quiet")
    refused(code, err, "cannot write")
    monkeypatch.setattr(torch, "save", real_save)
    assert (out / "checkpoint.pt").read_bytes() == before
    assert json.loads((out / "config.json").read_text())["steps"] == 10  # rewritten whole at the start
    assert tmp_files(tmp_path) == []
    assert torch.load(out / "checkpoint.pt", weights_only=True)["iteration"] == 5


def test_export_writes_both_files_or_neither(tmp_path, capsys, good_checkpoint, monkeypatch):
    g, js = tmp_path / "g.safetensors", tmp_path / "g.json"
    real_fsync = os.fsync
    calls = []

    def second_fails(fd):  # the weights are flushed, then the disk is full for the JSON
        calls.append(fd)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", second_fails)
    code, _, err = run(capsys, "export", good_checkpoint, "--out", g)
    refused(code, err, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.setattr(os, "fsync", real_fsync)
    code, _, err = run(capsys, "export", good_checkpoint, "--out", g)
    assert code == 0, err
    before = (g.read_bytes(), js.read_bytes())
    calls.clear()
    monkeypatch.setattr(os, "fsync", second_fails)
    code, _, err = run(capsys, "export", good_checkpoint, "--out", g)
    refused(code, err, "No space left on device")
    assert (g.read_bytes(), js.read_bytes()) == before  # the previous pair, intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "g.safetensors"]


def test_paired_files_roll_back_when_the_second_rename_fails(tmp_path, monkeypatch):
    from gan_studio.core.atomic import CheckpointError, atomic_paths

    a, b = tmp_path / "a.bin", tmp_path / "b.json"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    real_replace = os.replace
    n = []

    def replace(src, dst):
        n.append(dst)
        if Path(dst) == b:
            raise OSError(errno.EIO, "I/O error", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(CheckpointError, match="b.json"):
        with atomic_paths(a, b) as (ta, tb):
            ta.write_bytes(b"new a")
            tb.write_bytes(b"new b")
    monkeypatch.setattr(os, "replace", real_replace)
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.json"]


def test_sample_on_a_full_disk(tmp_path, capsys, good_checkpoint, disk_full):
    code, _, err = run(capsys, "sample", good_checkpoint, "--n", "5", "--out", tmp_path / "s.npy")
    refused(code, err, "No space left on device")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ 6. leftovers of a kill -9
def test_train_removes_the_temp_files_a_killed_save_left(tmp_path, capsys, good_checkpoint):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--preset", "ring8", "--steps", "3", "--out", out, "--quiet")
    assert code == 0, err
    stale = [out / ".checkpoint.pt.k9x2ab.tmp", out / ".config.json.zz11.tmp", out / ".samples.gif.q.gif.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    other = out / ".notes.txt.abc.tmp"  # not a file train writes: not its to remove
    other.write_bytes(b"x")
    code, _, err = run(capsys, "train", "--resume", out / "checkpoint.pt", "--steps", "4", "--out", out, "--quiet")
    assert code == 0, err
    assert not any(p.exists() for p in stale) and other.exists()
    (out / ".checkpoint.pt.again.tmp").write_bytes(b"half")
    code, _, err = run(capsys, "train", "--resume", out / "checkpoint.pt", "--steps", "5", "--out", out, "--quiet")
    assert code == 0, err
    assert not (out / ".checkpoint.pt.again.tmp").exists()


def test_the_stale_temp_helper_lives_in_atomic():
    from gan_studio.core import atomic
    from gan_studio.core.evaluate import reproduce

    assert reproduce.remove_stale_temps is atomic.remove_stale_temps


# ------------------------------------------------------------------------------ 7. the data root, offline
def test_offline_mnist_is_one_line(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://ossci-datasets.s3."
                           "amazonaws.com/mnist/, got:\n<urlopen error [Errno -3] Temporary failure in name "
                           "resolution>\nTried https://yann.lecun.com/exdb/mnist/, got:\n<urlopen error>\n")

    monkeypatch.setattr(images_mod, "_download_torchvision", offline)
    with pytest.raises(DatasetError) as exc:
        build_dataset("mnist", {"root": str(tmp_path), "download": True})  # asked for: nothing is by default
    msg = str(exc.value)
    assert "\n" not in msg and "download failed" in msg and str(tmp_path / "MNIST" / "raw") in msg


def test_the_data_root_honours_the_cache_variable_and_the_readme_says_so(monkeypatch, tmp_path):
    from gan_studio.core.train.data.images import default_data_root

    monkeypatch.delenv("GAN_STUDIO_DATA")
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(tmp_path / "cache"))
    assert default_data_root() == tmp_path / "cache" / "datasets"
    monkeypatch.setenv("GAN_STUDIO_DATA", str(tmp_path / "data"))
    assert default_data_root() == tmp_path / "data"
    monkeypatch.delenv("GAN_STUDIO_DATA")
    monkeypatch.delenv("GAN_STUDIO_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_root() == tmp_path / "home" / ".cache" / "gan-studio" / "datasets"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "~/.cache/gan-studio/data`" not in readme and "~/.cache/gan-studio/datasets" in readme
    assert "$GAN_STUDIO_CACHE/datasets" in readme


# ------------------------------------------------------------------------------ 4. saved studio settings
def test_bad_saved_overrides_are_dropped_one_by_one():
    pytest.importorskip("PySide6")
    from gan_studio.core.train.presets import get_preset
    from gan_studio.gui.runs import usable_overrides

    base = get_preset("ring8").config
    kept, dropped = usable_overrides(base, {"betas": "ab", "k": 2, "lr_d": float("nan"), "bogus": 1,
                                            "dataset_args": {"n_modes": "abc"}, "seed": 7, "mbstd": "yes"})
    assert kept == {"k": 2, "seed": 7}
    assert sorted(dropped) == ["betas", "bogus", "dataset_args", "lr_d", "mbstd"]
    base.replace(**kept)
    # values fine one by one, but not together: the data and model are dropped, the rest kept
    kept, dropped = usable_overrides(base, {"dataset": "digits", "model": "dcgan", "k": 3})
    assert kept == {"k": 3}
    assert usable_overrides(base, ["k", 2]) == ({}, ["all (not a mapping)"])


def test_settings_file_values_of_the_wrong_kind_read_as_defaults(tmp_path):
    pytest.importorskip("PySide6")
    from gan_studio.gui.settings import Settings

    ini = tmp_path / "studio.ini"
    ini.write_text("[run]\npreset=a, b\noverrides=" + "[" * 5000 + "]" * 5000 + "\nspeed=nan\n"
                   "[view]\npanels=\"{\\\"a\\\": NaN}\"\n")
    s = Settings(ini)
    assert s.get("run/preset", "ring8") == "ring8"
    assert s.get("run/overrides", {}) == {}
    assert s.get("run/speed", 1.0) == 1.0
    assert s.get("view/panels", {}) == {}


def test_the_studio_starts_with_the_usable_saved_settings_and_says_which_were_dropped(qtbot, tmp_path):
    pytest.importorskip("PySide6")
    from test_studio import make_window

    from gan_studio.gui.settings import Settings

    s = Settings(tmp_path / "studio.ini")
    s.set("run/preset", "ring8")
    s.set("run/overrides", {"betas": "ab", "k": 2, "dataset_args": {"n_modes": "abc"}, "lr_g": "fast"})
    s.set("run/speed", "nan")
    s.sync()
    w = make_window(qtbot, tmp_path, preset=None)
    try:
        assert w.runs.overrides == {"k": 2}
        assert w.controller.handle.config.k == 2 and w.snapshot.state not in ("error", "loading")
        assert w.banner.isVisible() and w.banner.level == "warn"
        assert "betas" in w.banner.label.text() and "lr_g" in w.banner.label.text()
    finally:
        w.close()


def test_a_checkpoint_written_on_a_gpu_loads_on_the_cpu(tmp_path, capsys, good_checkpoint):
    data = torch.load(good_checkpoint, weights_only=True)
    data["rng"]["cuda"] = torch.zeros(16, dtype=torch.uint8)  # what a CUDA generator's state looks like
    data["rng"]["device_type"] = "cuda"
    data["config"]["device"] = "cuda"
    ck = tmp_path / "gpu.pt"
    torch.save(data, ck)
    for args in commands(ck, tmp_path)[:3] + [["train", "--resume", ck, "--device", "cpu", "--steps", "4",
                                              "--out", tmp_path / "r", "--quiet"]]:
        code, _, err = run(capsys, *args)
        assert code == 0, (args[0], err)
