"""Checkpoints a user can trust: exact resume, refusal of code-running pickles, clear errors, atomic writes."""
import os
import pickle

import numpy as np
import pytest
import torch

from gan_studio.core import TrainConfig, Trainer
from gan_studio.core.train.checkpoint import (CheckpointError, export_generator, load_checkpoint, load_generator,
                                        save_checkpoint, trainer_from_checkpoint)


def cfg(**kw):
    base = dict(dataset="ring8", model="mlp", model_args={"hidden": 32}, batch_size=64, device="cpu", seed=1,
                steps=40)
    base.update(kw)
    return TrainConfig(**base)


def same_weights(a, b):
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


@pytest.mark.parametrize("conf", [
    dict(),  # Adam, toy data
    dict(dataset="digits", model="paper-mlp", model_args={"g_hidden": 64, "d_units": 16, "pieces": 3}, z_dim=10,
         optimizer="sgd", lr_d=0.05, lr_g=0.05, momentum=0.5, momentum_final=0.7, momentum_ramp=30,
         lr_decay=1.001, noise="uniform", batch_size=500),  # dropout RNG, epochs of a finite dataset, schedules
    dict(dataset="digits", model="dcgan", model_args={"width": 8}, z_dim=8, loss="wgan-gp", k=2),  # BN buffers, GP
])
def test_resume_equals_uninterrupted(tmp_path, conf):
    full = Trainer(cfg(**conf))
    full.run(40)

    first = Trainer(cfg(**conf))
    first.run(20)
    save_checkpoint(first, tmp_path / "c.pt")
    del first
    second = trainer_from_checkpoint(tmp_path / "c.pt")
    assert second.iteration == 20
    second.run(40)

    same_weights(full.G, second.G)
    same_weights(full.D, second.D)
    assert list(full.history["d_loss"]) == list(second.history["d_loss"])
    assert list(full.history["g_loss"]) == list(second.history["g_loss"])
    np.testing.assert_array_equal(full.fixed_samples(), second.fixed_samples())


def test_checkpoint_is_plain_data_with_everything(tmp_path):
    tr = Trainer(cfg())
    tr.run(5)
    save_checkpoint(tr, tmp_path / "c.pt")
    data = torch.load(tmp_path / "c.pt", weights_only=True)  # no arbitrary objects needed
    assert data["format"] == "gan-studio/checkpoint" and data["iteration"] == 5
    for key in ("G", "D", "opt_G", "opt_D", "config", "rng", "history", "fixed_z"):
        assert key in data
    assert data["config"]["dataset_args"] == {} and data["config"]["model_args"] == {"hidden": 32}
    assert len(data["history"]["d_loss"]) == 5


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling this would create a file: the classic code-execution pickle
        return (open, (self.marker, "w"))


def test_crafted_pickle_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "gan-studio/checkpoint", "payload": RunsCode(str(marker))}, evil)
    with pytest.raises(CheckpointError, match="refused") as exc:
        load_checkpoint(evil)
    assert "could run code" in str(exc.value)
    assert not marker.exists()
    # the same through plain pickle protocol (not a torch zip file)
    evil2 = tmp_path / "evil2.pt"
    evil2.write_bytes(pickle.dumps(RunsCode(str(marker))))
    with pytest.raises(CheckpointError):
        load_checkpoint(evil2)
    assert not marker.exists()


