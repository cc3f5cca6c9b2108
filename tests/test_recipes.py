"""Recipes: one small file (or one line) that starts the same run elsewhere — its settings, data, and the
changes made during the run at their iterations. Reproduction is checked in fresh processes on the CPU;
bad recipes get one line and write nothing; the studio saves, copies and pastes them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from gan_studio.core.record import recipe as R
from gan_studio.core.record.recipe_schedule import InstallSchedule
from gan_studio.core.record.runfolder import RunFolder

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STEPS = 30
CHANGES = [{"at": 10, "set": {"k": 2}}, {"at": 20, "set": {"lr_g": 0.0005, "unroll": 1}}]


def write(path, d) -> str:
    path.write_text(json.dumps(d), encoding="utf-8")
    return str(path)


def lesson(**kw) -> dict:
    d = {"format": "gan-studio/recipe", "version": 1, "title": "k matters", "notes": "Watch D's histogram.",
         "preset": "ring8", "config": {"seed": 4, "device": "cpu", "steps": STEPS, "batch_size": 64},
         "changes": CHANGES}
    d.update(kw)
    return d


def last_samples(run_dir) -> np.ndarray:
    run = RunFolder(run_dir)
    assert run.iterations[-1] == STEPS
    return run.load(len(run.index) - 1)["samples"]


# ------------------------------------------------------------------------------------------ the file
def test_a_recipe_round_trips_through_its_file_and_its_one_line_form(tmp_path):
    pts = np.random.default_rng(0).normal(size=(300, 2)).astype(np.float32)
    np.save(tmp_path / "mine.npy", pts)
    cfg = {"dataset": "points", "dataset_args": {"path": str(tmp_path / "mine.npy")}, "seed": 7, "device": "cpu"}
    rec = R.Recipe.from_run(cfg, [(0, {"k": 3}), (50, {"loss": "lsgan"})], title="Mine", notes="two\nlines",
                            panels={"latent": False}, controls={"remedies": False}, preset="ring8")
    (tmp_path / "shared").mkdir()
    p = rec.save(tmp_path / "shared" / "r.json")
    text = p.read_text(encoding="utf-8")
    assert '"at": 50' in text and "mine.npy" not in text  # the points travel inside, not the path
    back = R.load(p)
    assert back.config == rec.config and back.config["seed"] == 7 and back.config["device"] == "cpu"
    assert back.changes == [(0, {"k": 3}), (50, {"loss": "lsgan"})]
    assert (back.title, back.notes, back.panels, back.controls) == ("Mine", "two\nlines", {"latent": False},
                                                                     {"remedies": False})
    assert np.array_equal(back.points, pts)  # bit for bit: the shortest decimals of the float32 values
    line = rec.to_line()
    assert line.startswith("ganstudio:1:") and "\n" not in line and len(line) < len(text)
    again = R.from_text(line[:40] + "\n" + line[40:])  # a chat program wrapped it
    assert again.config == rec.config and again.changes == rec.changes and np.array_equal(again.points, pts)


def test_the_schedule_travels_to_a_training_process():
    import pickle

    fn = pickle.loads(pickle.dumps(InstallSchedule([(5, {"k": 2})])))  # what ProcessRun's queue does
    assert fn.changes == [(5, {"k": 2})]


def test_many_points_go_to_a_file_beside_the_recipe(tmp_path):
    pts = np.random.default_rng(1).uniform(-1, 1, size=(R.INLINE_POINTS_MAX + 1, 2)).astype(np.float32)
    rec = R.Recipe.from_run({"dataset": "ring8", "seed": 1}, [])
    rec.config["dataset"], rec.points = "points", pts
    p = rec.save(tmp_path / "big.json")
    assert json.loads(p.read_text())["points_file"] == "big.points.npy" and (tmp_path / "big.points.npy").is_file()
    assert np.array_equal(R.load(p).points, pts)
    assert R.from_line(rec.to_line()).points.shape == pts.shape  # the line carries them inline


# ------------------------------------------------------------------------------------------ reproduction
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A recipe with changes at iterations 10 and 20, trained once by ``gan-studio train --recipe``."""
    d = tmp_path_factory.mktemp("recipe")
    rpath = write(d / "lesson.json", lesson())
    run_cli("train", "--recipe", rpath, "--out", d / "a", "--quiet", check=True, env=ONE_THREAD)
    return d, rpath


