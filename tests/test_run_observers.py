"""Trainer.run() tells observers when a run starts and why it ended; the end-of-run work (checkpoints, the
GIF) is done by observers from the core."""
import pytest
import torch
from PIL import Image

from gan_studio.core import Diverged, TrainConfig, Trainer
from gan_studio.core.export.gif import GifRecorder
from gan_studio.core.record.observers import PeriodicCheckpoint
from gan_studio.core.train.trainer import RUN_END_REASONS, Observer


def small(**kw):
    base = dict(dataset="ring8", model="mlp", model_args={"hidden": 16, "layers": 1}, batch_size=32, z_dim=2,
                device="cpu", seed=1, steps=10)
    base.update(kw)
    return TrainConfig(**base)


class Log(Observer):
    def __init__(self, fail_at=None, exc=None):
        self.events, self.fail_at, self.exc = [], fail_at, exc

    def on_run_start(self, trainer):
        self.events.append(("start", trainer.iteration))

    def on_iteration(self, trainer, stats):
        if stats.iteration == self.fail_at:
            raise self.exc

    def on_run_end(self, trainer, reason):
        assert reason in RUN_END_REASONS
        self.events.append(("end", trainer.iteration, reason))


@pytest.mark.parametrize("fail,expect_exc,reason", [
    (None, None, "finished"), (KeyboardInterrupt(), KeyboardInterrupt, "interrupted"),
    (RuntimeError("boom"), RuntimeError, "error")])
def test_run_start_and_end_with_the_reason(fail, expect_exc, reason):
    tr = Trainer(small())
    log = tr.add_observer(Log(fail_at=3 if fail else None, exc=fail))

    class Plain:  # observers need not subclass Observer nor have the new hooks
        def on_iteration(self, trainer, stats):
            pass

    tr.add_observer(Plain())
    if expect_exc:
        with pytest.raises(expect_exc):
            tr.run(6)
    else:
        tr.run(6)
    assert log.events == [("start", 0), ("end", 3 if fail else 6, reason)]


def test_stopped_and_diverged_runs_report_why():
    tr = Trainer(small(), safe_every=1)
    log = tr.add_observer(Log())
    tr.run(10, should_stop=lambda: tr.iteration >= 2)
    with torch.no_grad():
        next(iter(tr.D.parameters()))[0, 0] = float("nan")
    with pytest.raises(Diverged):
        tr.run(10)
    assert log.events == [("start", 0), ("end", 2, "stopped"), ("start", 2), ("end", 2, "diverged")]


def test_periodic_checkpoint_during_and_at_the_end(tmp_path, monkeypatch):
    from gan_studio.core.train import checkpoint

    saved = []
    real = checkpoint.save_checkpoint
    monkeypatch.setattr(checkpoint, "save_checkpoint", lambda tr, p: saved.append(tr.iteration) or real(tr, p))
    tr = Trainer(small())
    ck = tr.add_observer(PeriodicCheckpoint(tmp_path / "c.pt", every=2))
    tr.run(5)
    assert saved == [2, 4, 5] and ck.saved_at == 5
    assert torch.load(tmp_path / "c.pt", weights_only=True)["iteration"] == 5
    tr.run(6)  # ends on a multiple of every: written once, not twice
    assert saved == [2, 4, 5, 6]


def test_gif_recorder_with_a_path_writes_first_and_last_frame_at_the_end(tmp_path):
    tr = Trainer(small())
    gif = tr.add_observer(GifRecorder(every=4, path=tmp_path / "g.gif", duration_ms=50))
    tr.run(9)
    assert [i for i, _ in gif.frames] == [0, 4, 8, 9]
    with Image.open(tmp_path / "g.gif") as im:
        assert im.n_frames == 4 and im.info.get("loop") == 0
    plain = GifRecorder(every=4)  # without a path: only the multiples of every, nothing written
    tr2 = Trainer(small())
    tr2.add_observer(plain)
    tr2.run(9)
    assert [i for i, _ in plain.frames] == [4, 8]


ROUND = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _record(path, budget, steps=120):
    import json

    from gan_studio.core.record.runfolder import RunFolder, RunWriter

    tr = Trainer(small(steps=steps))
    w = tr.add_observer(RunWriter(path, tr, every=1, background=True, budget=budget))
    tr.run(steps)
    w.close(tr)
    return w.every, RunFolder(path).iterations, json.loads((path / "run.json").read_text())["snapshot_every"]


def test_snapshots_that_cost_more_than_their_budget_are_taken_less_often_and_evenly(tmp_path):
    """A snapshot (views, a state, files: milliseconds) against a tiny iteration: with a budget of 1% of the
    run's time their spacing doubles until they fit, evenly spaced and said in run.json; without one, every
    iteration asked for is recorded."""
    every, its, said = _record(tmp_path / "fixed", None)
    assert every == said == 1 and its == list(range(121))
    every, its, said = _record(tmp_path / "budget", 0.01, steps=400)
    assert every >= 20 and said == every and every in ROUND
    assert len(its) < 40 and its[0] == 0 and its[-1] == 400  # the last one: the run's end
    # each one a multiple of the round spacing in force, which never shrinks
    spacing = [max(r for r in ROUND if r <= b - a) for a, b in zip(its, its[1:-1])]
    assert all(b % s == 0 for b, s in zip(its[1:-1], spacing)) and spacing == sorted(spacing)


def test_train_snapshot_every_and_gif_every_record_exactly_that_spacing(tmp_path, capsys):
    from gan_studio.__main__ import main
    from gan_studio.core.record.runfolder import RunFolder

    assert main(["train", "--preset", "ring8", "--steps", "60", "--snapshot-every", "7", "--gif-every", "6", "--out",
                 str(tmp_path / "r"), "--quiet"]) == 0
    assert RunFolder(tmp_path / "r").iterations == list(range(0, 57, 7)) + [60]
    with Image.open(tmp_path / "r" / "samples.gif") as im:  # iterations 0, 6, ..., 60
        assert im.n_frames == 11


def test_gif_frames_that_cost_more_than_their_budget_are_drawn_less_often(tmp_path):
    """The same rule for the GIF: a frame (~10 ms: D's field drawn) every tiny iteration, with 1% of the run's
    time to spend, is drawn far less often; without a budget, every iteration asked for."""
    frames = {}
    for budget in (None, 0.01):
        tr = Trainer(small(steps=120))
        gif = tr.add_observer(GifRecorder(every=1, max_frames=200, background=True, budget=budget))
        tr.run(120)
        gif.flush()
        frames[budget] = [it for it, _ in gif.frames]
    assert frames[None] == list(range(1, 121))
    assert len(frames[0.01]) < 30 and gif.every >= 10 and gif.every in ROUND
