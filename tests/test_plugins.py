"""Plug-ins: the user's own generator, discriminator and data trained by `gan-studio train --plugin`, the run
folder feeding the other commands, the consent rule, and every bad plug-in refused in one line."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_cli

RING = REPO / "examples" / "plugins" / "ring_plugin.py"
DIGITS = REPO / "examples" / "plugins" / "digits_plugin.py"


@pytest.fixture(autouse=True)
def _no_consent_left_over():
    from gan_studio.core.train import plugin_spec

    plugin_spec.forget_all()
    yield
    plugin_spec.forget_all()


def cli(capsys, *args) -> tuple[int, str, str]:
    """``gan-studio ARGS`` in this process (torch is imported once for all the cases)."""
    from gan_studio.cli import run_cli as run

    code = run([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


GOOD_NETS = """
import torch
from torch import nn
from gan_studio import Plugin

def nets(d=2, z=2):
    return nn.Sequential(nn.Linear(z, 16), nn.ReLU(), nn.Linear(16, d)), nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 1))
"""

BAD = {
    "syntax": ("def build(:\n    pass\n", "bad.py:1: syntax error"),
    "missing import": ("import not_a_module_anyone_has\n", "bad.py:1: the plug-in imports the module "
                                                             "'not_a_module_anyone_has', which is not installed"),
    "no function": ("def make():\n    return 1\n", "bad.py: has no function 'build' (it defines: make)"),
    "raises": ("def build():\n    x = 1\n    raise ValueError('no data here')\n",
               "bad.py:3: build() raised ValueError: no data here"),
    "wrong type": ("def build():\n    return [1, 2]\n", "must return a gan_studio.Plugin or a dict"),
    "missing field": (GOOD_NETS + "def build():\n    G, D = nets()\n    return {'generator': G, 'discriminator': D, "
                                  "'z_dim': 2}\n", "the returned dict is missing data"),
    "G shape": (GOOD_NETS + "def build():\n    G, D = nets(d=3)\n    D = nn.Linear(2, 1)\n    return Plugin(G, D, 2, "
                            "torch.randn(100, 2))\n", "the generator's output has shape [4, 3]"),
    "D shape": (GOOD_NETS + "def build():\n    G, D = nets()\n    return Plugin(G, nn.Linear(2, 3), 2, torch.randn(100, 2))\n",
                "the discriminator must give one score per example"),
    "z_dim": (GOOD_NETS + "def build():\n    G, D = nets(z=3)\n    return Plugin(G, D, 2, torch.randn(100, 2))\n",
              "does z_dim = 2 match its input?"),
    "empty data": (GOOD_NETS + "def build():\n    G, D = nets()\n    return Plugin(G, D, 2, torch.zeros(0, 2))\n",
                   "data is empty"),
    "non-finite data": (GOOD_NETS + "def build():\n    G, D = nets()\n    x = torch.randn(100, 2)\n    x[5, 0] = float('nan')\n"
                                    "    return Plugin(G, D, 2, x)\n", "data holds NaN or infinite values"),
    "data shape": (GOOD_NETS + "def build():\n    G, D = nets()\n    return Plugin(G, D, 2, torch.rand(10, 2, 8, 8))\n",
                   "data of shape (10, 2, 8, 8) is not supported"),
    "hangs": ("import time\ndef build():\n    time.sleep(5)\n", "build() did not return within 0.5 s"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_plugin_gets_one_line_naming_its_file_and_writes_nothing(tmp_path, capsys, monkeypatch, case):
    source, needle = BAD[case]
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent(source))
    monkeypatch.setenv("GAN_STUDIO_PLUGIN_TIMEOUT", "0.5")
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "train", "--plugin", bad, "--steps", "3", "--out", out, "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(bad) in lines[0] and needle in lines[0], lines[0]
    assert "Traceback" not in err and stdout == ""
    assert not out.exists()


def test_a_missing_plugin_file_and_a_bad_name(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--plugin", tmp_path / "nope.py", "--out", tmp_path / "r")
    assert code == 2 and f"plug-in file {tmp_path / 'nope.py'} not found" in err
    code, _, err = cli(capsys, "train", "--plugin", "no_such_package_xyz.mod:build", "--out", tmp_path / "r")
    assert code == 2 and "plug-in module 'no_such_package_xyz.mod' not found" in err
    assert not (tmp_path / "r").exists()


def test_plugin_contract_is_importable_lightly():
    import subprocess
    import sys

    code = ("import sys, gan_studio; P = gan_studio.Plugin; "
            "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules; print(P.__name__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == "Plugin", r.stderr


def test_ring_plugin_trains_and_its_run_folder_needs_no_plugin_code(tmp_path, capsys):
    out = tmp_path / "ring"
    code, stdout, err = cli(capsys, "train", "--plugin", RING, "--plugin-arg", "modes=6", "--steps", "40",
                            "--batch-size", "64", "--out", out, "--quiet")
    assert code == 0, err
    rep = json.loads(stdout)
    assert rep["iterations"] == 40 and rep["n_modes"] == 6  # the plug-in's modes drive the mode metrics
    cfg = json.loads((out / "config.json").read_text())
    rec = cfg["plugin"]
    import hashlib

    assert rec["source"] == str(RING) and rec["function"] == "build" and rec["args"] == {"modes": 6}
    assert rec["sha256"] == hashlib.sha256(RING.read_bytes()).hexdigest() and rec["name"] == "ring of 6"
    assert cfg["batch_size"] == 64 and cfg["dataset"] == cfg["model"] == "plugin"
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["config"]["plugin"]["sha256"] == rec["sha256"]
    assert (out / "checkpoint.pt").is_file() and (out / "samples.gif").stat().st_size > 0
    assert any((out / "states").iterdir())

    # a fresh process, no --plugin: doctor, metrics and gif read the run folder without the plug-in's code
    for args in (("doctor", out), ("metrics", out, "--out", tmp_path / "m.csv"), ("gif", out, "--out", tmp_path / "f.gif")):
        p = run_cli(*args, process=True)  # a fresh process: nothing of the plug-in imported
        assert p.returncode == 0, (args, p.stderr)
        assert "plug-in" not in p.stderr
    assert (tmp_path / "f.gif").stat().st_size > 0 and (tmp_path / "m.csv").read_text().count("\n") > 3


def test_consent_resume_and_sample_need_the_same_plugin(tmp_path, capsys):
    out = tmp_path / "ring"
    code, _, err = cli(capsys, "train", "--plugin", RING, "--steps", "6", "--batch-size", "32", "--out", out, "--quiet")
    assert code == 0, err
    from gan_studio.core.train import plugin_spec

    code, _, err = cli(capsys, "recipe", out, "--out", tmp_path / "r.json")
    assert code == 0, err
    assert json.loads((tmp_path / "r.json").read_text())["config"]["plugin"]["source"] == str(RING)
    plugin_spec.forget_all()  # a new session: nothing named yet
    ckpt = out / "checkpoint.pt"
    for args in (("train", "--resume", ckpt, "--steps", "8", "--out", out, "--quiet"),
                 ("train", "--recipe", tmp_path / "r.json", "--out", tmp_path / "rr", "--quiet"),
                 ("train", "--branch", out, "--at", "6", "--out", tmp_path / "b", "--quiet"),
                 ("sample", ckpt, "--n", "10", "--out", tmp_path / "s.npy"),
                 ("export", ckpt, "--out", tmp_path / "g.safetensors"),
                 ("eval", ckpt, "--n", "200", "--json")):
        code, _, err = cli(capsys, *args)
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1
        assert f"uses the plug-in {RING}" in err and f"add --plugin {RING}" in err
    assert not (tmp_path / "s.npy").exists() and not (tmp_path / "g.safetensors").exists()
    assert not (tmp_path / "rr").exists() and not (tmp_path / "b").exists()
    assert json.loads((out / "run.json").read_text())["iteration"] == 6  # nothing was trained

    code, stdout, err = cli(capsys, "train", "--resume", ckpt, "--steps", "8", "--out", out, "--quiet",
                            "--plugin", RING)
    assert code == 0, err
    assert json.loads(stdout)["iterations"] == 8
    for args in (("--recipe", tmp_path / "r.json", "--out", tmp_path / "rr"), ("--branch", out, "--at", "6", "--out",
                                                                              tmp_path / "b", "--steps", "9")):
        code, stdout, err = cli(capsys, "train", *args, "--quiet", "--plugin", RING)
        assert code == 0, (args, err)
        assert json.loads(stdout)["iterations"] in (6, 9)
    code, stdout, err = cli(capsys, "sample", ckpt, "--n", "10", "--out", tmp_path / "s.npy", "--plugin", RING)
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (10, 2)
    code, stdout, err = cli(capsys, "eval", ckpt, "--n", "300", "--parzen", "--json", "--plugin", RING)
    assert code == 0, err
    r = json.loads(stdout.strip().splitlines()[-1])  # the plug-in's data are the reference: its modes, Parzen
    assert r["modes"]["n_modes"] == 8 and np.isfinite(r["parzen"]["mean"])

    # the same plug-in's file changed: one warning line, and it runs
    changed = tmp_path / "ring_copy.py"
    changed.write_text(RING.read_text())
    out2 = tmp_path / "copy"
    assert cli(capsys, "train", "--plugin", changed, "--steps", "4", "--batch-size", "32", "--out", out2,
               "--quiet")[0] == 0
    changed.write_text(RING.read_text() + "\n# edited\n")
    code, _, err = cli(capsys, "train", "--resume", out2 / "checkpoint.pt", "--steps", "5", "--out", out2, "--quiet",
                       "--plugin", changed)
    assert code == 0, err
    warnings = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "has changed since the run was recorded" in warnings[0]


def test_digits_plugin_trains_images(tmp_path, capsys):
    out = tmp_path / "digits"
    code, stdout, err = cli(capsys, "train", "--plugin", DIGITS, "--plugin-arg", "width=8", "--steps", "8",
                            "--out", out, "--quiet")
    assert code == 0, err
    assert json.loads(stdout)["iterations"] == 8
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["data"]["kind"] == "images" and run_json["data"]["shape"] == [1, 8, 8]
    code, _, err = cli(capsys, "sample", out / "checkpoint.pt", "--n", "5", "--out", tmp_path / "d.npy",
                       "--plugin", DIGITS)
    assert code == 0, err
    x = np.load(tmp_path / "d.npy")
    assert x.shape == (5, 1, 8, 8) and x.min() >= 0 and x.max() <= 1  # tanh output mapped back to [0, 1]
    from gan_studio.core.train import plugin_spec

    plugin_spec.forget_all()
    code, _, err = cli(capsys, "figure3", out / "checkpoint.pt", "--out", tmp_path / "f3.png")
    assert code == 2 and f"add --plugin {DIGITS}" in err and not (tmp_path / "f3.png").exists()
    for fig in ("figure2", "figure3"):  # the paper's figures, from the plug-in's G (and its data's neighbours)
        code, _, err = cli(capsys, fig, out / "checkpoint.pt", "--out", tmp_path / f"{fig}.png", "--plugin", DIGITS)
        assert code == 0, err
        assert (tmp_path / f"{fig}.png").read_bytes()[:4] == b"\x89PNG"


FAILS_LATER = """
import torch
from torch import nn
from gan_studio import Plugin

