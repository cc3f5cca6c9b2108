"""Hostile run folders: damaged, truncated, hand-edited or planted files must never crash, hang or flood the
replay, the studio or the commands that read them.

A damaged run.json is refused in one line (exit 2); a bad line of an append-only file (metrics.jsonl,
snapshots.jsonl) or a bad snapshot is skipped with one warning, so the rest of the run still opens; a panel
handed data it cannot draw says so in the banner and the others keep drawing; ``--exit-after`` always exits."""
from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from gan_studio.core.protocol import Event, Snapshot
from gan_studio.core.record.replay import ReplayRun
from gan_studio.core.record.runfolder import RunFolder, RunFolderError, read_npz
from gan_studio.core.schema import FileFormatError

OPEN_S = 30  # `open --exit-after 3` must be done well within this


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    """A short ring8 run written by `gan-studio train` (run.json, static.npz, metrics, snapshots)."""
    out = tmp_path_factory.mktemp("hostile") / "run"
    run_cli("train", "--preset", "ring8", "--steps", "40", "--seed", "3", "--snapshot-every", "1", "--out", out,
            "--quiet", check=True)  # (a snapshot at every iteration: the tests damage chosen ones)
    (out / "checkpoint.pt").unlink()  # not needed here; keeps the copies small
    return out


def copy_run(genuine: Path, tmp_path: Path, name: str = "run") -> Path:
    dst = tmp_path / name
    shutil.copytree(genuine, dst, symlinks=True)
    return dst


def edit_json(path: Path, fn) -> None:
    meta = json.loads(path.read_text())
    fn(meta)
    path.write_text(json.dumps(meta))


def edit_npz(path: Path, **arrays) -> None:
    with np.load(path) as z:
        a = {k: z[k] for k in z.files}
    a.update(arrays)
    for k in [k for k, v in a.items() if v is None]:
        del a[k]
    with open(path, "wb") as f:
        np.savez(f, **a)


