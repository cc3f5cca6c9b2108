"""The studio fits the screen in the room (issue 27): on 1024×768, 1280×720, 1366×768 and 1920×1080
screens, and at 2× scaling, every layout — normal, narration, doctor shown, drawing, compare and
presentation — keeps the window on the screen (presentation: exactly the screen), every shown panel on
the screen and unclipped, and every plot at least a readable size (gui/screens.py: layout_problems).

Each screen is a separate process (tests/screens_probe.py): Qt's offscreen platform takes its screen
from a JSON file named in QT_QPA_PLATFORM, and a process has one QApplication. The runs are fake run
handles playing a run recorded here for real (tests/fake_run.py: the same panels with the same kind of
data, without importing torch in every probe): what is checked is the geometry, not training."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("screens_probe.py")
MODES = ("normal", "narration", "doctor", "drawing", "compare", "presentation", "after-presentation")


@pytest.fixture(scope="module")
def tape(tmp_path_factory) -> Path:
    """What the probes' fake runs play (tests/fake_run.py): the probes' preset, trained here for real."""
    from fake_run import record_tape

    return record_tape("ring8-collapse", tmp_path_factory.mktemp("screens") / "ring8-collapse.tape")


def probe(size: str, *args: str, tmp_path: Path, tape: Path | None = None) -> dict:
    """One probe process; with ``tape`` its runs are fake handles playing it (the probe imports no torch)."""
    if tape is not None:
        args = (*args, "--canned", str(tape))
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["GAN_STUDIO_CONFIG_DIR"] = str(tmp_path / "config")
    env["GAN_STUDIO_CACHE"] = str(tmp_path / "cache")
    p = subprocess.run([sys.executable, str(PROBE), size, *args], capture_output=True, text=True, timeout=300,
                       env=env, cwd=str(PROBE.parents[1]))
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert tape is None or not out["torch"], "a probe with fake runs imported torch"
    return out


def problems_of(out: dict) -> list[str]:
    return [f"{mode}: {line}" for mode, got in out["modes"].items() for line in got["problems"]]


@pytest.mark.parametrize("size", ["1024x768", "1280x720", "1366x768", "1920x1080"])
def test_every_layout_fits_the_screen_and_every_plot_is_readable(size, tmp_path, tape):
    out = probe(size, tmp_path=tmp_path, tape=tape)
    assert sorted(out["modes"]) == sorted(MODES)
    assert problems_of(out) == []
    w, h = (int(v) for v in size.split("x"))
    assert out["modes"]["presentation"]["window"] == [0, 0, w, h]  # exactly the screen
    pres = out["modes"]["presentation"]
    # a collapse preset in presentation: the toy field and the raised alarm are what the hall sees
    assert {"field", "evaluation"} <= set(pres["shown"]) and pres["alarm"]
    assert pres["font_scale"] >= 1.5
    if w < 1100:  # too narrow for three columns of panels: the grid reflows
        assert out["columns"] == 2
    else:
        assert out["columns"] == 3
    assert out["thin_pens"] == []


def test_a_wrapped_label_gives_back_the_height_it_needed_when_narrow_or_large(qtbot):
    """A panel's wrapped text asks for the height its lines need at its width, and gives it back when it
    is wider again or its type smaller (QLabel's height for a width never goes below its minimum: measured
    with the old minimum in place, the height of its narrowest moment stuck, and after a presentation a
    1280×720 window no longer fitted its screen)."""
    from gan_studio.gui.panels.base import WrapLabel

    lab = WrapLabel()
    qtbot.addWidget(lab)
    lab.setText("<b>modes 0/8</b> " + "a few more words of a headline " * 6)
    lab.resize(300, 40)
    lab.show()
    qtbot.waitUntil(lambda: lab.width() == 300 and lab.minimumHeight() > 0, timeout=5000)
    one = lab.minimumHeight()

    def settles(cond):  # (a window's new size may arrive as an event)
        qtbot.waitUntil(lambda: cond(lab.minimumHeight()), timeout=5000)
        return lab.minimumHeight()

    lab.resize(100, one)
    narrow = settles(lambda h: h > 2 * one)
    lab.resize(300, narrow)
    settles(lambda h: h == one)
    f = lab.font()
    f.setPointSizeF(f.pointSizeF() * 2)
    lab.setFont(f)
    settles(lambda h: h > 1.5 * one)
    f.setPointSizeF(f.pointSizeF() / 2)
    lab.setFont(f)
    settles(lambda h: h == one)
    lab.setText("")
    settles(lambda h: h == 0)


def test_at_2x_scaling_the_layout_is_the_same_in_device_independent_pixels(tmp_path, tape):
    """A 4K screen at 2× (Qt's high-DPI scaling): the same layout as 1080p at 1×, lines stay cosmetic."""
    one = probe("1920x1080", "--modes", "normal,presentation", tmp_path=tmp_path / "1x", tape=tape)
    two = probe("1920x1080", "--dpr", "2", "--modes", "normal,presentation", tmp_path=tmp_path / "2x", tape=tape)
    assert problems_of(two) == []
    for mode in ("normal", "presentation"):
        assert two["modes"][mode]["window"] == one["modes"][mode]["window"]
        assert two["modes"][mode]["panels"] == one["modes"][mode]["panels"]
    assert two["thin_pens"] == []


def test_hidden_panels_are_remembered_per_screen_size(tmp_path, tape):
    settings = str(tmp_path / "studio.ini")
    small = probe("1280x720", "--settings", settings, "--hide", "d_hist", "--modes", "normal", tmp_path=tmp_path,
                  tape=tape)
    assert "d_hist" in small["shown"]
    big = probe("1920x1080", "--settings", settings, "--hide", "latent", "--modes", "normal", tmp_path=tmp_path,
                tape=tape)
    assert "d_hist" in big["shown"], "hiding it on the small screen did not hide it on the big one"
    again = probe("1280x720", "--settings", settings, "--modes", "normal", tmp_path=tmp_path, tape=tape)
    assert "d_hist" not in again["shown"] and "latent" in again["shown"]
    assert problems_of(again) == []