def test_corrupt_truncated_empty_and_foreign_files(tmp_path):
    tr = Trainer(cfg())
    tr.run(2)
    good = tmp_path / "good.pt"
    save_checkpoint(tr, good)
    blob = good.read_bytes()

    (tmp_path / "trunc.pt").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(tmp_path / "trunc.pt")

    (tmp_path / "noise.pt").write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path / "noise.pt")

    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "empty.pt")

    torch.save({"state_dict": {"w": torch.zeros(3)}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a GAN Studio checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")

    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_resume_with_conflicting_settings_says_which(tmp_path):
    tr = Trainer(cfg())
    tr.run(2)
    save_checkpoint(tr, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="dataset: checkpoint has 'ring8', you asked for 'grid25'"):
        trainer_from_checkpoint(tmp_path / "c.pt", {"dataset": "grid25"})
    with pytest.raises(CheckpointError, match="seed"):
        trainer_from_checkpoint(tmp_path / "c.pt", {"seed": 99})
    # live settings may change on resume
    t2 = trainer_from_checkpoint(tmp_path / "c.pt", {"lr_d": 5e-4, "k": 2})
    t2.step()
    assert t2.opt_d.param_groups[0]["lr"] == pytest.approx(5e-4) and t2.config.k == 2


def test_failed_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    tr = Trainer(cfg())
    tr.run(3)
    path = tmp_path / "c.pt"
    save_checkpoint(tr, path)
    before = path.read_bytes()
    tr.run(6)

    real_save = torch.save

    def failing_save(obj, f, *a, **k):
        real_save({"partial": torch.zeros(10)}, f)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(CheckpointError, match="No space left"):
        save_checkpoint(tr, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind
    assert load_checkpoint(path)["iteration"] == 3


def test_unwritable_destination(tmp_path):
    tr = Trainer(cfg())
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint(tr, tmp_path / "no" / "such" / "c.pt")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(CheckpointError, match="not writable"):
            save_checkpoint(tr, ro / "c.pt")


def test_checkpoint_after_divergence_holds_the_last_good_weights(tmp_path):
    from gan_studio.core import Diverged

    tr = Trainer(cfg(), safe_every=1)
    tr.run(3)
    with torch.no_grad():
        next(iter(tr.G.parameters())).fill_(float("inf"))
    with pytest.raises(Diverged):
        tr.step()
    save_checkpoint(tr, tmp_path / "c.pt")
    t2 = trainer_from_checkpoint(tmp_path / "c.pt")
    assert all(torch.isfinite(p).all() for p in t2.G.parameters())
    assert t2.diverged and "diverged at iteration 4" in t2.diverged


def test_generator_export_round_trip(tmp_path):
    tr = Trainer(cfg(dataset="digits", model="dcgan", model_args={"width": 8}, z_dim=8))
    tr.run(3)
    st, js = export_generator(tr, tmp_path / "g.safetensors")
    assert st.exists() and js.exists()
    G, meta = load_generator(st)
    assert meta["z_dim"] == 8 and meta["data_shape"] == [1, 8, 8] and meta["out_range"] == "tanh"
    z = torch.randn(4, 8)
    tr.G.eval()
    with torch.no_grad():
        assert torch.allclose(G(z), tr.G(z))
    with pytest.raises(CheckpointError):
        load_generator(tmp_path / "c.json")


def test_sizes_are_checked_from_the_zip_directory_before_torch_load_spends_memory(tmp_path, monkeypatch):
    """issue 26: a received checkpoint or state is checked before it is unpacked: an archive that unpacks to
    more than it holds (compressed entries: a zip bomb), the older format (which allocates what its header
    claims) and a file larger than the memory allowed are refused with one line; a genuine one loads."""
    import zipfile

    from gan_studio.core.train.sizes import LIMIT_ENV

    tr = Trainer(cfg())
    tr.run(2)
    good = tmp_path / "good.pt"
    save_checkpoint(tr, good)
    assert load_checkpoint(good)["iteration"] == 2

    bomb = tmp_path / "bomb.pt"  # the genuine entries, recompressed, and 64 MB of zeros in a few hundred KB
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("archive/data/99", b"\0" * 2**26)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(CheckpointError, match="compressed entries"):
        load_checkpoint(bomb)

    legacy = tmp_path / "legacy.pt"
    torch.save({"format": "gan-studio-checkpoint"}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="not a PyTorch zip archive"):
        load_checkpoint(legacy)

    st, _ = export_generator(tr, tmp_path / "g.safetensors")  # a file of another kind says which
    with pytest.raises(CheckpointError, match="generator export"):
        load_checkpoint(st)

    monkeypatch.setenv(LIMIT_ENV, "1K")
    with pytest.raises(CheckpointError, match=LIMIT_ENV):
        load_checkpoint(good)
