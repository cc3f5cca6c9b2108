"""The paper reproduction on real MNIST: the mnist-paper preset's initialisation and schedule against the
original code's rules, Table 1 on a tiny budget (outputs, resume, stale temp files), Figures 2 and 3, and
their command modules. Needs ../shared/data/mnist beside the checkout (torchvision layout); skipped
without it."""
from __future__ import annotations

import argparse
import gzip
import importlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO.parent / "shared" / "data" / "mnist"
RAW = MNIST / "MNIST" / "raw"

pytestmark = pytest.mark.skipif(
    not (RAW / "train-images-idx3-ubyte.gz").is_file() and not (RAW / "train-images-idx3-ubyte").is_file(),
    reason="real MNIST not found at ../shared/data/mnist/MNIST/raw (beside the checkout): the paper "
           "reproduction tests need it and never download")

N_SAMPLES, N_TEST = 300, 300  # the paper's 10,000 each would cost ~10 s per evaluation here


def _read_idx_images(stem: str) -> np.ndarray:
    p = RAW / (stem + ".gz")
    data = gzip.open(p, "rb").read() if p.is_file() else (RAW / stem).read_bytes()
    n, h, w = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, h * w)


@pytest.fixture(scope="module")
def train_u8() -> np.ndarray:
    """train[0:50000] as N×784 uint8, read here with numpy only (independent of the dataset code)."""
    return _read_idx_images("train-images-idx3-ubyte")[:50000]


def _cli_module(name: str):
    return importlib.import_module(f"gan_studio.cli.{name}")


def _parse(module_or_cmd, argv):
    p = argparse.ArgumentParser(prog=f"gan-studio {module_or_cmd.NAME}")
    module_or_cmd.add_arguments(p)
    return p.parse_args([str(a) for a in argv])


def _png_array(data: bytes) -> np.ndarray:
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    im = Image.open(io.BytesIO(data))
    im.load()
    return np.asarray(im.convert("RGB"))


# ------------------------------------------------------------------ the preset against the original's rules
def test_mnist_paper_initialisation_and_schedule_follow_the_original(train_u8):
    import torch
    from torch import nn

    from gan_studio.core.train import optim as optim_mod
    from gan_studio.core.train.losses import get_loss
    from gan_studio.core.train.models import Maxout
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.train.trainer import Trainer

    cfg = get_preset("mnist-paper").config
    cfg = cfg.replace(dataset_args=dict(cfg.dataset_args, root=str(MNIST), download=False), device="cpu")
    tr = Trainer(cfg)

    # data: train[0:50000], batches of 100, one joint D+G update per batch
    assert (cfg.dataset, cfg.dataset_args["start"], cfg.dataset_args["stop"]) == ("mnist", 0, 50000)
    assert len(tr.dataset) == 50000
    assert np.array_equal(tr.dataset.images.reshape(50000, -1).numpy(), train_u8)
    assert cfg.batch_size == 100 and cfg.update == "simultaneous" and cfg.k == 1 and cfg.g_steps == 1

    # G: weights uniform in ±0.05 (std 0.05/√3), biases 0 but the output's = logit of the pixel marginals
    g_lin = [m for m in tr.G.modules() if isinstance(m, nn.Linear)]
    assert [tuple(m.weight.shape) for m in g_lin] == [(1200, 100), (1200, 1200), (784, 1200)]
    for m in g_lin:
        w = m.weight.detach().double().numpy().ravel()
        assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.0499
        assert w.std() == pytest.approx(0.05 / math.sqrt(3), rel=0.02)
        assert abs(w.mean()) < 0.001
        assert np.mean(np.abs(w) < 0.025) == pytest.approx(0.5, abs=0.02)  # uniform, not Gaussian (0.61)
    for m in g_lin[:-1]:
        assert not m.bias.detach().any()
    p = np.clip(train_u8.astype(np.float64).mean(0) / 255.0, 1e-5, 1 - 1e-5)
    np.testing.assert_allclose(g_lin[-1].bias.detach().double().numpy(), np.log(p / (1 - p)), rtol=1e-6, atol=1e-5)
    assert g_lin[-1].bias.min().item() == pytest.approx(math.log(1e-5 / (1 - 1e-5)), rel=1e-5)  # blank corners

    # D: maxout 240×5 twice, weights uniform in ±0.005, biases 0; dropout 0.2 on the input, 0.5 on hidden layers
    d_lin = [m for m in tr.D.modules() if isinstance(m, nn.Linear)]
    assert len([m for m in tr.D.modules() if isinstance(m, Maxout)]) == 2
    assert [tuple(m.weight.shape) for m in d_lin] == [(1200, 784), (1200, 240), (1, 240)]
    for m in d_lin:
        w = m.weight.detach().double().numpy().ravel()
        assert np.abs(w).max() <= 0.005
        assert not m.bias.detach().any()
    for m in d_lin[:2]:
        assert m.weight.detach().double().std().item() == pytest.approx(0.005 / math.sqrt(3), rel=0.02)
    body = list(tr.D.body)
    assert isinstance(body[0], nn.Dropout) and body[0].p == pytest.approx(0.2)
    assert [m.p for m in tr.D.modules() if isinstance(m, nn.Dropout)] == pytest.approx([0.2, 0.5, 0.5])

    # noise: uniform in ±√3 (unit variance)
    z = tr.noise(20000, torch.Generator().manual_seed(1)).numpy()
    assert z.shape == (20000, 100)
    assert np.abs(z).max() <= math.sqrt(3) + 1e-6 and np.abs(z).max() > 1.73
    assert z.var() == pytest.approx(1.0, abs=0.02)
    assert np.mean(np.abs(z) < math.sqrt(3) / 2) == pytest.approx(0.5, abs=0.01)

    # SGD 0.1 with D's cost halved (d_obj = ½(…)) = lr_d 0.05 on the sum of the two terms; momentum ramp
    assert cfg.optimizer == "sgd" and cfg.loss == "nonsaturating"
    assert (cfg.lr_d, cfg.lr_g) == (0.05, 0.1)
    loss = get_loss(cfg.loss)
    r, f = torch.randn(50), torch.randn(50)
    both = torch.nn.functional.softplus(-r).mean() + torch.nn.functional.softplus(f).mean()
    assert loss.d_loss(r, f).item() == pytest.approx(both.item())
    assert cfg.lr_d * both.item() == pytest.approx(cfg.lr_g * 0.5 * both.item())
    assert (cfg.momentum, cfg.momentum_final, cfg.momentum_ramp) == (0.5, 0.7, 125000)
    assert [optim_mod.momentum_at(cfg, i) for i in (0, 62500, 125000, 250000)] == pytest.approx([0.5, 0.6, 0.7, 0.7])
    assert cfg.lr_decay == 1.000004

    # a few joint steps: finite losses, the learning rates divided by 1.000004 per step
    n = 3
    for _ in range(n):
        st = tr.step()
        assert math.isfinite(st.d_loss) and math.isfinite(st.g_loss) and st.batch_size == 100
    for lr, lr0, opt in ((tr.lr_d, 0.05, tr.opt_d), (tr.lr_g, 0.1, tr.opt_g)):
        assert lr == pytest.approx(lr0 / 1.000004 ** n, rel=1e-12)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(optim_mod.momentum_at(cfg, n - 1))


