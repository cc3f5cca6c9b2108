"""Every user-facing input with bad values: CLI flags of every command, typed widget values, dialogs.
Each gets one clear line (CLI: exit status 2, no traceback) or a visible reason (widgets), and changes
nothing."""
from __future__ import annotations

import pytest

from conftest import run_cli

BAD_FLAGS = [
    (["train", "--g-steps", "0", "--out", "{t}/x"], "must be at least 1"),
    (["train", "--batch-size", "-3", "--out", "{t}/x"], "must be at least 1"),
    (["train", "--z-dim", "two", "--out", "{t}/x"], "expected a whole number"),
    (["train", "--noise", "cauchy", "--out", "{t}/x"], "invalid choice"),
    (["train", "--optimizer", "rmsprop", "--out", "{t}/x"], "invalid choice"),
    (["train", "--steps", "-5", "--out", "{t}/x"], "must be 0 or more"),
    (["train", "--seed", "-1", "--out", "{t}/x"], "must be 0 or more"),
    (["train", "--lr-g", "inf", "--out", "{t}/x"], "finite"),
    (["train", "--momentum", "nan", "--out", "{t}/x"], "finite"),
    (["train", "--log-every", "0", "--out", "{t}/x"], "must be at least 1"),
    (["train", "--gif-every", "0", "--out", "{t}/x"], "must be at least 1"),
    (["train", "--save-every", "-1", "--out", "{t}/x"], "must be 0 or more"),
    (["train", "--model-arg", "hidden", "--out", "{t}/x"], "KEY=VALUE"),
    (["train", "--model", "transformer", "--out", "{t}/x"], "transformer"),
    (["train", "--preset", "ring8", "--lr-d", "0", "--out", "{t}/x"], "lr_d must be a learning rate"),
    (["train", "--preset", "ring8", "--out", "{t}/file.txt/x"], "run folder"),
    (["--size", "10x10"], "out of range"),
    (["--size", "big"], "WIDTHxHEIGHT"),
    (["--exit-after", "0"], "must be more than 0"),
    (["--screenshot", "{t}/s.png"], "needs --exit-after"),
    (["--device", "quantum", "--exit-after", "1"], "device"),
    (["--preset", "nope", "--exit-after", "1"], "unknown preset"),
    (["sample", "{t}/missing.pt", "--n", "0", "--out", "{t}/s.npy"], "must be at least 1"),
    (["export", "{t}/missing.pt", "--out", "{t}/g.safetensors"], "no such checkpoint"),
    (["gif", "{t}", "--fps", "0", "--out", "{t}/a.gif"], "must be more than 0"),
    (["gif", "{t}", "--size", "0", "--out", "{t}/a.gif"], "must be at least 1"),
    (["gif", "{t}", "--max-frames", "0", "--out", "{t}/a.gif"], "must be at least 1"),
    (["gif", "{t}", "--view", "heatmap", "--out", "{t}/a.gif"], "invalid choice"),
    (["gif", "{t}", "--view", "latent", "--out", "{t}/a.gif"], "no checkpoint.pt"),
    (["metrics", "{t}/nope", "--out", "{t}/m.csv"], "no such run folder"),
    (["open", "{t}", "--position", "-1"], "must be 0 or more"),
    (["open", "{t}", "--screenshot", "{t}/s.png"], "needs --exit-after"),
    (["compare", "nope"], "unknown preset"),
    (["compare", "ring8"], "suggests no comparison"),
    (["compare", "ring8", "--b", "lr_d=-1"], "lr_d"),
    (["compare", "ring8", "--b", "unroll"], "KEY=VALUE"),
    (["parzen", "{t}/none.npy", "--test", "{t}/none.npy"], "no such file"),
    (["eval", "{t}/file.txt"], "file.txt"),
    (["presets", "--yaml"], "unrecognized arguments"),
]


@pytest.mark.parametrize("args,needle", BAD_FLAGS, ids=[" ".join(a[:3]) for a, _ in BAD_FLAGS])
def test_every_command_refuses_bad_flags_with_one_line(tmp_path, args, needle):
    (tmp_path / "file.txt").write_text("not a run folder or a checkpoint")
    p = run_cli(*[a.replace("{t}", str(tmp_path)) for a in args], env={"QT_QPA_PLATFORM": "offscreen"})
    err = p.stderr.strip()
    assert p.returncode == 2, (p.returncode, err)
    assert needle in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["file.txt"]  # nothing written


@pytest.mark.parametrize("text,reason", [("fast", "is not a number"), ("-1", "lr_d"), ("1e9", "lr_d"),
                                         ("", "is not a number"), ("nan", "lr_d")])
def test_typed_learning_rate_refused_with_the_reason_and_nothing_sent(qtbot, text, reason):
    from gan_studio.gui.controls import ControlsPanel

    c = ControlsPanel()
    qtbot.addWidget(c)
    c.show()
    c.load_config({"k": 1, "g_steps": 1, "batch_size": 64, "loss": "nonsaturating", "optimizer": "adam",
                   "dataset": "ring8", "model": "mlp", "seed": 0, "lr_d": 1e-3, "lr_g": 1e-3})
    c.lr_d.set_value(1e-3)
    sent = []
    c.liveChanged.connect(sent.append)
    c.lr_d.edit.setText(text)
    c.lr_d.edit.editingFinished.emit()
    assert sent == []
    assert reason in c.error_label.text() and c.error_label.isVisible()
    assert c.lr_d.value == 1e-3
    c.lr_d.edit.setText("2e-4")  # a good value clears the message and is sent
    c.lr_d.edit.editingFinished.emit()
    assert sent == [{"lr_d": 2e-4}] and not c.error_label.isVisible()


def test_spin_boxes_cannot_hold_out_of_range_values(qtbot):
    from gan_studio.gui.controls import ControlsPanel

    c = ControlsPanel()
    qtbot.addWidget(c)
    # the core's ranges (the settings table's), not the GUI's own: k and G steps up to 10,000
    for spin, lo, hi in ((c.k, 1, 10_000), (c.g_steps, 1, 10_000), (c.unroll, 0, 50), (c.pack, 1, 16)):
        spin.setValue(hi + 1000)
        assert spin.value() == hi
        spin.setValue(lo - 1000)
        assert spin.value() == lo


@pytest.mark.parametrize("key,a,b,reason", [("k", "1", "0", "must be at least 1"), ("k", "1", "1", "the same"),
                                            ("lr_d", "2e-4", "x", "lr_d"), ("pack", "1", "99", "pack must be"),
                                            ("loss", "minimax", "magic", "magic")])
def test_compare_dialog_refuses_bad_values(qtbot, key, a, b, reason):
    from gan_studio.core.train.presets import get_preset
    from gan_studio.gui.compare import CompareDialog

    d = CompareDialog(get_preset("ring8").config, {})
    qtbot.addWidget(d)
    d.key.setCurrentIndex(d.key.findData(key))
    d.a.setText(a)
    d.b.setText(b)
    d._accept()
    assert d.result() != d.DialogCode.Accepted and d.result_changes() == ({}, {})
    assert reason in d.error.text(), d.error.text()


def test_no_display_gets_a_clear_message_instead_of_a_qt_abort():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    p = subprocess.run([sys.executable, "-m", "gan_studio", "--preset", "ring8", "--exit-after", "1"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 2
    assert "no display" in p.stderr and "QT_QPA_PLATFORM=offscreen" in p.stderr
    assert "Traceback" not in p.stderr and "Aborted" not in p.stderr
