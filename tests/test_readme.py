"""The README's command-line examples work as printed (with step counts cut down).

Every ``gan-studio ...`` line in the README's shell code blocks is run, in order, in one scratch folder
(later examples use what earlier ones wrote, as a reader following along would). Left out: the studio
window (no command, ``open``, ``compare``), ``torchrun`` lines, synopses with placeholders (``SAMPLES.npy``,
``N``), and examples that need MNIST when ../shared/data/mnist is not beside the checkout.
Optional parts ``[--json]`` are included; alternatives ``field|samples|latent`` are each run.
"""
from __future__ import annotations

import itertools
import re
import shlex

from conftest import REPO, SHARED_MNIST

STUDIO = {"open", "compare"}  # commands that open the window
NEEDS_MNIST = {"reproduce", "figure2", "figure3"}
_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(\.[a-z]+)?|\.\.\.")
_CUT = {"--steps": 60, "--iterations": 60, "--eval-every": 60, "--checkpoint-every": 30, "--save-every": 30,
        "--at": 60}  # a branch point scales with the run it branches; one evaluation (the paper's protocol) per run
DEFAULT_STEPS = "20"  # for a `train` example that gives none (presets train for thousands of iterations)


def readme_commands(text: str) -> list[str]:
    """The ``gan-studio`` lines of the shell code blocks, comments removed."""
    out, in_shell = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("```"):
            in_shell = not in_shell and s[3:].strip() in ("bash", "sh", "shell", "console")
            continue
        if in_shell and s.startswith("gan-studio"):
            out.append(re.sub(r"\s+#.*$", "", s))
    return out


def _is_placeholder(tok: str) -> bool:
    return any(_PLACEHOLDER.fullmatch(part) for part in tok.split("=") if part)


def expand(line: str) -> list[list[str]] | None:
    """The argument lists to run for one README line (None: a synopsis, not runnable as printed)."""
    while True:  # optional parts: kept when concrete, dropped when they hold placeholders
        m = re.search(r"\[([^\[\]]*)\]", line)
        if m is None:
            break
        inner = m.group(1)
        keep = not any(_is_placeholder(t) for t in inner.split())
        line = line[:m.start()] + (inner if keep else "") + line[m.end():]
    toks = shlex.split(line)[1:]  # without "gan-studio"
    if any(_is_placeholder(t) for t in toks):
        return None
    return [list(c) for c in itertools.product(*[t.split("|") if "|" in t else [t] for t in toks])]


def cut_down(args: list[str]) -> list[str]:
    """Small step counts (N → N/100, at most the cap), so the examples run in seconds. A cut-down `train`
    records a snapshot at every step: the full-size run's round steps (a branch --at 2000 of a 4,000-step
    run) are recorded at its round spacings (core/record/budget.py), and N/100 of them must be too."""
    args = list(args)
    for i, t in enumerate(args[:-1]):
        if t in _CUT and args[i + 1].isdigit():
            args[i + 1] = str(max(1, min(_CUT[t], int(args[i + 1]) // 100)))
    if args and args[0] == "train" and "--steps" not in args and "--resume" not in args:
        args += ["--steps", DEFAULT_STEPS]
    if args and args[0] == "train" and "--snapshot-every" not in args:
        args += ["--snapshot-every", "1"]
    return args


def classify(args: list[str]) -> str:
    if not args or args[0].startswith("-") or args[0] in STUDIO:
        return "studio"
    if args[0] in NEEDS_MNIST or any("mnist" in t.lower() for t in args):
        return "mnist"
    return "cli"


def with_mnist_root(args: list[str]) -> list[str]:
    args = list(args)
    if "--data-root" in args:
        args[args.index("--data-root") + 1] = str(SHARED_MNIST)
    else:
        args += ["--data-root", str(SHARED_MNIST)]
    return args


README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_has_command_line_examples_to_run():
    lines = readme_commands(README)
    runnable = [a for line in lines for a in (expand(line) or []) if classify(a) == "cli"]
    assert len(runnable) >= 8, lines
    assert any(a[:1] == ["train"] and "--preset" in a and "--resume" in a for a in runnable)  # resuming a preset


def test_expansion_of_optional_parts_alternatives_and_placeholders():
    assert expand("gan-studio presets [--json]") == [["presets", "--json"]]
    assert expand("gan-studio eval ckpt.pt [--n N] [--json]") == [["eval", "ckpt.pt", "--json"]]
    assert expand("gan-studio parzen SAMPLES.npy --test TEST.npy") is None
    assert expand("gan-studio gif r --view a|b --out g.gif") == [["gif", "r", "--view", "a", "--out", "g.gif"],
                                                                ["gif", "r", "--view", "b", "--out", "g.gif"]]
    assert cut_down(["train", "--steps", "6000", "--out", "x"]) == ["train", "--steps", "60", "--out", "x",
                                                                    "--snapshot-every", "1"]
    assert cut_down(["train", "--preset", "ring8", "--out", "x"])[-4:-2] == ["--steps", DEFAULT_STEPS]
    assert classify(["--preset", "ring8"]) == classify(["open", "r"]) == "studio"
    assert classify(["train", "--preset", "mnist-paper"]) == "mnist"


def test_readme_command_line_examples_exit_0(tmp_path, monkeypatch, capsys):
    """Run in this process (torch is imported once), in a scratch folder, as ``gan-studio ARGS`` would."""
    from gan_studio.cli import run_cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(REPO / "examples")  # the plug-in examples, named as from the repository
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    failures, ran = [], 0
    for line in readme_commands(README):
        for args in expand(line) or []:
            kind = classify(args)
            if kind == "studio" or (kind == "mnist" and not (SHARED_MNIST / "MNIST" / "raw").is_dir()):
                continue
            args = cut_down(with_mnist_root(args) if kind == "mnist" else args)
            try:
                code = run_cli(args)
            except SystemExit as exc:  # argparse refused the arguments
                code = exc.code
            err = capsys.readouterr().err
            ran += 1
            if code != 0:
                failures.append(f"gan-studio {' '.join(args)}  (from: {line})\n  exit {code}: {err.strip()[-400:]}")
    assert ran >= 8
    assert not failures, "\n".join(failures)