# ------------------------------------------------------------------ Table 1 on a tiny budget
@pytest.fixture(scope="module")
def tiny_table1(tmp_path_factory):
    """table1 to iteration 4 (evaluations at 0, 2, 4), then — as after a kill — again to 6, with a stale
    temp file left in the folder in between."""
    import torch

    from gan_studio.core.evaluate.reproduce import table1

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        folder = tmp_path_factory.mktemp("table1")
        log1, log2 = [], []
        r1 = table1(folder, iterations=4, eval_every=2, ckpt_every=2, data_root=str(MNIST), device="cpu",
                    log=log1.append, n_samples=N_SAMPLES, n_test=N_TEST)
        first = {name: (folder / name).read_bytes() for name in ("results.jsonl", "table.md", "curve.png", "curve.svg")}
        stale = folder / ".checkpoint.pt.k1lled.tmp"
        stale.write_bytes(b"half a checkpoint")
        r2 = table1(folder, iterations=6, eval_every=2, ckpt_every=2, data_root=str(MNIST), device="cpu",
                    log=log2.append, n_samples=N_SAMPLES, n_test=N_TEST)
    finally:
        torch.set_num_threads(threads)
    return {"folder": folder, "log1": log1, "log2": log2, "r1": r1, "r2": r2, "first": first, "stale": stale}


