"""The window keeps one current settings object: the run's settings in force (its snapshots) with the live
changes still in flight. A change shows in the controls only while it is in flight or in force; one the run
refuses — at once (the run handle's validation, the only one) or later (what the built networks cannot take)
— puts the control back and is never kept for the next start."""
from __future__ import annotations

import pytest

from gan_studio.core.errors import ConfigError
from gan_studio.core.settings import check_live_change
from gan_studio.core.train.config import TrainConfig
from gan_studio.gui.settings import Settings
from gan_studio.gui.window import StudioWindow

LOAD_MS = 90_000


@pytest.fixture
def conditional_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    monkeypatch.setenv("GAN_STUDIO_THREAD_WORKER", "1")  # a real run, in a thread: no process to start
    w = StudioWindow(settings=Settings(tmp_path / "s.ini"), preset="digits", autoplay=False,
                     overrides={"model": "cond-mlp"})  # labelled digits, a conditional D
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: w.static is not None and w.snapshot is not None, timeout=LOAD_MS)
    yield w
    w.shutdown()


def test_accepted_changes_show_and_are_kept_refused_ones_never(qtbot, conditional_window):
    w, c = conditional_window, conditional_window.controls
    # accepted: in force at once (the run is paused), shown, and kept for the next start
    c.k.setValue(2)
    qtbot.waitUntil(lambda: w.snapshot.config["k"] == 2, timeout=LOAD_MS)
    qtbot.waitUntil(lambda: w.runs.overrides.get("k") == 2, timeout=10_000)
    assert c.k.value() == 2 and not c.error_label.isVisibleTo(c)
    # refused at once by the run handle, with the settings table's reason: a conditional D cannot pack (sent
    # as a doctor's remedy is; the pack control itself is disabled for this D)
    before = dict(w.runs.overrides)
    w.runs.change_live({"pack": 2})
    assert "PacGAN" in c.error_label.text() and c.error_label.isVisibleTo(c)
    assert c.pack.value() == 1 and w.runs.overrides == before
    # later snapshots show what is in force: the refused value never appears, the accepted one stays
    seen = w.snapshot.iteration
    w.controller.handle.step()
    qtbot.waitUntil(lambda: w.snapshot.iteration > seen, timeout=LOAD_MS)
    assert c.pack.value() == 1 and w.snapshot.config["pack"] == 1 and c.k.value() == 2


def test_a_remedy_is_refused_at_once_by_the_settings_rules():
    """Packing and the minibatch-std feature are built into the mlp model: the one validation (at the run
    handle) says so before anything is queued, with the same words the trainer used."""
    dcgan = TrainConfig(dataset="digits", model="dcgan").to_dict()
    with pytest.raises(ConfigError, match="mlp model only"):
        check_live_change({"mbstd": True}, dcgan)
    with pytest.raises(ConfigError, match="PacGAN"):
        check_live_change({"pack": 2}, dcgan)
    check_live_change({"pack": 2, "mbstd": True}, TrainConfig().to_dict())  # the mlp takes both
