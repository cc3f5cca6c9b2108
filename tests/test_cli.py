"""The command line, run as a separate process the way a user runs it."""
import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import run_cli


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_train_writes_a_run_folder_and_reports(tmp_path):
    out = tmp_path / "run"
    p = run_cli("train", "--preset", "ring8", "--steps", "120", "--seed", "2", "--out", out, "--quiet", check=True)
    res = last_json(p.stdout)
    assert res["iterations"] == 120 and res["it_per_s"] > 0 and res["seconds"] > 0
    assert res["modes_covered"] <= 8 and res["n_modes"] == 8
    for f in ("checkpoint.pt", "samples.gif", "metrics.jsonl", "config.json"):
        assert (out / f).is_file(), f
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["iteration"] for x in lines] == list(range(10, 121, 10))
    assert all(np.isfinite(x["d_loss"]) and "d_real" in x for x in lines)
    with Image.open(out / "samples.gif") as im:
        assert im.is_animated and im.n_frames >= 4 and im.info.get("loop") == 0  # (exact spacing: test_run_observers)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["iteration"] == 120


def test_resume_through_the_cli_matches_one_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_cli("train", "--preset", "ring8", "--steps", "60", "--out", a, "--quiet", check=True)
    run_cli("train", "--preset", "ring8", "--steps", "30", "--out", b, "--quiet", check=True)
    p = run_cli("train", "--resume", b / "checkpoint.pt", "--steps", "60", "--out", b, "--quiet", check=True)
    assert last_json(p.stdout)["trained"] == 30
    ca = torch.load(a / "checkpoint.pt", weights_only=True)
    cb = torch.load(b / "checkpoint.pt", weights_only=True)
    for k in ca["G"]:
        assert torch.equal(ca["G"][k], cb["G"][k])
    assert (a / "metrics.jsonl").read_text() .count("\n") == (b / "metrics.jsonl").read_text().count("\n") == 6
    la = [json.loads(x)["d_loss"] for x in (a / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x)["d_loss"] for x in (b / "metrics.jsonl").read_text().splitlines()]
    assert la == lb


def test_sample_points_and_images(tmp_path):
    run_cli("train", "--preset", "ring8", "--steps", "5", "--out", tmp_path / "r", "--quiet", check=True)
    p = run_cli("sample", tmp_path / "r" / "checkpoint.pt", "--n", "300", "--out", tmp_path / "s.npy", check=True)
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (300, 2) and x.dtype == np.float32 and last_json(p.stdout)["shape"] == [300, 2]
    again = tmp_path / "s2.npy"
    run_cli("sample", tmp_path / "r" / "checkpoint.pt", "--n", "300", "--out", again, check=True)
    np.testing.assert_array_equal(x, np.load(again))  # same --seed, same samples

    run_cli("train", "--dataset", "digits", "--model", "dcgan", "--model-arg", "width=8", "--z-dim", "8",
            "--steps", "3", "--batch-size", "16", "--out", tmp_path / "d", "--quiet", check=True)
    run_cli("sample", tmp_path / "d" / "checkpoint.pt", "--n", "10", "--out", tmp_path / "d.npy", check=True)
    imgs = np.load(tmp_path / "d.npy")
    assert imgs.shape == (10, 1, 8, 8) and imgs.min() >= 0 and imgs.max() <= 1


def test_presets_list_and_json():
    p = run_cli("presets", check=True)
    names = [line.split()[0] for line in p.stdout.splitlines()]
    for required in ("ring8", "grid25", "figure1", "digits", "mnist-paper"):
        assert required in names
    js = json.loads(run_cli("presets", "--json", check=True).stdout)
    assert js["ring8"]["config"]["dataset_args"]["sigma"] == 0.05
    assert js["ring8"]["config"]["dataset_args"]["radius"] == 2.0
    mp = js["mnist-paper"]["config"]
    # lr_d 0.05: the original halves D's cost (d_obj = ½(…)) and steps it with lr 0.1 — the same update
    assert (mp["model"], mp["batch_size"], mp["lr_d"], mp["lr_g"], mp["momentum"], mp["momentum_final"],
            mp["update"], mp["model_args"]["init"]) == ("paper-mlp", 100, 0.05, 0.1, 0.5, 0.7, "simultaneous", "paper")