def test_the_same_recipe_gives_the_same_samples_in_a_fresh_process(recorded, tmp_path):
    d, rpath = recorded
    run_cli("train", "--recipe", rpath, "--out", tmp_path / "b", "--quiet", check=True, env=ONE_THREAD)
    assert np.array_equal(last_samples(d / "a"), last_samples(tmp_path / "b"))
    # the changes were made after iterations 10 and 20, recorded as the studio records a change
    sets = [(e["iteration"], e["changes"]) for e in RunFolder(d / "a").events() if e["event"] == "set"]
    assert sets == [(10, {"k": 2}), (20, {"lr_g": 0.0005, "unroll": 1})]
    ks = {r["iteration"]: r["k"] for r in RunFolder(d / "a").metrics if "event" not in r}
    assert ks[10] == 1 and ks[20] == 2 and ks[30] == 2
    # a recipe written from the run folder is the same recipe
    run_cli("recipe", d / "a", "--out", tmp_path / "again.json", check=True)
    again, orig = R.load(tmp_path / "again.json"), R.load(rpath)
    assert again.config == orig.config and again.changes == orig.changes


def test_an_in_process_run_with_the_schedule_matches_and_one_without_does_not(recorded):
    import torch

    from gan_studio.core.train.trainer import Trainer

    d, rpath = recorded
    rec = R.load(rpath)
    torch.set_num_threads(1)
    tr = Trainer(rec.train_config())
    sched = tr.add_observer(rec.schedule())
    tr.run(STEPS)
    assert sched.made == rec.changes and tr.config.k == 2 and tr.config.unroll == 1
    assert np.array_equal(tr.fixed_samples(), last_samples(d / "a"))
    plain = Trainer(rec.train_config())  # the changes matter: without them the run ends elsewhere
    plain.run(STEPS)
    assert not np.array_equal(plain.fixed_samples(), last_samples(d / "a"))


