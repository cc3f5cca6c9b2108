"""Every dataset, model and loss in the registries trains a few real iterations."""
import gzip
import shutil

import numpy as np
import pytest
import torch

from gan_studio.core import TrainConfig, Trainer
from gan_studio.core.train.datasets import DATASETS, DatasetError, build_dataset
from gan_studio.core.train.losses import LOSSES
from gan_studio.core.train.models import MODELS


def train_a_bit(n=3, **kw):
    base = dict(batch_size=16, device="cpu", seed=0, steps=n)
    base.update(kw)
    tr = Trainer(TrainConfig(**base))
    before = [p.detach().clone() for p in tr.G.parameters()]
    tr.run(n)
    assert tr.iteration == n
    assert np.isfinite(np.asarray(tr.history["d_loss"])).all()
    assert np.isfinite(np.asarray(tr.history["g_loss"])).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, tr.G.parameters())), "G did not change"
    return tr


def write_pngs(folder, n=6, size=20, rgb=True):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        a = rng.integers(0, 255, (size, size + 4, 3) if rgb else (size, size), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"not a png at all")
    return folder


@pytest.mark.parametrize("name", ["ring8", "grid25", "bimodal1d", "spiral", "moons"])
def test_point_datasets_train(name):
    tr = train_a_bit(dataset=name, model="mlp", model_args={"hidden": 16},
                     z_dim=1 if name == "bimodal1d" else 2)
    assert tr.fixed_samples().shape[1] == tr.dataset.dim


def test_mixtures_expose_modes_and_sigma():
    ring = build_dataset("ring8", {"radius": 3.0, "sigma": 0.02})
    assert ring.centers.shape == (8, 2) and ring.sigma == 0.02
    assert np.allclose(np.linalg.norm(ring.centers, axis=1), 3.0)
    grid = build_dataset("grid25", {"spacing": 2.0, "sigma": 0.05})
    assert grid.centers.shape == (25, 2)
    assert sorted(set(np.round(grid.centers[:, 0], 6))) == [-4, -2, 0, 2, 4]
    x, _ = ring.sample(4000, torch.Generator().manual_seed(0))
    d = np.sqrt(((x.numpy()[:, None] - ring.centers[None]) ** 2).sum(-1)).min(1)
    assert np.mean(d < 3 * 0.02) > 0.98  # samples really come from the mixture


def test_user_points_from_file(tmp_path):
    pts = np.random.default_rng(1).normal(size=(200, 2)).astype(np.float32)
    np.save(tmp_path / "p.npy", pts)
    train_a_bit(dataset="points", dataset_args={"path": str(tmp_path / "p.npy")}, model="mlp")
    np.savetxt(tmp_path / "p.csv", pts, delimiter=",")
    ds = build_dataset("points", {"path": str(tmp_path / "p.csv")})
    assert ds.dim == 2 and len(ds.array) == 200


