"""gan_studio.watch and steering through the run folder: a user's own loop writes the run folder the tools read,
and ``gan-studio control`` pauses it, changes its learning rate and k, and resumes it (real subprocesses, real
training, real files)."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore
import pytest
import torch

from conftest import REPO, run_cli

# (PYTHONFAULTHANDLER: a run that does not end is aborted with every thread's stack on stderr, see _end)
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}


def _events(run: Path, kind: str | None = None) -> list[dict]:
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "event" in r and (kind is None or r["event"] == kind):
            out.append(r)
    return out


def _logged(run: Path) -> list[dict]:
    p = run / "metrics.jsonl"
    if not p.exists():
        return []
    rows = []
    for line in p.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "event" not in r:
            rows.append(r)
    return rows


def _wait(cond, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _ring(n=4000, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 8, (n,), generator=g) * (2 * math.pi / 8)
    return torch.stack([2 * a.cos(), 2 * a.sin()], 1) + 0.05 * torch.randn(n, 2, generator=g)


def _nets(d_in=2, hidden=32):
    mk = lambda i, o: torch.nn.Sequential(torch.nn.Linear(i, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, o))
    return mk(2, d_in), mk(d_in, 1)


def _loop(w, G, D, opt_d, opt_g, X, start, n, k=lambda: 1):
    F = torch.nn.functional
    for it in range(start, start + n):
        for _ in range(k()):
            sr, sf = D(X[torch.randint(0, len(X), (64,))]), D(G(torch.randn(64, 2)).detach())
            ld = F.softplus(-sr).mean() + F.softplus(sf).mean()
            opt_d.zero_grad()
            ld.backward()
            opt_d.step()
        lg = F.softplus(-D(G(torch.randn(64, 2)))).mean()
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
        w.log(it, d_loss=ld.item(), g_loss=lg.item(), d_real=sr, d_fake=sf)


def test_import_gan_studio_watch_loads_no_qt():
    code = ("import sys, gan_studio; assert 'torch' not in sys.modules; w = gan_studio.watch; "
            "print(callable(w), any(m.startswith(('PySide6', 'pyqtgraph', 'gan_studio.gui')) for m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "False"]


def test_a_watched_loop_writes_the_run_folder_the_tools_read(tmp_path):
    import gan_studio
    from gan_studio.core.record.runfolder import RunFolder
    from gan_studio.core.record.states import available_states

    torch.manual_seed(0)
    X = _ring()
    G, D = _nets()
    opt_d, opt_g = (torch.optim.Adam(m.parameters(), 1e-3, betas=(0.5, 0.999)) for m in (D, G))
    run = tmp_path / "mine"
    with gan_studio.watch(run, G, D, z_dim=2, real=X, optimizers={"d": opt_d, "g": opt_g}, every=20, budget=None,
                          centers=[[2 * math.cos(a * math.pi / 4), 2 * math.sin(a * math.pi / 4)] for a in range(8)],
                          sigma=0.05) as w:
        _loop(w, G, D, opt_d, opt_g, X, 1, 100)
        # read while it is being written, as open --follow and doctor --follow do
        live = RunFolder(run)
        assert live.iterations and live.iterations[0] == 1 and len(live.stats_array()) >= 90
    assert w.errors == []
    f = RunFolder(run)
    assert not f.warnings
    assert f.iterations == [1, 20, 40, 60, 80, 100]
    assert f.static.kind == "points" and f.static.dim == 2 and f.static.centers.shape == (8, 2)
    views = f.load(len(f.index) - 1)
    assert views["samples"].shape == (1024, 2)
    assert views["field"]["d"].shape == (48, 48) and 0 <= views["field"]["d"].min() <= views["field"]["d"].max() <= 1
    assert len(views["field"]["arrows"][0]) == 48 and views["d_hist"][0].shape == (256,)
    assert "modes_covered" in f.index[-1]  # the centres given make mode coverage count
    # the samples are G's on the fixed z at that iteration: G now, after close, gives the same points
    assert np.allclose(views["samples"][:5], G(w.fixed_z[:5]).detach().numpy(), atol=1e-5)
    st = f.stats_array()
    assert st[-1, 0] == 100 and np.allclose(st[:, 8], 1e-3)  # lr_d read from the optimiser
    assert 0 < st[-1, 3] < 1  # mean D(x): the raw outputs through the sigmoid
    states = available_states(run)
    assert states and states[-1] == 100
    from gan_studio.core.record.watch import load_state

    s = load_state(run)  # the newest: continue the loop from it
    assert s["iteration"] == 100 and set(s["optimizers"]) == {"d", "g"}
    assert torch.equal(s["generator"]["0.weight"], G[0].weight)
    opt_d.load_state_dict(s["optimizers"]["d"])  # the optimiser's own state dict, as saved
    assert load_state(run, 20)["iteration"] == 20
    from gan_studio.core.record.replay import ReplayRun

    replay = ReplayRun(run, follow=True)  # what the studio's open --follow shows
    assert len(replay) == 6 and replay.folder.static.kind == "points"
    meta = json.loads((run / "run.json").read_text())
    assert meta["watch"]["generator"] == "Sequential" and meta["iteration"] == 100
    # the command-line tools read it unchanged
    p = run_cli("metrics", run, "--out", tmp_path / "m.csv", check=True)
    assert json.loads(p.stdout)["rows"] == 100
    p = run_cli("gif", run, "--view", "field", "--out", tmp_path / "f.gif", check=True)
    assert json.loads(p.stdout)["frames"] == 6 and (tmp_path / "f.gif").stat().st_size > 1000
    p = run_cli("doctor", run, "--json", check=True)
    assert json.loads(p.stdout.splitlines()[-1])["iteration"] == 100


def test_an_image_loop_records_sample_grids(tmp_path):
    import gan_studio
    from gan_studio.core.record.runfolder import RunFolder

    torch.manual_seed(0)
    X = torch.rand(300, 1, 8, 8) * 2 - 1  # images in [-1, 1]
    G = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 8, 8)))
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 1))
    ds = torch.utils.data.TensorDataset(X, torch.zeros(300))  # a Dataset of (image, label)
    with gan_studio.watch(tmp_path / "img", G, D, z_dim=16, real=ds, every=5, loss="wgan-gp", budget=None) as w:
        for it in range(1, 11):
            w.log(it, d_loss=0.1 * it, g_loss=-0.1 * it, d_real=D(X[:8]), d_fake=D(G(torch.randn(8, 16))))
    f = RunFolder(tmp_path / "img")
    assert f.static.kind == "images" and f.static.shape == (1, 8, 8) and f.iterations == [1, 5, 10]
    s = f.load(2)["samples"]
    assert s.shape == (64, 1, 8, 8) and 0 <= s.min() and s.max() <= 1
    expect = (G(w.fixed_z).detach().numpy() + 1) / 2  # [-1, 1] → [0, 1], stored in 8 bits
    assert np.abs(s - expect).max() <= 1 / 255 + 1e-6
    assert not (tmp_path / "img" / "states").exists()  # no optimisers given: no states
    raw = D(X[:8]).detach()
    assert f.stats_array()[0, 3] == pytest.approx(float(raw.mean()), rel=1e-5)  # a critic: raw scores


def test_snapshots_that_cost_more_than_the_budget_are_spaced_out(tmp_path):
    """A loop much faster than its snapshots: their spacing doubles until they fit the budget, evenly spaced."""
    import gan_studio
    from gan_studio.core.record.runfolder import RunFolder

    X = _ring(500)
    G, D = _nets()
    opt_d, opt_g = torch.optim.SGD(D.parameters(), 0.01), torch.optim.SGD(G.parameters(), 0.01)
    with gan_studio.watch(tmp_path / "b", G, D, z_dim=2, real=X, optimizers={"d": opt_d, "g": opt_g}, every=2,
                          budget=0.02) as w:
        _loop(w, G, D, opt_d, opt_g, X, 1, 200)
    every = w.writer.every
    assert every >= 10  # a snapshot (~10 ms: views, a state, files) is far more than 2% of 2 tiny iterations
    its = RunFolder(tmp_path / "b").iterations
    assert len(its) < 60 and its[0] == 1 and its[-1] == 200
    assert every in (10, 20, 50, 100, 200, 500, 1000)  # a round spacing
    assert all(i % 2 == 0 or i % every == 0 for i in its[1:])  # multiples of the spacing in force
    assert json.loads((tmp_path / "b" / "run.json").read_text())["snapshot_every"] == every


def test_steering_a_watched_loop_in_process(tmp_path):
    """Every refusal is recorded with its reason; nothing in a request is evaluated."""
    import gan_studio
    from gan_studio.core.record.control import CONTROL_FILE, append_request

    X = _ring(500)
    G, D = _nets()
    opt_d, opt_g = torch.optim.SGD(D.parameters(), 0.01), torch.optim.SGD(G.parameters(), 0.01)
    run = tmp_path / "r"
    k = {"k": 1}
    w = gan_studio.watch(run, G, D, z_dim=2, real=X, optimizers={"d": opt_d, "g": opt_g}, every=50)
    w.on_change(lambda key, v: key == "k" and k.update(k=v) is None)
    w._reader.interval = 0  # read the control file at every log
    _loop(w, G, D, opt_d, opt_g, X, 1, 3)
    ids = [append_request(run, "set", {"lr_d": 0.002, "k": 3}), append_request(run, "set", {"bogus": 1}),
           append_request(run, "set", {"lr_g": -1}), append_request(run, "set", {"z_dim": 4}),
           append_request(run, "resume")]
    with open(run / CONTROL_FILE, "ab") as fh:
        fh.write(b'{"id": "evil", "action": "set", "changes": {"k": "__import__(\'os\').system(\'touch PWNED\')"}}\n')
        fh.write(b"not json at all\n")
        fh.write(b'{"id": "x", "action": "explode"}\n')
    _loop(w, G, D, opt_d, opt_g, X, 4, 2, k=lambda: k["k"])
    assert opt_d.param_groups[0]["lr"] == 0.002 and opt_g.param_groups[0]["lr"] == 0.01 and k["k"] == 3
    w.close()
    ev = _events(run)
    by_id = {e.get("request"): e for e in ev if "request" in e}
    assert by_id[ids[0]]["event"] == "set" and by_id[ids[0]]["changes"] == {"lr_d": 0.002, "k": 3}
    assert by_id[ids[0]]["iteration"] == 4  # read at the next log, applied from the next iteration
    assert by_id[ids[1]]["event"] == "refused" and "nobody in this loop takes bogus" in by_id[ids[1]]["message"]
    assert by_id[ids[2]]["event"] == "refused" and "lr_g must be a learning rate" in by_id[ids[2]]["message"]
    assert by_id[ids[3]]["event"] == "refused" and "cannot change z_dim" in by_id[ids[3]]["message"]
    assert by_id[ids[4]]["event"] == "refused" and "not paused" in by_id[ids[4]]["message"]
    assert by_id["evil"]["event"] == "refused" and "k must be a whole number" in by_id["evil"]["message"]
    assert by_id["line-7"]["event"] == "refused" and "not a JSON request" in by_id["line-7"]["message"]
    assert by_id["x"]["event"] == "refused" and "unknown action" in by_id["x"]["message"]
    assert not Path("PWNED").exists() and not (run / "PWNED").exists()
    logged = _logged(run)
    assert [r["lr_d"] for r in logged] == [0.01] * 4 + [0.002] and [r["k"] for r in logged][-1] == 3
    from gan_studio.core.record.runfolder import RunFolder

    f = RunFolder(run)  # the applied change is a studio-style `set`: replay's settings follow it
    assert not f.warnings and f.config.lr_d == 0.002 and f.config.k == 3


def test_rank_above_zero_does_nothing(tmp_path, monkeypatch):
    import gan_studio

    monkeypatch.setenv("RANK", "1")
    G, D = _nets()
    w = gan_studio.watch(tmp_path / "r1", G, D, z_dim=2, real=_ring(100))
    with w:
        w.log(1, d_loss=1.0, g_loss=1.0)
    assert not (tmp_path / "r1").exists()


def test_bad_input_is_one_clear_error(tmp_path):
    import gan_studio
    from gan_studio.core.record.watch import WatchError

    G, D = _nets()
    with pytest.raises(WatchError, match="real: expected"):
        gan_studio.watch(tmp_path / "a", G, D, z_dim=2, real=object())
    with pytest.raises(WatchError, match="NaN"):
        gan_studio.watch(tmp_path / "b", G, D, z_dim=2, real=torch.full((10, 2), float("nan")))
    with pytest.raises(WatchError, match="optimizers"):
        gan_studio.watch(tmp_path / "c", G, D, z_dim=2, real=_ring(10), optimizers={"disc": None})
    p = run_cli("control", tmp_path, "--pause")
    assert p.returncode == 2 and "not a run folder" in p.stderr and "Traceback" not in p.stderr
    (tmp_path / "run.json").write_text("{}")
    p = run_cli("control", tmp_path, "--set", "lr_d=50")
    assert p.returncode == 2 and "lr_d must be a learning rate" in p.stderr
    p = run_cli("control", tmp_path)
    assert p.returncode == 2 and "--pause, --resume, or --set" in p.stderr
    assert not (tmp_path / "control.jsonl").exists()


def _as_in_a_terminal() -> None:
    """In the child, before it starts: Ctrl+C (SIGINT) at its default, as for a command typed in a terminal.
    A child inherits an ignored SIGINT, and Python then ignores Ctrl+C too: a suite started in the background
    (``pytest &``, nohup: SIGINT and SIGQUIT are ignored from its start, /proc/PID/status SigIgn 0x...7) saw
    both runs below go on training after their Ctrl+C (faulthandler's stacks: in backward, 90 s later)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _end(proc, timeout: float = 90) -> str:
    """Wait for an interrupted run to end, reading its pipes meanwhile (a full pipe would block it); one that
    does not end is aborted (its threads' stacks go to stderr) and killed, and what it printed is the failure's
    message. Returns its stdout."""
    try:
        out, _ = proc.communicate(timeout=timeout)
        return out
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(f"the run did not end within {timeout:.0f} s of Ctrl+C; its stderr ends: "
                             f"{err[-8000:]}") from None


def _pause_change_resume(run: Path, proc, lr_key: str, lr: float, k: int):
    """Pause the live run, change lr and k, resume, with gan-studio control; checks what the run does."""
    _wait(lambda: len(_logged(run)) >= 5 or proc.poll() is not None, 180, "the run's first metrics")
    assert proc.poll() is None, proc.stderr.read()
    p = run_cli("control", run, "--pause", "--wait", "--timeout", "120", timeout=200)
    assert p.returncode == 0 and "paused at iteration" in p.stdout, p.stderr
    paused_at = _events(run, "paused")[-1]["iteration"]
    time.sleep(1.5)
    assert max(r["iteration"] for r in _logged(run)) <= paused_at + 1  # no iterations while paused
    p = run_cli("control", run, "--set", f"{lr_key}={lr}", "--set", f"k={k}", "--wait", "--timeout", "120",
                timeout=200)
    assert p.returncode == 0 and "applied" in p.stdout, p.stderr
    p = run_cli("control", run, "--set", "unheard_of=1", "--wait", "--timeout", "120", timeout=200)
    assert p.returncode == 1 and "refused" in p.stderr
    p = run_cli("control", run, "--resume", "--wait", "--timeout", "120", timeout=200)
    assert p.returncode == 0 and "resumed" in p.stdout, p.stderr
    _wait(lambda: max(r["iteration"] for r in _logged(run)) > paused_at + 5, 180, "iterations after the resume")
    after = [r for r in _logged(run) if r["iteration"] > paused_at + 1]
    assert after and all(r[lr_key] == lr and r["k"] == k for r in after)
    ch = _events(run, "set")[-1]
    assert ch["changes"] == {lr_key: lr, "k": k} and ch["iteration"] == paused_at
    return paused_at


@pytest.mark.slow
def _live_loop(run: Path, every: int, iterations: int):
    """A small watched 2-D loop (SGD) that has logged ``iterations`` iterations into ``run``: (watch, opt_d)."""
    import gan_studio

    X = _ring(300)
    G, D = _nets()
    opt_d, opt_g = torch.optim.SGD(D.parameters(), 0.01), torch.optim.SGD(G.parameters(), 0.01)
    w = gan_studio.watch(run, G, D, z_dim=2, real=X, optimizers={"d": opt_d, "g": opt_g}, every=every)
    _loop(w, G, D, opt_d, opt_g, X, 1, iterations)
    return w, opt_d


def test_control_pauses_changes_and_resumes_the_example_loop(tmp_path):
    run = tmp_path / "mine"
    proc = subprocess.Popen([sys.executable, str(REPO / "examples" / "watch_loop.py"), str(run), "1000000"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_in_a_terminal)
    try:
        _pause_change_resume(run, proc, "lr_d", 0.0002, 2)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C: the with-block closes the watch
        _end(proc)
    meta = json.loads((run / "run.json").read_text())
    assert meta["config"]["lr_d"] == 0.0002 and meta["config"]["k"] == 2  # the settings in force at the end
    p = run_cli("doctor", run, check=True)
    assert "doctor:" in p.stdout


@pytest.mark.slow
def test_gan_studio_train_obeys_the_same_controls(tmp_path):
    run = tmp_path / "t"
    proc = subprocess.Popen([sys.executable, "-m", "gan_studio", "train", "--preset", "ring8", "--steps", "1000000",
                             "--log-every", "1", "--out", str(run), "--quiet"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_in_a_terminal)
    try:
        _pause_change_resume(run, proc, "lr_g", 0.0003, 3)
    finally:
        proc.send_signal(signal.SIGINT)
        out = _end(proc)
    assert json.loads(out.splitlines()[-1])["status"] == "interrupted"


def test_the_studio_steers_a_followed_live_folder(qtbot, tmp_path):
    """The replay bar of a followed folder sends Pause / Resume / a change through the control file and shows
    the run's answer (a watched loop here, answering at its logs)."""
    from gan_studio.gui.replaybar import ReplayBar

    run = tmp_path / "live"
    w, opt_d = _live_loop(run, every=50, iterations=3)
    bar = ReplayBar()
    qtbot.addWidget(bar)
    bar.set_run("Replay: live", 1, 0, True)
    bar.steer.set_folder(run, bar.follow.isChecked())
    bar.resize(1400, 44)
    assert bar.steer.isVisible()

    def answer():  # the loop reads its control file at its next log (the part of log() that does not block)
        w._steer(w._reader.poll(True))

    qtbot.mouseClick(bar.steer.pause_button, QtCore.Qt.MouseButton.LeftButton)
    answer()
    assert w.paused
    qtbot.waitUntil(lambda: "pause: paused at iteration 3" in bar.steer.answer.text(), timeout=5000)
    bar.steer.edit.setText("lr_d=0.0005")
    qtbot.mouseClick(bar.steer.set_button, QtCore.Qt.MouseButton.LeftButton)
    answer()
    qtbot.waitUntil(lambda: "lr_d = 0.0005: applied at iteration 3" in bar.steer.answer.text(), timeout=5000)
    assert opt_d.param_groups[0]["lr"] == 0.0005
    bar.steer.edit.setText("k=2")  # nobody in this loop takes k: refused, with the reason shown
    bar.steer.edit.returnPressed.emit()
    answer()
    qtbot.waitUntil(lambda: "refused at iteration 3" in bar.steer.answer.text(), timeout=5000)
    assert "nobody in this loop takes k" in bar.steer.answer.toolTip()
    bar.grab().save(str(tmp_path / "steer.png"))
    bar.steer.edit.setText("lr_g=50")  # checked here first: nothing is sent
    bar.steer.send_change()
    assert "lr_g must be a learning rate" in bar.steer.answer.toolTip() and not bar.steer.pending
    qtbot.mouseClick(bar.steer.resume_button, QtCore.Qt.MouseButton.LeftButton)
    answer()
    assert not w.paused
    qtbot.waitUntil(lambda: "resume: resumed at iteration 3" in bar.steer.answer.text(), timeout=5000)
    w.close()
    bar.follow.setChecked(False)  # a recording no longer followed: nothing to steer
    assert not bar.steer.isVisible()
    bar.follow.setChecked(True)
    assert bar.steer.isVisible()
    bar.steer.set_folder(None)
    assert not bar.steer.isVisible()


def test_a_run_the_studio_started_obeys_its_recordings_control_file(tmp_path):
    """The studio's own runs (ThreadRun, recording) take `gan-studio control RUN_DIR` as the window's own
    controls: pause, a live change (applied, recorded with the request's id), a refused one, resume."""
    from gan_studio.core.live.handles import ThreadRun
    from gan_studio.core.record.control import append_request, find_answer
    from gan_studio.core.train.presets import get_preset

    cfg = get_preset("ring8").config.replace(batch_size=32)
    folder = tmp_path / "rec"
    run = ThreadRun(cfg, record_dir=str(folder), record_every=20)
    run.start()
    try:
        _wait(lambda: (folder / "metrics.jsonl").exists() and run.latest() is not None
              and run.latest().iteration > 5, 120, "the run to train")
        rid = append_request(folder, "pause")
        assert _wait(lambda: find_answer(folder, rid), 30, "the pause's answer")["event"] == "paused"
        _wait(lambda: run.latest().state == "paused", 10, "the run to show paused")
        it = run.latest().iteration
        ok = append_request(folder, "set", {"lr_d": 0.0004})
        bad = append_request(folder, "set", {"lr_d": -1})
        assert _wait(lambda: find_answer(folder, ok), 30, "the change's answer")["changes"] == {"lr_d": 0.0004}
        refused = _wait(lambda: find_answer(folder, bad), 30, "the refusal")
        assert refused["event"] == "refused" and "lr_d" in refused["message"]
        _wait(lambda: run.latest().lr_d == 0.0004, 10, "the new rate in what the run publishes")
        time.sleep(0.5)
        assert run.latest().iteration == it  # paused: no iterations
        rid = append_request(folder, "resume")
        assert _wait(lambda: find_answer(folder, rid), 30, "the resume's answer")["event"] == "resumed"
        _wait(lambda: run.latest().iteration > it + 3, 60, "iterations after the resume")
    finally:
        assert run.stop(30)
    assert any(e.get("request") == ok for e in _events(folder, "set"))


def test_the_controls_dock_and_play_steer_a_followed_live_folder(qtbot, tmp_path, monkeypatch):
    """A live folder opened with follow: Play/Pause pauses and resumes the run itself, the Controls dock's live
    settings are sent to it (what needs a new run is off), and a refused change puts the control back with the
    reason, as for a run the studio started."""
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    monkeypatch.setenv("GAN_STUDIO_RECORD", "0")
    run = tmp_path / "live"
    w, opt_d = _live_loop(run, every=2, iterations=4)
    win = StudioWindow(settings=Settings(tmp_path / "s.ini"), preset="ring8", persist=False)
    qtbot.addWidget(win)
    win.show()
    try:
        assert win.open_run_folder(str(run), follow=True)
        qtbot.waitUntil(lambda: win.snapshot is not None, timeout=30_000)
        c = win.controls
        assert c.isEnabled() and c.lr_d.isEnabled() and c.k.isEnabled()
        assert not c.run_group.isEnabled() and not c.speed_group.isEnabled()  # those start a run of the studio's
        assert win.acts["play"].text() == "❚❚ Pause run"

        def answer():  # the loop reads its control file at its next log
            w._steer(w._reader.poll(True))

        win.acts["play"].trigger()
        answer()
        assert w.paused
        qtbot.waitUntil(lambda: win.acts["play"].text() == "▶ Resume run", timeout=5000)
        c.lr_d.edit.setText("0.0005")
        c.lr_d.edit.editingFinished.emit()
        answer()
        qtbot.waitUntil(lambda: "applied at iteration 4" in win.replay_bar.steer.answer.text(), timeout=5000)
        assert opt_d.param_groups[0]["lr"] == 0.0005
        qtbot.wait(600)  # display ticks and folder reads meanwhile: the applied rate stays shown
        assert c.lr_d.value == 0.0005 and float(c.lr_d.edit.text()) == 0.0005
        assert c.lr_d.slider.value() == round(math.log10(0.0005) * 100)
        win.replay_bar.steer.edit.setText("lr_g=0.0003")  # typed in the steering strip: the dock shows it too
        win.replay_bar.steer.send_change()
        answer()
        qtbot.waitUntil(lambda: "lr_g = 0.0003: applied" in win.replay_bar.steer.answer.text(), timeout=5000)
        qtbot.waitUntil(lambda: c.lr_g.value == 0.0003, timeout=2000)
        qtbot.wait(600)
        assert c.lr_g.value == 0.0003 and c.lr_d.value == 0.0005
        k0 = c.k.value()
        c.k.setValue(k0 + 2)  # nobody in this loop takes k: refused, the box goes back, the reason is shown
        answer()
        qtbot.waitUntil(lambda: c.error_label.isVisible() and "nobody in this loop takes k" in c.error_label.text(),
                        timeout=5000)
        assert c.k.value() == k0
        win.grab().save(str(tmp_path / "steer-dock.png"))
        win.acts["play"].trigger()
        answer()
        assert not w.paused
        qtbot.waitUntil(lambda: win.acts["play"].text() == "❚❚ Pause run", timeout=5000)
        win.replay_bar.follow.setChecked(False)  # no longer followed: a recording's settings are shown only
        assert not c.isEnabled()
    finally:
        w.close()
        win.close()