def test_table1_writes_results_table_and_curves_and_resumes(tiny_table1):
    from PIL import Image

    t = tiny_table1
    folder = t["folder"]
    first = [json.loads(line) for line in t["first"]["results.jsonl"].decode().splitlines()]
    assert [r["iteration"] for r in first] == [0, 2, 4]
    assert [r["iteration"] for r in t["r1"]] == [0, 2, 4]
    for r in first:
        assert math.isfinite(r["mean"]) and r["stderr"] >= 0 and r["sigma"] > 0
        assert (r["n_samples"], r["n_test"], r["n_valid"]) == (N_SAMPLES, N_TEST, 1000)
    assert "225 ± 2" in t["first"]["table.md"].decode()
    im = Image.open(io.BytesIO(t["first"]["curve.png"]))
    im.verify()
    assert im.format == "PNG" and im.size == (1280, 720)
    assert t["first"]["curve.svg"].lstrip().startswith(b"<svg")

    # the second call resumed at 4, kept 0–4 as they were, and added 6
    assert any("resuming" in line and "iteration 4" in line for line in t["log2"]), t["log2"]
    scored = [line for line in t["log2"] if "Parzen log-likelihood" in line]
    assert len(scored) == 1 and scored[0].startswith("iteration 6:")
    lines = (folder / "results.jsonl").read_text().splitlines()
    assert [json.loads(x)["iteration"] for x in lines] == [0, 2, 4, 6]
    assert "\n".join(lines[:3]) + "\n" == t["first"]["results.jsonl"].decode()  # not redone
    assert [r["iteration"] for r in t["r2"]] == [0, 2, 4, 6]
    assert "| 6 |" in (folder / "table.md").read_text()
    for name in ("checkpoint.pt", "best.pt", "curve.png", "curve.svg"):
        assert (folder / name).is_file(), name

    # the stale temp file of a killed writer is gone, and said so
    assert not t["stale"].exists()
    assert any("removed a temp file" in line and t["stale"].name in line for line in t["log2"])
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))

    from gan_studio.core.train.checkpoint import load_checkpoint

    assert load_checkpoint(folder / "checkpoint.pt")["iteration"] == 6


def test_reproduce_command_module(tiny_table1, capsys):
    import torch

    mod = _cli_module("reproduce")
    assert mod.NAME == "reproduce" and mod.HELP
    with pytest.raises(SystemExit):
        _parse(mod, ["table2", "--out", "x"])
    a = _parse(mod, ["table1", "--out", "x"])
    assert (a.iterations, a.eval_every, a.checkpoint_every, a.device, a.data_root) == (125000, 5000, 2500, "auto", None)
    from gan_studio.core.train.config import ConfigError

    with pytest.raises(ConfigError, match="no such folder"):
        mod.run(_parse(mod, ["table1", "--out", tiny_table1["folder"], "--data-root", tiny_table1["folder"] / "nope"]))
    # on the finished folder: nothing to train or score; the table comes out on stdout
    folder = tiny_table1["folder"]
    a = _parse(mod, ["table1", "--out", folder, "--iterations", 6, "--eval-every", 2, "--checkpoint-every", 2,
                     "--data-root", MNIST, "--device", "cpu", "--threads", 1])
    threads = torch.get_num_threads()
    try:
        assert mod.run(a) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert out == (folder / "table.md").read_text()
    assert "| 6 |" in out and "225 ± 2" in out
    assert [json.loads(x)["iteration"] for x in (folder / "results.jsonl").read_text().splitlines()] == [0, 2, 4, 6]


# ------------------------------------------------------------------ Figures 2 and 3
def test_figure2_png_and_svg_with_real_nearest_training_examples(tiny_table1, train_u8, tmp_path):
    from gan_studio.core.evaluate.figures import write_figure
    from gan_studio.core.train.checkpoint import trainer_from_checkpoint

    ckpt = tiny_table1["folder"] / "checkpoint.pt"
    png_p = write_figure("figure2", ckpt, tmp_path / "f2.png", data_root=str(MNIST))
    svg_p = write_figure("figure2", ckpt, tmp_path / "f2.svg", data_root=str(MNIST))
    img = _png_array(png_p.read_bytes())
    svg = svg_p.read_text()
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "data:image/png;base64," in svg
    # 6×5 cells of 28 px at 2× with 2 px separators and 4 px margins, an 8 px gap, the 2 px framed column
    s, cell, sep, m = 2, 56, 2, 4
    grid_w = 5 * cell + 4 * sep
    nn_x = m + grid_w + 4 * s + s
    assert img.shape == (2 * m + 6 * cell + 5 * sep, nn_x + cell + s + m, 3) == (354, 364, 3)
    assert f'width="{img.shape[1]}" height="{img.shape[0]}"' in svg

    found = {int(r): int(i) for r, i in re.findall(r'data-row="(\d+)" data-train-index="(\d+)"', svg)}
    assert sorted(found) == list(range(6))
    # the framed column holds training images, pixel for pixel
    for r, idx in found.items():
        y = m + r * (cell + sep)
        shown = img[y:y + cell:s, nn_x:nn_x + cell:s, 0]
        assert np.array_equal(shown, train_u8[idx].reshape(28, 28)), (r, idx)
        assert tuple(img[y - 1, nn_x - 1]) == (255, 215, 0)  # the yellow frame
    # ... and they are the nearest (Euclidean, pixel space, train[0:50000]) to the last column's samples
    tr = trainer_from_checkpoint(ckpt, device="cpu", data_root=str(MNIST))
    samples = np.clip(tr.generate(30, seed=0), 0, 1).reshape(30, -1)
    train = train_u8.astype(np.float32) / 255.0
    for r, idx in found.items():
        q = samples[r * 5 + 4]
        d = np.concatenate([((train[i:i + 10000] - q) ** 2).sum(1) for i in range(0, 50000, 10000)])
        assert d[idx] <= d.min() + 1e-4, (r, idx, int(d.argmin()))
        x = m + 4 * (cell + sep)
        y = m + r * (cell + sep)
        assert np.abs(img[y:y + cell:s, x:x + cell:s, 0].astype(int)
                      - np.rint(q.reshape(28, 28) * 255).astype(int)).max() <= 1


