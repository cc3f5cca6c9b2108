"""The paper's Figure 1 from a recorded 1-D run: four moments in the paper's layout, from the command line
(torch-free) and from the studio's Export menu."""
from __future__ import annotations

import re

import pytest
from PIL import Image

from conftest import run_cli


@pytest.fixture(scope="module")
def fig1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig1") / "run"
    # a snapshot at every iteration, so the moments asked for are recorded exactly
    run_cli("train", "--preset", "figure1", "--steps", "300", "--seed", "1", "--snapshot-every", "1", "--out", out,
            "--quiet", check=True)
    return out


def test_figure1_has_four_panels_at_the_chosen_moments(fig1_run, tmp_path):
    from gan_studio.core.export.figure1 import moments
    from gan_studio.core.record.runfolder import RunFolder

    svg = tmp_path / "f.svg"
    p = run_cli("figure1", fig1_run, "--out", svg, "--at", 0, 100, 200, 300)
    assert p.returncode == 0, p.stderr
    text = svg.read_text()
    labels = re.findall(r"\(([a-d])\) iteration ([\d,]+)", text)
    assert [l for l, _ in labels] == ["a", "b", "c", "d"]
    assert [int(i.replace(",", "")) for _, i in labels] == [0, 100, 200, 300]
    # each panel: p_data, p_g and D curves plus the z → x mapping lines
    assert text.count("<polyline") == 12 and text.count("<line") > 4 * 20
    ms = moments(RunFolder(fig1_run))
    assert [m["iteration"] for m in ms][0] == 0 and ms[-1]["iteration"] == 300
    assert all(len(m["z"]) == len(m["samples"]) > 0 for m in ms)
    png = tmp_path / "f.png"
    assert run_cli("figure1", fig1_run, "--out", png).returncode == 0
    with Image.open(png) as im:
        assert im.size == (2400, 2 * (260 + 52))  # four 300-px panels at 2×


def test_figure1_refuses_what_it_cannot_draw(tmp_path):
    ring = tmp_path / "ring"
    run_cli("train", "--preset", "ring8", "--steps", "60", "--out", ring, "--quiet", check=True)
    for args, needle in (((ring, "--out", tmp_path / "x.svg"), "needs a 1-D run"),
                         ((tmp_path / "missing", "--out", tmp_path / "x.svg"), "no such run folder"),
                         ((ring, "--out", tmp_path / "x.jpg"), ".png or .svg")):
        p = run_cli("figure1", *args)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
        assert needle in p.stderr, p.stderr
    assert not (tmp_path / "x.svg").exists()