@pytest.mark.parametrize("content,match", [("1,2\n3,nan\n", "finite"), ("hello", "cannot read"), (None, "no such")])
def test_bad_points_files_get_clear_messages(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(DatasetError, match=match):
        build_dataset("points", {"path": str(p)})


def test_digits_no_download_and_labels():
    ds = build_dataset("digits")
    assert ds.shape == (1, 8, 8) and len(ds) == 1797 and ds.n_classes == 10
    x, y = ds.sample(32, torch.Generator().manual_seed(0))
    assert x.min() >= 0 and x.max() <= 1 and x.max() > 0.9 and y.shape == (32,)


def test_mnist_reads_the_real_files(mnist_root):
    ds = build_dataset("mnist", {"root": mnist_root, "split": "test", "download": False})
    assert len(ds) == 10000 and ds.shape == (1, 28, 28) and ds.n_classes == 10
    x, y = ds.sample(100, torch.Generator().manual_seed(0))
    assert 0.1 < float(x.mean()) < 0.2  # MNIST's mean intensity is ~0.13
    sl = build_dataset("mnist", {"root": mnist_root, "split": "test", "download": False, "start": 9000})
    assert len(sl) == 1000


def test_mnist_truncated_file_is_reported(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    src = f"{mnist_root}/MNIST/raw/t10k-images-idx3-ubyte.gz"
    data = gzip.open(src).read()
    (raw / "t10k-images-idx3-ubyte").write_bytes(data[: len(data) // 2])
    shutil.copy(f"{mnist_root}/MNIST/raw/t10k-labels-idx1-ubyte.gz", raw)
    with pytest.raises(DatasetError, match="truncated"):
        build_dataset("mnist", {"root": str(tmp_path), "split": "test", "download": False})


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST/raw"), ("fashion-mnist", "FashionMNIST/raw"),
                                         ("cifar10", "cifar-10-batches-py")])
def test_missing_download_datasets_name_the_folder(tmp_path, name, folder):
    with pytest.raises(DatasetError) as exc:
        build_dataset(name, {"root": str(tmp_path), "download": False})
    assert str(tmp_path / folder) in str(exc.value)


def test_image_folder_skips_unreadable_files(tmp_path):
    write_pngs(tmp_path / "imgs")
    ds = build_dataset("image-folder", {"path": str(tmp_path / "imgs"), "size": 16})
    assert len(ds) == 6 and ds.shape == (3, 16, 16) and "1 unreadable skipped" in ds.description
    with pytest.raises(DatasetError, match="no such folder"):
        build_dataset("image-folder", {"path": str(tmp_path / "nope")})


def test_unknown_names_are_refused():
    with pytest.raises(DatasetError, match="unknown dataset"):
        build_dataset("imagenet")
    with pytest.raises(DatasetError, match="bad argument"):
        build_dataset("ring8", {"radios": 2})


@pytest.mark.parametrize("loss", sorted(set(LOSSES)))
def test_every_loss_trains(loss):
    train_a_bit(dataset="ring8", model="mlp", model_args={"hidden": 16}, loss=loss)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_trains_on_digits(model):
    args = {"hidden": 32} if "mlp" in model and "paper" not in model else {}
    if "paper" in model:
        args = {"g_hidden": 64, "d_units": 16, "pieces": 3}
    if "dcgan" in model:
        args = {"width": 8}
    tr = train_a_bit(dataset="digits", model=model, model_args=args, z_dim=8)
    x = tr.fixed_samples(8)
    assert x.shape == (8, 1, 8, 8) and x.min() >= 0 and x.max() <= 1


def test_dcgan_sizes_28_and_32(tmp_path, mnist_root):
    tr = train_a_bit(n=2, dataset="mnist", dataset_args={"root": mnist_root, "split": "test", "download": False},
                     model="dcgan", model_args={"width": 8}, z_dim=16)
    assert tr.fixed_samples(2).shape == (2, 1, 28, 28)
    write_pngs(tmp_path / "c", n=4, size=40)
    tr = train_a_bit(n=2, dataset="image-folder", dataset_args={"path": str(tmp_path / "c"), "size": 32},
                     model="cond-dcgan" if False else "dcgan", model_args={"width": 8}, z_dim=16, batch_size=4)
    assert tr.fixed_samples(2).shape == (2, 3, 32, 32)


def test_paper_mlp_matches_the_original_architecture():
    from gan_studio.core.train.models import Maxout, build_models

    G, D = build_models("paper-mlp", (1, 28, 28), 100, None)
    lin = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(100, 1200), (1200, 1200), (1200, 784)]
    assert isinstance(list(G.body)[-1], torch.nn.Sigmoid)
    mx = [m for m in D.modules() if isinstance(m, Maxout)]
    assert [(m.units, m.pieces) for m in mx] == [(240, 5), (240, 5)]
    drops = [m.p for m in D.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops == [0.2, 0.5, 0.5]


def test_conditional_models_need_labels():
    from gan_studio.core.train.config import ConfigError

    with pytest.raises(ConfigError, match="labelled"):
        Trainer(TrainConfig(dataset="ring8", model="cond-mlp", device="cpu"))
    with pytest.raises(ConfigError, match="image"):
        Trainer(TrainConfig(dataset="ring8", model="dcgan", device="cpu"))


def test_conditional_generator_follows_its_labels():
    """After a conditional run on digits, G's mean image for each label is nearest the real mean of that
    label (label conditioning really steers the generator). 2,000 iterations: 10 of 10 labels (1,000: none,
    1,500: 9)."""
    tr = Trainer(TrainConfig(dataset="digits", model="cond-mlp", model_args={"hidden": 128, "out_range": "unit"},
                             z_dim=8, batch_size=64, device="cpu", seed=0, steps=2000))
    tr.run(2000)
    X, Y = tr.dataset.images.float() / 255, tr.dataset.labels
    z = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        gen_means = torch.stack([tr.G(z, torch.full((200,), c)).mean(0).flatten() for c in range(10)])
    real_means = torch.stack([X[Y == c].mean(0).flatten() for c in range(10)])
    nearest = torch.cdist(gen_means, real_means).argmin(1)
    assert int((nearest == torch.arange(10)).sum()) >= 8, nearest.tolist()
