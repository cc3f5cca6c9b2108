"""The command-line package: one module per command with one shape, a fast --help, errors mapped in one
place, dataset defaults from the core, and --preset accepted with --resume when it matches."""
import json
import subprocess
import sys

import pytest
import torch

from conftest import run_cli
from gan_studio import cli
from gan_studio.cli import errors
from gan_studio.core.train.config import ConfigError, DATASET_KINDS, defaults_for_dataset


def test_every_command_module_has_the_same_shape():
    names = []
    for cmd in cli.commands():
        assert isinstance(cmd.NAME, str) and isinstance(cmd.HELP, str) and cmd.HELP
        assert callable(cmd.add_arguments) and callable(cmd.run)
        names.append(cmd.NAME)
    assert len(names) == len(set(names))
    assert {"train", "sample", "parzen", "eval", "presets", "export", "gif", "metrics", "open",
            "compare"} <= set(names)


def test_a_command_module_not_written_yet_is_left_out_but_broken_imports_are_not(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("presets", "not_written_yet"))
    assert [c.NAME for c in cli.commands()] == ["presets"]

    def broken(name):  # the module exists but needs something that does not
        raise ModuleNotFoundError("No module named 'gs_missing_dependency'", name="gs_missing_dependency")

    monkeypatch.setattr(cli.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError):
        cli.commands()


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["eval", "--help"]])
def test_help_loads_neither_torch_nor_numpy(argv):
    code = ("import sys\nfrom gan_studio.cli import run_cli\n"
            f"try:\n    run_cli({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'numpy', 'PySide6') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"


def test_help_names_the_registered_datasets():
    p = run_cli("train", "--help", check=True)
    flat = "".join(p.stdout.split())  # help wraps lines, also at hyphens
    assert ",".join(DATASET_KINDS) in flat


@pytest.mark.parametrize("exc,code,line", [
    (errors.UserError("bad thing"), 2, "gan-studio x: error: bad thing"),
    (ConfigError("k must be at least 1"), 2, "gan-studio x: error: k must be at least 1"),
    (KeyboardInterrupt(), 130, "gan-studio x: interrupted"),
    (MemoryError(), 1, "gan-studio x: error: out of memory"),
    (FileNotFoundError(2, "No such file or directory", "/nope"), 1,
     "gan-studio x: error: No such file or directory: /nope"),
])
def test_errors_become_one_line_and_an_exit_status(capsys, exc, code, line):
    def fail(a):
        raise exc

    assert errors.run_guarded("gan-studio x", fail, None) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and len(err.strip().splitlines()) == 1


def test_the_screenshot_rule_is_checked_for_the_window_open_and_compare(tmp_path):
    for args in (["--screenshot", "s.png"], ["open", str(tmp_path), "--screenshot", "s.png"],
                 ["compare", "ring8", "--b", "k=2", "--screenshot", "s.png"]):
        p = run_cli(*args)
        assert p.returncode == 2 and "--screenshot needs --exit-after" in p.stderr, p.stderr


def test_dataset_defaults_come_from_the_core():
    img = defaults_for_dataset("mnist")
    assert img == {"model": "mlp", "model_args": {"hidden": 256, "layers": 2, "out_range": "unit"}, "z_dim": 32,
                   "noise": "normal"}
    img["model_args"]["hidden"] = 1  # a copy each time
    assert defaults_for_dataset("digits")["model_args"]["hidden"] == 256
    assert defaults_for_dataset("ring8") == {"model": "mlp", "model_args": {}, "z_dim": 2, "noise": "normal"}
    assert defaults_for_dataset("imagenet") == {}
    assert all(defaults_for_dataset(n) for n in DATASET_KINDS)

    from gan_studio.cli.train import explicit_settings, new_config

    def cfg(*argv):
        a = cli.build_parser().parse_args(["train", *argv, "--out", "x"])
        return new_config(a, explicit_settings(a))

    c = cfg("--dataset", "digits")
    assert (c["model"], c["model_args"], c["z_dim"]) == ("mlp", defaults_for_dataset("digits")["model_args"], 32)
    c = cfg("--dataset", "digits", "--model-arg", "hidden=64", "--z-dim", "8")
    assert c["model_args"] == {"hidden": 64, "layers": 2, "out_range": "unit"} and c["z_dim"] == 8
    c = cfg("--preset", "ring8", "--dataset-arg", "sigma=0.1")
    assert c["dataset_args"]["sigma"] == 0.1 and c["dataset_args"]["radius"] == 2.0


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_resume_accepts_a_matching_preset_and_equals_one_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_cli("train", "--preset", "ring8", "--steps", "40", "--out", a, "--quiet", check=True)
    run_cli("train", "--preset", "ring8", "--steps", "20", "--out", b, "--quiet", check=True)
    p = run_cli("train", "--preset", "ring8", "--steps", "40", "--resume", b / "checkpoint.pt", "--out", b,
                "--quiet", check=True)  # the README's own example
    assert last_json(p.stdout)["trained"] == 20
    ca = torch.load(a / "checkpoint.pt", weights_only=True)
    cb = torch.load(b / "checkpoint.pt", weights_only=True)
    assert cb["iteration"] == 40
    for k in ca["G"]:
        assert torch.equal(ca["G"][k], cb["G"][k])


@pytest.mark.parametrize("extra,needle", [
    (["--preset", "grid25"], "--preset grid25 does not match the checkpoint (dataset: checkpoint has 'ring8'"),
    (["--preset", "ring8", "--dataset-arg", "sigma=0.2"], "dataset_args: checkpoint has"),
    (["--preset", "ring8-collapse"], "does not match the checkpoint"),
])
def test_resume_refuses_a_preset_that_describes_other_data_or_models(tmp_path, extra, needle):
    run_cli("train", "--preset", "ring8", "--steps", "3", "--out", tmp_path / "r", "--quiet", check=True)
    before = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    p = run_cli("train", *extra, "--resume", tmp_path / "r" / "checkpoint.pt", "--out", tmp_path / "r")
    assert p.returncode == 2 and needle in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert (tmp_path / "r" / "checkpoint.pt").read_bytes() == before