def test_nearest_training_matches_brute_force():
    from gan_studio.core.evaluate.figures import nearest_training

    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (2500, 20), dtype=np.uint8)
    q = rng.random((7, 20))
    q[3] = train[1234] / 255.0  # an exact copy is its own neighbour at distance 0
    idx, dist = nearest_training(q, train, chunk=300)
    brute = ((q[:, None, :] - train[None].astype(np.float64) / 255.0) ** 2).sum(-1)
    assert np.array_equal(idx, brute.argmin(1))
    np.testing.assert_allclose(dist, np.sqrt(brute.min(1)), atol=1e-6)
    assert idx[3] == 1234 and dist[3] < 1e-6


def test_figure3_png_and_svg(tiny_table1, tmp_path, capsys):
    from gan_studio.core.evaluate.figures import write_figure

    ckpt = tiny_table1["folder"] / "checkpoint.pt"
    svg_p = write_figure("figure3", ckpt, tmp_path / "f3.svg", data_root=str(MNIST))
    svg = svg_p.read_text()
    assert svg.lstrip().startswith("<svg") and "linear interpolations" in svg
    # the command module writes the PNG
    figs = _cli_module("figures")
    assert [c.NAME for c in figs.COMMANDS] == ["figure1", "figure2", "figure3"]
    cmd = figs.COMMANDS[2]
    a = _parse(cmd, [ckpt, "--out", tmp_path / "f3.png", "--data-root", MNIST, "--seed", 3])
    assert cmd.run(a) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "f3.png")
    img = _png_array((tmp_path / "f3.png").read_bytes())
    assert img.shape == (8 + 8 * 56 + 7 * 2, 8 + 10 * 56 + 9 * 2, 3) == (470, 586, 3)
    a2 = _parse(figs.COMMANDS[1], [ckpt, "--out", tmp_path / "x.svg"])
    assert (a2.rows, a2.cols, a2.seed, a2.data_root) == (6, 5, 0, None)


def test_figure_errors_are_clear(tiny_table1, tmp_path):
    from gan_studio.core.evaluate.figures import FigureError, write_figure
    from gan_studio.core.train.checkpoint import save_checkpoint
    from gan_studio.core.train.config import ConfigError, TrainConfig
    from gan_studio.core.train.trainer import Trainer

    ckpt = tiny_table1["folder"] / "checkpoint.pt"
    for bad in ("f.jpg", "f", "f.png.txt"):
        with pytest.raises(ConfigError) as e:
            write_figure("figure2", ckpt, tmp_path / bad, data_root=str(MNIST))
        assert isinstance(e.value, FigureError)
        msg = str(e.value)
        assert ".png or .svg" in msg and "\n" not in msg
    assert not list(tmp_path.iterdir())
    with pytest.raises(ConfigError, match="unknown figure"):
        write_figure("figure4", ckpt, tmp_path / "f.png")
    toy = Trainer(TrainConfig(dataset="ring8", device="cpu", batch_size=16))
    save_checkpoint(toy, tmp_path / "toy.pt")
    with pytest.raises(ConfigError, match="need a model of images"):
        write_figure("figure2", tmp_path / "toy.pt", tmp_path / "f.png")
    with pytest.raises(ConfigError, match="need a model of images"):
        write_figure("figure3", tmp_path / "toy.pt", tmp_path / "f.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.pt"]


def test_commands_end_in_one_line_and_status_2(tiny_table1, tmp_path):
    from conftest import run_cli

    p = run_cli("figure2", tiny_table1["folder"] / "checkpoint.pt", "--out", tmp_path / "f.jpg")
    assert p.returncode == 2
    assert p.stderr.strip() == (f"gan-studio figure2: error: cannot write {tmp_path / 'f.jpg'}: the file name "
                                f"must end in .png or .svg (got .jpg)")
    p = run_cli("reproduce", "table2", "--out", tmp_path)
    assert p.returncode == 2 and "invalid choice: 'table2'" in p.stderr and len(p.stderr.strip().splitlines()) == 1