def test_export_generator(tmp_path):
    run_cli("train", "--preset", "ring8", "--steps", "3", "--out", tmp_path / "r", "--quiet", check=True)
    p = run_cli("export", tmp_path / "r" / "checkpoint.pt", "--out", tmp_path / "g.safetensors", check=True)
    assert (tmp_path / "g.safetensors").is_file() and (tmp_path / "g.json").is_file()
    assert last_json(p.stdout)["iteration"] == 3


@pytest.mark.parametrize("args,needle", [
    (["train", "--preset", "nope", "--out", "{t}/x"], "unknown preset 'nope'"),
    (["train", "--k", "0", "--out", "{t}/x"], "--k: must be at least 1"),
    (["train", "--lr-d", "fast", "--out", "{t}/x"], "expected a number"),
    (["train", "--dataset", "imagenet", "--out", "{t}/x"], "unknown dataset 'imagenet'"),
    (["train", "--loss", "magic", "--out", "{t}/x"], "unknown loss 'magic'"),
    (["train", "--dataset", "points", "--dataset-arg", "path={t}/none.npy", "--out", "{t}/x"], "no such file"),
    (["train", "--device", "cuda:7" if not torch.cuda.is_available() else "tpu", "--out", "{t}/x"], "device"),
    (["train", "--preset", "ring8"], "--out"),
    (["sample", "{t}/missing.pt", "--out", "{t}/s.npy"], "no such checkpoint"),
    (["sample", "{t}/garbage.pt", "--out", "{t}/s.npy"], "corrupt"),
    (["train", "--resume", "{t}/garbage.pt", "--out", "{t}/x"], "corrupt"),
    (["sample", "{t}/garbage.pt", "--out", "{t}/s.txt"], "must end in .npy"),
    (["train", "--dataset", "mnist", "--data-root", "{t}/empty", "--dataset-arg", "download=false", "--out", "{t}/x"],
     "MNIST/raw"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_gets_one_clear_line_and_nonzero_exit(tmp_path, args, needle):
    (tmp_path / "garbage.pt").write_bytes(b"\x00garbage" * 50)
    p = run_cli(*[a.replace("{t}", str(tmp_path)) for a in args])
    assert p.returncode != 0
    err = p.stderr.strip()
    assert needle in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_resume_with_a_conflicting_dataset_is_refused(tmp_path):
    run_cli("train", "--preset", "ring8", "--steps", "3", "--out", tmp_path / "r", "--quiet", check=True)
    p = run_cli("train", "--resume", tmp_path / "r" / "checkpoint.pt", "--dataset", "grid25", "--out", tmp_path / "r")
    assert p.returncode == 2 and "dataset: checkpoint has 'ring8', you asked for 'grid25'" in p.stderr


def test_gif_writer_frames_and_loop(tmp_path):
    from gan_studio.core import TrainConfig, Trainer
    from gan_studio.core.export.gif import GifRecorder

    tr = Trainer(TrainConfig(dataset="digits", model="mlp", model_args={"hidden": 16, "out_range": "unit"},
                             z_dim=4, batch_size=16, device="cpu"))
    rec = tr.add_observer(GifRecorder(every=2, max_frames=8))
    tr.run(40)  # 20 captures into at most 8 frames: decimated, evenly spaced
    assert 4 <= len(rec.frames) <= 8 and rec.every > 2
    its = [i for i, _ in rec.frames]
    assert its == sorted(its) and len(set(np.diff(its))) == 1
    rec.write(tmp_path / "g.gif", duration_ms=80)
    frames = iio.imread(tmp_path / "g.gif", index=None)
    assert frames.shape[0] == len(rec.frames)
    with Image.open(tmp_path / "g.gif") as im:
        assert im.info.get("loop") == 0 and im.info.get("duration") == 80