class Fragile(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
        self.calls = 0

    def forward(self, x):
        self.calls += self.training  # views (eval mode) are not counted
        if self.calls > 30:
            raise RuntimeError("my discriminator gave up")
        return self.net(x)

def build():
    G = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    return Plugin(G, Fragile(), 2, torch.randn(500, 2))
"""


def test_an_exception_in_the_plugin_during_training_shows_its_own_frames(tmp_path, capsys):
    plug = tmp_path / "fragile.py"
    plug.write_text(FAILS_LATER)
    out = tmp_path / "run"
    # each iteration calls D 3 times in training mode (real, fake, G's step): call 31 opens iteration 11
    code, stdout, err = cli(capsys, "train", "--plugin", plug, "--steps", "50", "--batch-size", "16", "--out", out,
                            "--quiet")
    from gan_studio.core.train.plugin_spec import EXIT_PLUGIN_ERROR

    assert code == EXIT_PLUGIN_ERROR == 4
    assert "the plug-in's code raised at iteration 11: RuntimeError: my discriminator gave up" in err
    line = FAILS_LATER.splitlines().index('            raise RuntimeError("my discriminator gave up")') + 1
    assert f'File "{plug}", line {line}, in forward' in err
    assert "gan_studio" not in err.replace(str(out), "")  # GAN Studio's own frames are not shown
    rep = json.loads(stdout)
    assert rep["status"] == "plugin-error" and rep["iterations"] == 10
    from gan_studio.core.train import plugin_spec
    from gan_studio.core.train.checkpoint import load_checkpoint

    plugin_spec.forget_all()
    assert load_checkpoint(out / "checkpoint.pt")["iteration"] == 10  # reading it runs nothing
    assert json.loads((out / "run.json").read_text())["iteration"] == 10


MARKS_ITS_PROCESS = RING.read_text() + """

import os as _os
with open(_os.environ["PLUGIN_PIDS"], "a") as _f:  # which processes ran this plug-in's code
    _f.write(f"{_os.getpid()}\\n")
"""


def test_the_studio_trains_a_plugin_in_the_training_process_only(tmp_path):
    import os
    import subprocess
    import sys

    plug = tmp_path / "ring_marked.py"
    plug.write_text(MARKS_ITS_PROCESS)
    pids = tmp_path / "pids.txt"
    env = dict(os.environ, PLUGIN_PIDS=str(pids), QT_QPA_PLATFORM="offscreen", GAN_STUDIO_RECORD="0",
               PYTHONFAULTHANDLER="1")  # (a crash shows its threads' stacks in the failure)
    p = subprocess.Popen([sys.executable, "-m", "gan_studio", "--plugin", plug, "--exit-after", "200",
                          "--exit-at", "20", "--screenshot", tmp_path / "s.png"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err
    rep = json.loads(out.strip().splitlines()[-1])
    assert rep["iterations"] >= 20 and rep["state"] == "running" and not rep["message"], rep
    ran = {int(x) for x in pids.read_text().split()}
    assert ran and p.pid not in ran  # run in other processes (the probe, the training process), never the window's
    assert (tmp_path / "s.png").stat().st_size > 10_000

    bad = tmp_path / "bad.py"
    bad.write_text("def build():\n    return {'generator': 1}\n")
    p = subprocess.run([sys.executable, "-m", "gan_studio", "--plugin", bad, "--exit-after", "5"],
                       capture_output=True, text=True, env=env, timeout=240)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0
    assert f"{bad}: the returned dict is missing discriminator, z_dim, data" in p.stderr


def test_the_studios_evaluation_process_runs_the_plugin_only_with_the_windows_consent(tmp_path, capsys):
    import queue
    import shutil
    import threading

    from gan_studio.core.evaluate.scores import eval_job
    from gan_studio.core.train import plugin_spec
    from gan_studio.core.train.checkpoint import load_checkpoint

    out = tmp_path / "ring"
    assert cli(capsys, "train", "--plugin", RING, "--steps", "5", "--batch-size", "32", "--out", out, "--quiet")[0] == 0
    plugin_spec.forget_all()
    rec = load_checkpoint(out / "checkpoint.pt")["config"]["plugin"]
    q: queue.Queue = queue.Queue()
    snap = tmp_path / "snap.pt"
    shutil.copy(out / "checkpoint.pt", snap)
    eval_job(str(snap), {"n": 200}, q, threading.Event())  # as the window sends it when the user named no plug-in
    kind, text = q.get()
    assert kind == "error" and f"uses the plug-in {RING}" in text
    shutil.copy(out / "checkpoint.pt", snap)
    eval_job(str(snap), {"n": 200, "plugin_consent": rec}, q, threading.Event())
    msgs = [q.get() for _ in range(q.qsize())]
    done = [m for m in msgs if m[0] == "done"]
    assert done and done[0][1]["modes"]["n_modes"] == 8 and "parzen" in done[0][1]


def test_an_installed_package_registers_a_plugin_by_name(tmp_path, capsys, monkeypatch):
    import importlib
    import sys

    site = tmp_path / "site"
    (site / "myganpkg").mkdir(parents=True)
    (site / "myganpkg" / "__init__.py").write_text("")
    (site / "myganpkg" / "rings.py").write_text(RING.read_text())
    dist = site / "myganpkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myganpkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gan_studio.plugins]\nmyring = myganpkg.rings:build\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    from gan_studio.core.train.plugin_spec import entry_points, parse_ref

    assert entry_points()["myring"] == "myganpkg.rings:build"
    ref = parse_ref("myring")
    assert (ref.kind, ref.source, ref.function) == ("module", "myganpkg.rings", "build")
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "train", "--plugin", "myring", "--steps", "4", "--batch-size", "32", "--out", out,
                            "--quiet")
    assert code == 0, err
    rec = json.loads((out / "config.json").read_text())["plugin"]
    assert rec["kind"] == "module" and rec["source"] == "myganpkg.rings" and len(rec["sha256"]) == 64
    from gan_studio.core.train import plugin_spec

    plugin_spec.forget_all()  # the consent rule holds for a registered plug-in too: its name, not the file, says yes
    code, _, err = cli(capsys, "train", "--resume", out / "checkpoint.pt", "--steps", "6", "--out", out, "--quiet")
    assert code == 2 and "uses the plug-in myganpkg.rings" in err and "add --plugin myganpkg.rings" in err
    code, stdout, err = cli(capsys, "train", "--resume", out / "checkpoint.pt", "--steps", "6", "--out", out, "--quiet",
                            "--plugin", "myring")
    assert code == 0 and json.loads(stdout)["iterations"] == 6, err
    sys.modules.pop("myganpkg.rings", None)
    sys.modules.pop("myganpkg", None)


def test_frames_of_the_plugins_folder_count_as_its_code_but_not_a_venv_inside_it(tmp_path):
    from gan_studio.core.train.plugins import is_user_frame

    d = str(tmp_path)
    assert is_user_frame(f"{d}/plug.py", [d]) and is_user_frame(f"{d}/helpers/nets.py", [d])
    assert not is_user_frame(f"{d}/.venv/lib/python3.12/site-packages/torch/nn/modules/module.py", [d])
    site = f"{d}/lib/site-packages/myganpkg"  # an installed plug-in package: its own files are its code
    assert is_user_frame(f"{site}/rings.py", [site])
    assert not is_user_frame("/elsewhere/x.py", [d])


def _install_myring(site: Path) -> None:
    (site / "myganpkg").mkdir(parents=True)
    (site / "myganpkg" / "__init__.py").write_text("")
    (site / "myganpkg" / "rings.py").write_text(RING.read_text())
    dist = site / "myganpkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myganpkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[gan_studio.plugins]\nmyring = myganpkg.rings:build\n")


def test_the_studios_model_picker_lists_installed_plugins_and_trains_one(qtbot, tmp_path, monkeypatch):
    import importlib
    import os

    from PySide6 import QtWidgets

    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    site = tmp_path / "site"
    _install_myring(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    importlib.invalidate_caches()
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes)
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", autoplay=False, persist=False)
    from gan_studio.core.live.handles import ThreadRun

    # the window's picker and what the run accepts, trained in a thread (the training process imports an installed
    # package from the same sys.path as the window's; a plug-in in the training process: the test above)
    w.run_class = ThreadRun
    qtbot.addWidget(w)
    w.show()
    w.start()
    box = w.controls.model
    i = box.findData("plugin:myring")
    assert i >= 0 and box.itemText(i) == "myring  (plug-in)"
    box.setCurrentIndex(i)
    box.activated.emit(i)
    cfg = w.runs.current_config()
    assert cfg.plugin is not None and cfg.plugin["source"] == "myganpkg.rings" and cfg.plugin["name"] == "ring of 8"
    qtbot.waitUntil(lambda: w.static is not None and w.static.name == "ring of 8", timeout=120_000)
    if w.controller.state != "running":  # picked while the first run was still loading: it starts paused
        w.runs.toggle_play()
    qtbot.waitUntil(lambda: w.run.latest() is not None and w.run.latest().iteration > 3, timeout=60_000)
    assert "myganpkg" in w.preset_summary.text() or "ring of 8" in w.preset_summary.text()
    # packing and minibatch std need the built-in D: disabled, with the reason shown under them
    c = w.controls
    assert not c.pack.isEnabled() and not c.mbstd.isEnabled()
    assert c.remedy_note.isVisibleTo(c) and "need the built-in D" in c.remedy_note.text()
    w.runs.change_live({"pack": 2})  # as a recipe's scheduled change would ask: refused with that reason
    # refused at once by the run handle (the settings table's rule): the reason beside the controls, pack still 1
    assert "need the built-in discriminator" in c.error_label.text() and c.error_label.isVisibleTo(c)
    assert c.pack.value() == 1
    w.close()


def test_the_studio_asks_before_running_the_plugin_a_recipe_names(qtbot, tmp_path, capsys, monkeypatch):
    from PySide6 import QtWidgets

    from gan_studio.core.record.recipe import load
    from gan_studio.core.train import plugin_spec
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    out = tmp_path / "ring"
    assert cli(capsys, "train", "--plugin", RING, "--steps", "3", "--batch-size", "32", "--out", out, "--quiet")[0] == 0
    assert cli(capsys, "recipe", out, "--out", tmp_path / "r.json")[0] == 0
    plugin_spec.forget_all()
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    asked = []

    def answer(yes):
        def question(parent, title, text, *a, **k):
            asked.append(text)
            return QtWidgets.QMessageBox.StandardButton.Yes if yes else QtWidgets.QMessageBox.StandardButton.No
        return question

    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", autoplay=False, persist=False)
    qtbot.addWidget(w)
    w.show()
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(False))
    w.recipes.start(load(tmp_path / "r.json"), autoplay=False, ask=False)
    sha = json.loads((tmp_path / "r.json").read_text())["config"]["plugin"]["sha256"]
    assert asked and str(RING) in asked[-1] and sha in asked[-1]
    assert w.banner.isVisible() and "start the studio with --plugin" in w.banner.label.text()
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer(True))
    w.recipes.start(load(tmp_path / "r.json"), autoplay=False, ask=False)
    qtbot.waitUntil(lambda: w.static is not None and w.static.name == "ring of 8", timeout=120_000)
    w.close()


DICT_AND_DATASET = """
import torch
from torch import nn
from torch.utils.data import TensorDataset

def make(width=8, flag=False, label="x"):
    assert flag is True and label == "hello" and width == 8
    x = torch.rand(64, 1, 4, 4)
    return {"generator": nn.Sequential(nn.Linear(3, 16), nn.Sigmoid(), nn.Unflatten(1, (1, 4, 4))),
            "discriminator": nn.Sequential(nn.Flatten(), nn.Linear(16, 1)),
            "z_dim": 3, "data": TensorDataset(x, torch.zeros(64)), "noise": "uniform",
            "settings": {"k": 2, "loss": "lsgan", "batch_size": 16}}
"""


def test_a_dict_a_dataset_of_pairs_arguments_and_settings(tmp_path, capsys):
    plug = tmp_path / "mine.py"
    plug.write_text(DICT_AND_DATASET)
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train", "--plugin", f"{plug}:make", "--plugin-arg", "width=8", "--plugin-arg",
                       "flag=true", "--plugin-arg", "label=hello", "--k", "3", "--steps", "3", "--out", out, "--quiet")
    assert code == 0, err
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["plugin"]["function"] == "make" and cfg["plugin"]["args"] == {"width": 8, "flag": True, "label": "hello"}
    assert cfg["noise"] == "uniform" and cfg["z_dim"] == 3
    assert cfg["loss"] == "lsgan" and cfg["batch_size"] == 16 and cfg["k"] == 3  # the flag beats the plug-in's default
    assert json.loads((out / "run.json").read_text())["data"]["shape"] == [1, 4, 4]
    code, _, err = cli(capsys, "train", "--plugin", plug, "--steps", "3", "--out", tmp_path / "r2", "--quiet")
    assert code == 2 and f"{plug}: has no function 'build' (it defines: make)" in err
    code, _, err = cli(capsys, "train", "--plugin", f"{plug}:make", "--pack", "2", "--out", tmp_path / "r3")
    assert code == 2 and "need the built-in discriminator" in err


def test_an_exception_after_d_was_updated_keeps_the_last_safe_weights(tmp_path, capsys):
    plug = tmp_path / "fragile.py"
    plug.write_text(FAILS_LATER.replace("self.calls > 30", "self.calls > 29"))  # call 30: G's step of iteration 10
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "train", "--plugin", plug, "--steps", "50", "--batch-size", "16", "--out", out,
                            "--quiet")
    assert code == 4 and "raised at iteration 10" in err
    assert "the failing iteration had already updated a network" in err and "last safe copy" in err
    from gan_studio.core.train import plugin_spec
    from gan_studio.core.train.checkpoint import load_checkpoint

    plugin_spec.forget_all()
    ck = load_checkpoint(out / "checkpoint.pt")
    assert ck["iteration"] == 0 and len(ck["history"]["iteration"]) == 0  # the safe copy from before iteration 1
    assert json.loads(stdout)["iterations"] == 0


FIVE_D = """
import torch
from torch import nn
from gan_studio import Plugin

def build(dim=5):
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(4, dim, generator=g) * 3
    data = centres[torch.randint(4, (800,), generator=g)] + 0.1 * torch.randn(800, dim, generator=g)
    G = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, dim))
    D = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 1))
    return Plugin(G, D, z_dim=3, data=data, modes=centres, name="blobs in 5-D")