# ------------------------------------------------------------------------------------------ bad recipes
BAD = {
    "unknown key": (lesson(colour="red"), "unknown key 'colour'"),
    "unknown setting": (lesson(config={"kk": 2}), "config: unknown setting 'kk'"),
    "wrong type": (lesson(config={"batch_size": "many"}), "batch_size must be a whole number"),
    "wrong type of a change": (lesson(changes=[{"at": "ten", "set": {"k": 2}}]), "changes[0]: at:"),
    "not a live setting": (lesson(changes=[{"at": 5, "set": {"seed": 2}}]), "'seed' cannot change during a run"),
    "future version": (lesson(version=2), "newer GAN Studio (recipe format 2"),
    "missing points file": (lesson(config={"dataset": "points"}, points_file="gone.npy"),
                            "points_file: the points file 'gone.npy' is missing"),
    "points file outside": (lesson(config={"dataset": "points"}, points_file="../x.npy"), "inside the recipe's folder"),
    "bad panel": (lesson(view={"panels": {"latent": "no"}}), "view: panels: latent: expected true or false"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_recipe_gets_one_line_exit_2_and_nothing_written(tmp_path, capsys, case):
    from gan_studio.cli import run_cli as cli

    d, needle = BAD[case]
    rpath = write(tmp_path / "bad.json", d)
    out = tmp_path / "out"
    assert cli(["train", "--recipe", rpath, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


def test_any_json_or_text_is_a_recipe_or_one_recipe_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False) | st.text(max_size=8)
    values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                        max_size=4), max_leaves=12)
    keys = st.sampled_from([*R.TOP_KEYS, "x"])
    recipes = st.fixed_dictionaries({"format": st.just(R.FORMAT), "version": st.just(1)},
                                    optional={"config": st.dictionaries(st.sampled_from(["k", "seed", "lr_d",
                                                                                         "dataset", "zz"]), values,
                                                                        max_size=3),
                                              "changes": st.lists(st.fixed_dictionaries({"at": values, "set": values}),
                                                                  max_size=3),
                                              "view": values, "points": values, "title": values})

    @settings(max_examples=80, deadline=None)
    @given(st.one_of(recipes, st.dictionaries(keys, values, max_size=4), st.text(max_size=40)))
    def check(raw):
        try:
            R.from_text(raw if isinstance(raw, str) else json.dumps(raw))
        except R.RecipeError as exc:
            assert "\n" not in str(exc)

    check()


@pytest.mark.parametrize("text, needle", [("ganstudio:1:garbage!!", "damaged or incomplete"),
                                          ("ganstudio:1:" + "A" * 40, "damaged or incomplete"),
                                          ("ganstudio:9:eNpLzs8tKEotLs7Mz1NIy8xLSS0CAE", "newer GAN Studio"),
                                          ("hello", "not a GAN Studio recipe"),
                                          ('{"format": "gan-studio/run"}', "not a GAN Studio recipe")])
def test_a_garbage_line_gets_one_clear_message(tmp_path, text, needle):
    with pytest.raises(R.RecipeError, match=None) as exc:
        R.from_text(text)
    assert needle in str(exc.value) and "\n" not in str(exc.value)
    (tmp_path / "line.json").write_text(text)
    p = run_cli("open", tmp_path / "line.json", "--exit-after", "1")  # refused before any window opens
    assert p.returncode == 2 and needle in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_a_recipe_file_given_to_gan_studio_is_opened_and_a_bad_one_refused(tmp_path):
    bad = write(tmp_path / "bad.json", lesson(version=5))
    p = run_cli(bad)
    assert p.returncode == 2 and p.stderr.startswith("gan-studio open: error: recipe bad.json was written by a newer")
    p = run_cli("train", "--recipe", write(tmp_path / "ok.json", lesson()), "--k", "3", "--out", tmp_path / "o")
    assert p.returncode == 2 and "leave out --k" in p.stderr and not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------ the studio
def test_the_studio_saves_copies_and_pastes_recipes(qtbot, tmp_path):
    from PySide6 import QtWidgets

    from conftest import make_window

    w = make_window(qtbot, tmp_path, preset="ring8", autoplay=False)  # training in a thread of this process
    try:
        w.layout_.actions["latent"].setChecked(False)
        w.controls.k.setValue(3)  # a live change, as a user makes it, at iteration 0
        qtbot.waitUntil(lambda: w.run.latest().config.get("k") == 3, timeout=10_000)
        p = w.recipes.save_recipe(str(tmp_path / "saved.json"))
        saved = R.load(p)
        assert saved.changes == [(0, {"k": 3})] and saved.panels["latent"] is False and saved.preset == "ring8"
        line = w.recipes.copy_recipe()
        assert QtWidgets.QApplication.clipboard().text() == line and line.startswith("ganstudio:1:")
        # a lesson pasted from a chat: the run starts with its schedule and shows its title and notes
        rec = R.from_text(json.dumps(lesson(changes=[{"at": 5, "set": {"k": 4}}])))
        QtWidgets.QApplication.clipboard().setText(rec.to_line())
        w.runs.confirm_reset = False
        assert w.recipes.paste_recipe()
        qtbot.waitUntil(lambda: w.run.latest() is not None and w.run.latest().iteration > 12, timeout=90_000)
        assert w.recipes.notes.isVisible() and w.recipes.notes.title.text() == "k matters"
        assert w.controls.seed.value() == 4
        qtbot.waitUntil(lambda: w.controls.k.value() == 4, timeout=10_000)
        sets = [(e["iteration"], e["changes"]) for e in RunFolder(w.runs.record_dir).events() if e["event"] == "set"]
        assert sets == [(5, {"k": 4})]
        # Reset starts the recipe again, its schedule too
        first = w.runs.record_dir
        w.runs.reset()
        qtbot.waitUntil(lambda: w.runs.record_dir != first and w.run.latest() is not None
                        and w.run.latest().iteration > 8, timeout=90_000)
        again = [(e["iteration"], e["changes"]) for e in RunFolder(w.runs.record_dir).events() if e["event"] == "set"]
        assert again == [(5, {"k": 4})] and w.recipes.notes.isVisible()
        bad = w.recipes.paste_recipe("ganstudio:1:nonsense")
        assert not bad and "Cannot paste the recipe" in w.banner.label.text()
    finally:
        w.close()