def append_line(path: Path, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


def stderr_lines(text: str) -> list[str]:
    """What the user sees on stderr, without the offscreen platform's own notices."""
    return [ln for ln in text.splitlines() if ln.strip() and "propagateSizeHints" not in ln]


def cli(*args, timeout=OPEN_S, **kw):
    env = {"QT_QPA_PLATFORM": "offscreen"}
    return run_cli(*args, timeout=timeout, env=env, **kw)


def assert_one_line(p, codes=(0, 2)):
    lines = stderr_lines(p.stderr)
    assert p.returncode in codes, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr[-2000:]
    assert len(lines) <= 1, lines
    return lines


# ------------------------------------------------------------------------------------------ the damage
def bad_field_shape(run: Path) -> None:
    """Defect 1: a field that is not a grid (segfaulted the studio in pyqtgraph's setImage)."""
    edit_npz(run / "snapshots" / "s-000000000.npz", **{"field.d": np.zeros(5, np.float32)})


def bad_metric_iteration(run: Path) -> None:
    append_line(run / "metrics.jsonl", '{"iteration": "abc"}')


def bad_set_event(run: Path) -> None:
    append_line(run / "metrics.jsonl", '{"iteration": 4, "event": "set", "changes": {"lr_d": "abc"}}')


def modes_without_n_modes(run: Path) -> None:
    p = run / "snapshots.jsonl"
    lines = p.read_text().splitlines()
    e = json.loads(lines[1])
    e["modes_covered"] = 3
    e.pop("n_modes", None)
    lines[1] = json.dumps(e)
    p.write_text("\n".join(lines) + "\n")


def bad_config_start(run: Path) -> None:
    edit_json(run / "run.json", lambda m: m.update(config_start="abc"))


def truncated_last_lines(run: Path) -> None:
    for name in ("metrics.jsonl", "snapshots.jsonl"):
        p = run / name
        data = p.read_bytes()
        p.write_bytes(data[: len(data) - 25])


DAMAGE = {"bad-field-shape": (bad_field_shape, 0), "bad-metric-iteration": (bad_metric_iteration, 0),
          "bad-set-event": (bad_set_event, 0), "modes-without-n-modes": (modes_without_n_modes, 0),
          "bad-config-start": (bad_config_start, 2), "truncated-last-lines": (truncated_last_lines, 0)}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_open_exit_after_always_exits_on_a_damaged_folder_with_at_most_one_line(genuine, tmp_path, name):
    damage, code = DAMAGE[name]
    run = copy_run(genuine, tmp_path)
    damage(run)
    t0 = time.monotonic()
    p = cli("open", run, "--exit-after", "3")
    assert time.monotonic() - t0 < OPEN_S
    lines = assert_one_line(p, codes=(code,))
    if code == 0:
        res = json.loads(p.stdout.strip().splitlines()[-1])
        assert res["state"] == "replay" and "error" not in res, res
    else:
        assert "config_start" in lines[0] and "gan-studio open: error:" in lines[0]


# ------------------------------------------------------------------------------------------ 1: snapshots
def test_a_snapshot_that_does_not_fit_the_run_is_skipped_with_one_warning(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    bad_field_shape(run)
    rf = RunFolder(run)
    assert rf.warnings == []  # snapshots are checked when read
    with pytest.raises(RunFolderError, match=r"field\.d"):
        rf.load(0)
    with pytest.raises(RunFolderError):
        rf.load(0)
    assert len(rf.warnings) == 1 and "s-000000000.npz" in rf.warnings[0]
    assert rf.load(1)["field"]["d"].ndim == 2  # the others still load

    replay = ReplayRun(run)
    snap = replay.latest()
    assert snap.views == {} and "cannot be shown" in snap.message
    warnings = [e for e in replay.drain_events() if e.kind == "warning"]
    assert len(warnings) == 1 and "field.d" in warnings[0].message
    replay.seek(1)
    assert replay.latest().views["field"]["d"].shape == (48, 48)
    replay.seek(0)
    replay.latest()
    assert not [e for e in replay.drain_events() if e.kind == "warning"]  # one warning, not one per visit


@pytest.mark.parametrize("key,value", [
    ("samples", np.zeros(7, np.float32)),  # 1-D samples
    ("samples", np.zeros((4, 3), np.float32)),  # wrong dimension
    ("samples", np.full((4, 2), np.nan, np.float32)),
    ("samples", np.full((4, 2), 1e300)),  # finite in float64, infinite where it is drawn
    ("samples", np.zeros((4, 2), np.complex64)),
    ("field.xs", np.zeros(48, np.float32)),  # not increasing
    ("field.ys", None),  # part of the field missing
    ("field.arrows_v", np.zeros((3, 2), np.float32)),  # one vector per arrow start
    ("d_hist.fake", np.zeros((2, 2), np.float32)),
])
def test_snapshot_arrays_are_checked_against_the_runs_data(genuine, tmp_path, key, value):
    run = copy_run(genuine, tmp_path)
    edit_npz(run / "snapshots" / "s-000000002.npz", **{key: value})
    rf = RunFolder(run)
    i = rf.iterations.index(2)
    with pytest.raises(RunFolderError, match=key.split(".")[0]):
        rf.load(i)
    assert len(rf.warnings) == 1


def test_npz_files_are_read_without_trusting_them(tmp_path):
    p = tmp_path / "a.npz"
    np.savez(p, ok=np.arange(3), obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match="expected numbers"):
        read_npz(p, "a.npz")
    # a header that claims a billion values, with none behind it: refused before anything is allocated
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("big.npy", buf.getvalue() + b"\0" * 64)
    with pytest.raises(FileFormatError, match="too large"):
        read_npz(p, "a.npz")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("small.npy", buf.getvalue().replace(b"(1000000000,)", b"(100,)        ") + b"\0" * 64)
    with pytest.raises(FileFormatError, match="truncated"):
        read_npz(p, "a.npz")
    p.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(FileFormatError, match="not a readable"):
        read_npz(p, "a.npz")


def test_a_panel_that_cannot_draw_shows_a_message_and_the_others_keep_drawing(genuine, tmp_path, qtbot):
    """Defence in depth: data that got past the reader (here: handed to the panels directly) leave the panel
    that cannot draw them empty, with one message in the banner; it is not tried again every frame."""
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.window import StudioWindow

    w = StudioWindow(settings=Settings(tmp_path / "s.ini"), preset="ring8")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    assert w.open_run_folder(str(genuine))
    qtbot.waitUntil(lambda: w.snapshot is not None and w.layout_.panels["field"].frames >= 1, timeout=20_000)
    field, dhist = w.layout_.panels["field"], w.layout_.panels["d_hist"]
    handle = w.controller.handle
    good = handle.folder.load

    def load(i):
        views = good(i)
        if i == 1:
            views["field"] = dict(views["field"], d=np.zeros(5, np.float32))
        return views

    handle.folder.load = load
    d0 = dhist.frames
    handle.seek(1)
    qtbot.waitUntil(lambda: w.snapshot.iteration == handle.iterations[1], timeout=10_000)
    qtbot.waitUntil(lambda: dhist.frames > d0, timeout=10_000)
    assert w.banner.isVisible() and "toy field panel cannot draw" in w.banner.label.text()
    assert field.heat.image is None  # emptied, not left holding the bad data
    calls = []
    orig = field.show_snapshot
    field.show_snapshot = lambda snap: calls.append(snap) or orig(snap)
    w.display.draw(w.snapshot)  # the same snapshot again: not retried
    assert calls == []
    handle.seek(2)  # the next good snapshot draws again
    qtbot.waitUntil(lambda: field.heat.image is not None, timeout=10_000)
    w.close()


def test_the_controller_reports_a_failing_run_once_instead_of_every_tick(qtbot):
    from gan_studio.core.protocol import Capability
    from gan_studio.gui.run_controller import RunController

    class Broken:
        run_id, state, capabilities = 7, "running", Capability.NONE

        def start(self):
            return self

        def drain_events(self):
            return []

        def latest(self):
            raise ValueError("could not convert string to float: 'abc'")

        def stop(self, timeout=None):
            return True

        def is_alive(self):
            return False

    c = RunController(interval_ms=5)
    events: list[Event] = []
    c.eventArrived.connect(events.append)
    c.set_handle(Broken())
    qtbot.wait(200)
    c.timer.stop()
    assert len(events) == 1 and events[0].kind == "error" and "abc" in events[0].message


# ------------------------------------------------------------------------------------------ 2: lines and run.json
def test_bad_metrics_lines_are_skipped_with_one_warning(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    n = len(RunFolder(genuine).metrics)
    for line in ('{"iteration": "abc"}', '{"iteration": 1e999}', '{"iteration": 5, "d_loss": "x"}',
                 '{"iteration": 5, "lr_d": Infinity}', "[" * 5000, "not json", '"just text"'):
        append_line(run / "metrics.jsonl", line)
    append_line(run / "metrics.jsonl", '{"iteration": 41, "d_loss": NaN, "g_loss": 1.0}')  # a diverged loss: kept
    rf = RunFolder(run)
    assert len(rf.metrics) == n + 1
    assert len(rf.warnings) == 7 and all("metrics.jsonl line" in w for w in rf.warnings)
    assert np.isnan(rf.stats_array()[-1, 1])
    p = cli("metrics", run, "--out", tmp_path / "m.csv")
    (line,) = assert_one_line(p, codes=(0,))
    assert line.startswith("gan-studio metrics: warning: metrics.jsonl line") and "6 more" in line


def test_a_bad_settings_change_is_skipped_and_a_good_one_is_replayed(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    bad_set_event(run)
    append_line(run / "metrics.jsonl", '{"iteration": 6, "event": "set", "changes": {"k": 0}}')
    append_line(run / "metrics.jsonl", '{"iteration": 6, "event": "set", "changes": {"nope": 1}}')
    append_line(run / "metrics.jsonl", '{"iteration": 8, "event": "set", "changes": {"lr_d": 0.0005, "k": 2}}')
    replay = ReplayRun(run)
    assert len(replay.folder.warnings) == 3
    assert replay.config_at(7)["lr_d"] == 0.001 and replay.config_at(8)["lr_d"] == 0.0005
    replay.seek_iteration(10)
    snap = replay.latest()
    assert snap.config["k"] == 2 and snap.lr_d > 0


@pytest.mark.parametrize("entry", [
    {"iteration": "5", "file": "s-000000004.npz"},  # mixed string/int iterations
    {"iteration": 1e999, "file": "s-000000004.npz"},
    {"iteration": -1, "file": "s-000000004.npz"},
    {"iteration": 99, "file": 5},
    {"iteration": 99, "file": None},
    {"iteration": 99, "file": "../run.json"},
    {"iteration": 99, "file": "/etc/passwd"},
    {"iteration": 99, "file": "s-000000004.npz", "modes_covered": 3},
    {"iteration": 99, "file": "s-000000004.npz", "modes_covered": 9, "n_modes": 8},
    {"iteration": 4, "file": "s-000000006.npz"},  # listed twice
])
def test_bad_snapshot_index_entries_are_skipped(genuine, tmp_path, entry):
    run = copy_run(genuine, tmp_path)
    its = RunFolder(genuine).iterations
    append_line(run / "snapshots.jsonl", json.dumps(entry))
    rf = RunFolder(run)
    assert rf.iterations == its
    assert len(rf.warnings) == 1 and "snapshots.jsonl line" in rf.warnings[0]


def test_a_snapshot_linked_to_a_file_outside_the_folder_is_not_read(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    outside = tmp_path / "elsewhere.npz"
    shutil.copy(run / "snapshots" / "s-000000002.npz", outside)
    target = run / "snapshots" / "s-000000002.npz"
    target.unlink()
    target.symlink_to(outside)
    (run / "snapshots" / "s-000000004.npz").unlink()
    (run / "snapshots" / "s-000000004.npz").symlink_to("/dev/zero")
    rf = RunFolder(run)
    assert 2 not in rf.iterations and 4 not in rf.iterations and 6 in rf.iterations
    assert len(rf.warnings) == 2 and all("outside the run folder" in w for w in rf.warnings)
    # a link that stays inside the folder is fine
    target.unlink()
    target.symlink_to(run / "snapshots" / "s-000000006.npz")
    assert 2 in RunFolder(run).iterations


def test_a_truncated_last_line_is_tolerated(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    full = RunFolder(genuine)
    truncated_last_lines(run)
    rf = RunFolder(run)
    assert rf.warnings == []  # an unfinished last line may still be being written: not a warning
    assert rf.iterations == full.iterations[:-1] and len(rf.metrics) == len(full.metrics) - 1
    # ... and once the writer finishes it, it is read
    for name in ("metrics.jsonl", "snapshots.jsonl"):
        shutil.copy(genuine / name, run / name)
    assert rf.refresh() and rf.iterations == full.iterations and len(rf.metrics) == len(full.metrics)
    # a last line without its newline that is complete is read at once
    p = run / "snapshots.jsonl"
    p.write_bytes(p.read_bytes().rstrip(b"\n"))
    assert RunFolder(run).iterations == full.iterations


@pytest.mark.parametrize("change,msg", [
    (lambda m: m.update(config_start="abc"), "config_start"),
    (lambda m: m.update(config_start={"lr_d": "abc"}), "lr_d"),
    (lambda m: m["config"].update(k=0), "k "),
    (lambda m: m["config"].update(dataset=5), "dataset"),
    (lambda m: m.update(version="1"), "version"),
    (lambda m: m["data"].update(dim="abc"), "dim"),
    (lambda m: m["data"].update(kind="sounds"), "kind"),
    (lambda m: m["data"].pop("shape"), "shape"),
    (lambda m: m["data"].update(dim=3), "dim"),
    (lambda m: m["loss"].update(sigmoid="yes"), "sigmoid"),
    (lambda m: m.update(snapshot_every=0), "snapshot_every"),
])
def test_run_json_is_checked_as_a_whole_on_open(genuine, tmp_path, change, msg):
    run = copy_run(genuine, tmp_path)
    edit_json(run / "run.json", change)
    with pytest.raises(RunFolderError, match=msg) as e:
        RunFolder(run)
    assert "\n" not in str(e.value) and "damaged" in str(e.value)


@pytest.mark.parametrize("text,msg", [
    ('{"format": "gan-studio/run", "version": 1, "created": NaN}', "NaN"),
    ('{"format": "gan-studio/run", "version": 1, "created": Infinity}', "Infinity"),
    ('{"format": "gan-studio/run", "config": ' + "[" * 3000 + "]" * 3000 + "}", "nested too deeply"),
    ('{"format": "gan-studio/run", "vers', "not valid JSON"),
    ('{"format": "gan-studio/run", "version": 7}', "newer GAN Studio"),
    ('["gan-studio/run"]', "not a GAN Studio run description"),
])
def test_run_json_that_is_not_json_we_wrote_is_one_line(genuine, tmp_path, text, msg):
    run = copy_run(genuine, tmp_path)
    (run / "run.json").write_text(text)
    with pytest.raises(RunFolderError, match=msg) as e:
        RunFolder(run)
    assert "\n" not in str(e.value)


def test_run_json_and_static_npz_must_be_regular_files_inside_the_folder(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    (run / "run.json").unlink()
    (run / "run.json").symlink_to("/dev/zero")  # would be read forever
    with pytest.raises(RunFolderError, match="outside the run folder"):
        RunFolder(run)
    shutil.copy(genuine / "run.json", tmp_path / "elsewhere.json")
    (run / "run.json").unlink()
    (run / "run.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(RunFolderError, match="outside the run folder"):
        RunFolder(run)
    (run / "run.json").unlink()
    shutil.copy(genuine / "run.json", run / "run.json")
    (run / "static.npz").unlink()
    (run / "static.npz").mkdir()
    with pytest.raises(RunFolderError, match="static.npz is not a regular file"):
        RunFolder(run)


@pytest.mark.parametrize("arrays,msg", [
    ({"real": np.zeros((10, 3), np.float32)}, "real"),
    ({"lo": np.array([1.0, 1.0]), "hi": np.array([1.0, 2.0])}, "hi must be above lo"),
    ({"hi": None}, "missing 'hi'"),
    ({"real": np.full((4, 2), np.inf, np.float32)}, "real"),
    ({"centers": np.zeros(8)}, "centers"),
])
def test_static_npz_is_checked_against_run_json(genuine, tmp_path, arrays, msg):
    run = copy_run(genuine, tmp_path)
    edit_npz(run / "static.npz", **arrays)
    with pytest.raises(RunFolderError, match=msg):
        RunFolder(run)


def test_exit_after_exits_even_when_the_run_fails_while_it_is_read(genuine, tmp_path):
    """finish() reads the run; whatever raises there, --exit-after still exits (it printed a traceback 30 times a
    second and never exited when run.latest() raised)."""
    code = ("import sys\nfrom gan_studio.core.record import replay\n"
            "ok = replay.ReplayRun.latest\n"
            "def latest(self):\n"
            "    self.n = getattr(self, 'n', 0) + 1\n"
            "    if self.n > 3: raise ValueError('a bug')\n"
            "    return ok(self)\n"
            "replay.ReplayRun.latest = latest\n"
            "from gan_studio.cli import run_cli\n"
            f"sys.exit(run_cli(['open', {str(genuine)!r}, '--exit-after', '3']))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=OPEN_S,
                       env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert_one_line(p, codes=(0,))
    assert "a bug" in json.loads(p.stdout.strip().splitlines()[-1])["error"]


# ------------------------------------------------------------------------------------------ 3: screenshots
def test_a_screenshot_that_cannot_be_written_is_reported_and_the_app_exits(genuine, tmp_path):
    (tmp_path / "a-file").write_text("x")
    p = cli("open", genuine, "--exit-after", "2", "--screenshot", tmp_path / "a-file" / "shot.png")
    (line,) = assert_one_line(p, codes=(2,))
    assert "screenshot" in line
    folder = tmp_path / "a-folder"
    folder.mkdir()
    p = cli("open", genuine, "--exit-after", "2", "--screenshot", folder)  # hung: os.replace onto a folder
    (line,) = assert_one_line(p, codes=(1,))
    assert "could not write" in line and not list(tmp_path.glob(".*.tmp.png"))
    # the folder vanishes while the studio runs
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "gan_studio", "open", str(genuine), "--exit-after", "6",
                             "--screenshot", str(gone / "shot.png")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    time.sleep(3)
    gone.rmdir()
    out, err = proc.communicate(timeout=OPEN_S)
    lines = stderr_lines(err)
    assert proc.returncode in (1, 2) and len(lines) == 1 and "Traceback" not in err, err


# ------------------------------------------------------------------------------------------ 4: gif
def test_gif_without_static_npz_or_with_1d_samples_is_one_line(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    (run / "static.npz").unlink()
    p = cli("gif", run, "--out", tmp_path / "a.gif")
    (line,) = assert_one_line(p, codes=(2,))
    assert "static.npz is missing" in line
    run = copy_run(genuine, tmp_path, "flat")
    for f in (run / "snapshots").glob("*.npz"):
        edit_npz(f, samples=np.zeros(7, np.float32))
    p = cli("gif", run, "--view", "samples", "--out", tmp_path / "b.gif")
    (line,) = assert_one_line(p, codes=(2,))
    assert "samples" in line
    assert not list(tmp_path.glob("*.gif"))


@pytest.mark.parametrize("shape", [None, (0, 2), (3, 0)])
def test_gif_of_snapshots_without_points_is_drawn_or_one_line(genuine, tmp_path, shape):
    """Found by the 10,000-case fuzz run: a snapshot without samples (or with none in them) made `gif` raise."""
    run = copy_run(genuine, tmp_path)
    for f in (run / "snapshots").glob("*.npz"):
        edit_npz(f, samples=None if shape is None else np.zeros(shape, np.float32))
    p = cli("gif", run, "--out", tmp_path / "a.gif", "--max-frames", "2")
    assert p.returncode in (0, 2) and "Traceback" not in p.stderr and len(p.stderr.splitlines()) <= 1, p.stderr


def test_gif_skips_a_damaged_snapshot_with_one_warning(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)
    bad_field_shape(run)
    p = cli("gif", run, "--out", tmp_path / "a.gif")
    (line,) = assert_one_line(p, codes=(0,))
    assert line.startswith("gan-studio gif: warning: snapshots/s-000000000.npz")
    assert json.loads(p.stdout)["frames"] == len(RunFolder(genuine).iterations) - 1


def test_gif_on_a_full_disk_says_so_once(genuine, tmp_path):
    limit = 64 * 1024  # files may not grow beyond this: writes fail as on a full disk (EFBIG, Python ignores SIGXFSZ)
    p = subprocess.run([sys.executable, "-m", "gan_studio", "gif", str(genuine), "--out", str(tmp_path / "a.gif")],
                       capture_output=True, text=True, timeout=120,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    (line,) = assert_one_line(p, codes=(2,))
    assert "cannot write" in line
    assert not list(tmp_path.iterdir())  # no GIF, no temp file


# ------------------------------------------------------------------------------------------ 5: old folders
def test_an_old_run_folder_without_the_optional_keys_still_opens(genuine, tmp_path):
    run = copy_run(genuine, tmp_path)

    def strip(m):
        for k in ("config_start", "loss", "device", "snapshot_every", "iteration", "created", "version"):
            m.pop(k)
        for k in ("description", "n_classes", "sigma"):
            m["data"].pop(k)

    edit_json(run / "run.json", strip)
    p = run / "snapshots.jsonl"
    p.write_text("".join(json.dumps({"iteration": e["iteration"], "file": e["file"]}) + "\n"
                         for e in map(json.loads, p.read_text().splitlines())))
    replay = ReplayRun(run)
    assert replay.folder.warnings == [] and len(replay) == len(RunFolder(genuine).index)
    snap = replay.latest()
    assert isinstance(snap, Snapshot) and snap.views["samples"].shape[1] == 2 and snap.config["k"] == 1
    p = cli("open", run, "--exit-after", "3")
    assert_one_line(p, codes=(0,))
    p = cli("gif", run, "--out", tmp_path / "old.gif", "--max-frames", "4")
    assert_one_line(p, codes=(0,))