"""


def test_points_of_five_dimensions_are_shown_on_the_datas_first_two_principal_axes(qtbot, tmp_path, capsys):
    from gan_studio.core.export.slides import frame_from_views
    from gan_studio.core.record.runfolder import RunFolder
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    plug = tmp_path / "five.py"
    plug.write_text(FIVE_D)
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "train", "--plugin", plug, "--steps", "20", "--batch-size", "32", "--out", out,
                            "--quiet")
    assert code == 0, err
    assert json.loads(stdout)["n_modes"] == 4
    rf = RunFolder(out)
    st = rf.static
    assert st.dim == 5 and st.plane is not None
    mean, axes = st.plane
    real = np.asarray(st.real, np.float64)
    # the axes are the real data's first two principal directions: they hold more variance than any other
    var = ((real - mean) @ axes.T).var(0)
    assert var[0] >= var[1] >= np.linalg.eigvalsh(np.cov(real.T))[-3] - 1e-6
    views = rf.load(len(rf.index) - 1)
    assert views["samples"].shape[1] == 5  # recorded in the data's own space, projected when drawn
    frame = frame_from_views(views, st, "samples", size=200)
    assert frame.shape == (200, 200, 3) and (frame != 255).any(-1).mean() > 0.002  # points drawn, not a blank box
    assert (gif := run_cli("gif", out, "--out", tmp_path / "f.gif")).returncode == 0, gif.stderr

    w = StudioWindow(settings=Settings(tmp_path / "s.ini"), preset="ring8")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    assert w.open_run_folder(str(out))
    field = w.layout_.panels["field"]
    qtbot.waitUntil(lambda: field.frames >= 1, timeout=20_000)
    assert field.isVisible() and "first two principal axes" in field.subtitle.text()
    fx, fy = field.fake.getData()
    shown = w.snapshot.views["samples"]
    np.testing.assert_allclose(np.c_[fx, fy], (shown - mean) @ axes.T, rtol=1e-5, atol=1e-5)
    rx, _ = field.real.getData()
    assert len(rx) > 100 and not field.heat.isVisible()
    field.grab().save(str(tmp_path / "field5.png"))
    w.close()



def test_a_plugins_views_are_drawn_by_the_views_helper_with_the_consent_it_is_sent(tmp_path):
    """The studio's views helper (a process of its own, never the window's) builds the plug-in run's trainer only
    because the training process, which runs it with the user's consent, sends that consent; it then draws the
    same views as the training thread would (the studio's plug-in runs train as fast as a preset's)."""
    import time

    from gan_studio.core.live.views_process import ViewsHelper, frame_views, start_helper
    from gan_studio.core.train import plugin_spec
    from gan_studio.core.train.config import TrainConfig
    from gan_studio.core.train.trainer import Trainer
    from gan_studio.core.views import views as V
    from gan_studio.core.views.viewspec import ViewRequest

    ref = plugin_spec.parse_ref(str(RING))
    plugin_spec.allow(ref)
    info = {"record": dict(plugin_spec.check_record({"kind": ref.kind, "source": ref.source, "function": "build",
                                                     "args": {}}), name="ring of 8"),
            "settings": {"batch_size": 64}, "z_dim": 2, "noise": "normal"}
    tr = Trainer(TrainConfig.from_dict(dict(TrainConfig().to_dict(), **plugin_spec.plugin_settings(info))))
    tr.run(20)
    static = V.static_info(tr)
    h = ViewsHelper(*start_helper())
    try:
        h.begin(tr, static)
        t0 = time.time()
        while not (h.ready or h.dead) and time.time() - t0 < 180:
            h.poll()
            time.sleep(0.02)
        assert h.ready and not h.dead, h.error
        req = ViewRequest(names=frozenset({"samples", "d_hist", "field", "latent"}))
        assert h.request(tr, req, req.names, 1)
        got = None
        while got is None and time.time() - t0 < 240:
            got = h.poll()
            time.sleep(0.02)
        assert got is not None and got["error"] is None and got["iteration"] == 20
        here = frame_views(V.LiveViews(static), tr, req, 1, req.names, nn=False)
        np.testing.assert_allclose(got["views"]["samples"], here["samples"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["views"]["field"]["d"], here["field"]["d"], rtol=1e-5, atol=1e-6)
    finally:
        h.close()


def _answer_next_dialog(qtbot, button: str, seen: list) -> None:
    """Click ``button`` ("Yes"/"No") of the next modal message box, as a user would; its text goes to ``seen``."""
    from PySide6 import QtCore, QtWidgets

    def click():
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(50, click)
            return
        seen.append(box.text())
        box.button(getattr(QtWidgets.QMessageBox.StandardButton, button)).click()

    QtCore.QTimer.singleShot(50, click)


def test_the_studio_opening_a_checkpoint_that_names_a_plugin_asks_in_a_dialog(qtbot, tmp_path, capsys, monkeypatch):
    import hashlib

    from gan_studio.core.train import plugin_spec
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    out = tmp_path / "ring"
    assert cli(capsys, "train", "--plugin", RING, "--steps", "7", "--batch-size", "32", "--out", out, "--quiet")[0] == 0
    plugin_spec.forget_all()  # a new session: the window's user named no plug-in
    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    w = StudioWindow(settings=Settings(tmp_path / "studio.ini"), preset="ring8", autoplay=False, persist=False)
    from gan_studio.core.live.handles import ThreadRun

    w.run_class = ThreadRun  # the dialog is the window's; the training process is tested above
    qtbot.addWidget(w)
    w.show()
    w.start()
    first = w.controller.handle
    seen: list = []
    _answer_next_dialog(qtbot, "No", seen)
    assert w.runs.open_checkpoint(str(out / "checkpoint.pt")) is False  # what Ctrl+O calls with the chosen file
    sha = hashlib.sha256(RING.read_bytes()).hexdigest()
    assert seen and str(RING) in seen[0] and sha in seen[0]
    assert w.banner.isVisible() and f"--plugin {RING}" in w.banner.label.text()
    assert w.controller.handle is first and not plugin_spec.is_allowed({"kind": "file", "source": str(RING)})

    _answer_next_dialog(qtbot, "Yes", seen)
    assert w.runs.open_checkpoint(str(out / "checkpoint.pt"))
    assert len(seen) == 2 and sha in seen[1]
    qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.iteration == 7 and w.static is not None
                    and w.static.name == "ring of 8", timeout=120_000)
    assert not w.snapshot.message
    w.close()


def test_a_plugin_that_hangs_ends_the_process_and_writes_nothing(tmp_path):
    """The build that never returns is left behind, but the process ends: exit 2 with one line naming the file and
    the limit. One that never lets Python run again (C code holding the interpreter lock) is ended by the
    backstop a little later (exit 1, with where it was stuck), instead of hanging for ever. Either way no run
    folder is made, and an old run that ``--overwrite`` would replace stays where it was."""
    busy, c_loop = tmp_path / "busy.py", tmp_path / "c_loop.py"
    busy.write_text("def build():\n    while True:\n        pass\n")
    c_loop.write_text("import itertools\n\ndef build():\n    return sum(itertools.count())\n")
    env = {"GAN_STUDIO_PLUGIN_TIMEOUT": "1"}
    p = run_cli("train", "--plugin", busy, "--steps", "3", "--out", tmp_path / "a", "--quiet", env=env, timeout=120,
                process=True)  # the hang ends the process itself
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0, p.stderr
    assert f"{busy}: build() did not return within 1 s" in p.stderr
    p = run_cli("train", "--plugin", c_loop, "--steps", "3", "--out", tmp_path / "b", "--quiet", env=env, timeout=120,
                process=True)  # the hang ends the process itself
    assert p.returncode == 1 and f'File "{c_loop}", line 4 in build' in p.stderr, p.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.jsonl").write_text('{"iteration": 1}\n')
    p = run_cli("train", "--plugin", c_loop, "--steps", "3", "--out", old, "--overwrite", "--quiet", env=env,
                timeout=120, process=True)
    assert p.returncode == 1, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["busy.py", "c_loop.py", "old"]  # nothing moved aside
    assert (old / "metrics.jsonl").read_text() == '{"iteration": 1}\n'


def test_evaluate_now_on_a_labelled_image_plugin_gives_parzen_and_says_there_is_no_classifier(tmp_path, capsys):
    import queue
    import threading

    from gan_studio.core.evaluate.scores import eval_job
    from gan_studio.core.train.checkpoint import load_checkpoint

    plug = tmp_path / "mine.py"
    plug.write_text(DICT_AND_DATASET)  # images given as (x, label) pairs
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train", "--plugin", f"{plug}:make", "--plugin-arg", "width=8", "--plugin-arg",
                       "flag=true", "--plugin-arg", "label=hello", "--steps", "3", "--out", out, "--quiet")
    assert code == 0, err
    rec = load_checkpoint(out / "checkpoint.pt")["config"]["plugin"]
    q: queue.Queue = queue.Queue()
    eval_job(str(out / "checkpoint.pt"), {"n": 200, "plugin_consent": rec}, q, threading.Event())  # as the studio
    msgs = [q.get() for _ in range(q.qsize())]
    done = [m[1] for m in msgs if m[0] == "done"]
    assert done, msgs
    r = done[0]
    assert "no evaluation classifier for a plug-in's images" in r["note"] and "images" not in r
    assert np.isfinite(r["parzen"]["mean"])


def test_the_live_fid_switch_is_offered_only_for_images_a_classifier_exists_for(qtbot):
    from gan_studio.core.views.viewspec import StaticInfo
    from gan_studio.gui.panels import EvaluationPanel

    p = EvaluationPanel()
    qtbot.addWidget(p)
    p.show()
    common = dict(kind="images", dim=64, shape=(1, 8, 8), name="x", description="")
    p.set_static(StaticInfo(**common, n_classes=10))  # e.g. the digits preset: labelled
    assert p.fid.auto_row.isVisibleTo(p)
    p.set_static(StaticInfo(**common, n_classes=0))  # a plug-in's images: no classifier, so no live FID
    assert not p.fid.auto_row.isVisibleTo(p)
