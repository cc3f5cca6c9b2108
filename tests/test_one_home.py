"""One rule, one place: each setting, statistics column, event, view name, run state, sub-step kind and loss
fact is declared once, and everything else is generated from it or imports it. Each test names its rule's
home and fails when a second copy appears (a literal written again elsewhere, a GUI limit that differs from
the core's, a flag with its own choices)."""
from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import pytest

from gan_studio.core import columns, settings
from gan_studio.core.errors import ConfigError
from gan_studio.core.protocol import STAT_COLUMNS, STATES, SUBSTEP_KINDS, Event, EventKind, Snapshot, SubStep
from gan_studio.core.train.config import LIVE_KEYS, STRUCTURAL_KEYS, TrainConfig, validate_values

PKG = Path(__file__).resolve().parents[1] / "gan_studio"
SOURCES = {p: ast.parse(p.read_text(encoding="utf-8")) for p in PKG.rglob("*.py")}


def _where(path: Path, node) -> str:
    return f"{path.relative_to(PKG.parent)}:{node.lineno}"


def _string_sequences(tree):
    """Every tuple, list or set literal made only of strings, with its strings."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) > 1 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node, [e.value for e in node.elts]


# ------------------------------------------------------------------------ 1. the settings table
def test_the_settings_table_is_trainconfig_field_for_field_with_its_defaults():
    """Home: core/settings.py SETTINGS. TrainConfig's fields and defaults are the table's."""
    assert [f.name for f in dataclasses.fields(TrainConfig)] == [s.name for s in settings.SETTINGS]
    cfg = TrainConfig().to_dict()
    for s in settings.SETTINGS:
        want = list(s.default) if isinstance(s.default, tuple) else s.default
        assert cfg[s.name] == want, s.name


def test_live_and_structural_keys_are_derived_from_the_table_and_written_nowhere_else():
    """Home: the table's roles. No source file lists all the live (or structural) keys again."""
    assert LIVE_KEYS == tuple(s.name for s in settings.SETTINGS if s.role == "live")
    assert STRUCTURAL_KEYS == tuple(s.name for s in settings.SETTINGS if s.role == "structural")
    copies = [_where(p, node) for p, tree in SOURCES.items() for node, names in _string_sequences(tree)
              if set(names) >= set(LIVE_KEYS) or set(names) >= set(STRUCTURAL_KEYS)]
    assert not copies, f"a second copy of the live or structural keys: {copies}"


def test_every_number_setting_has_a_bounded_range_that_validation_enforces():
    """The ranges cover every number (lr_min, lr_decay, gp_weight, momentum_ramp too), and validate_values
    (the one validation) refuses just outside them and accepts the ends, naming the setting."""
    for s in settings.SETTINGS:
        if s.kind not in ("int", "float"):
            continue
        assert s.lo is not None and s.hi is not None and math.isfinite(s.lo) and math.isfinite(s.hi), s.name
        step = 1 if s.kind == "int" else max(1e-9, abs(s.hi) * 1e-9)
        for bad in (s.lo - step, s.hi + step) + ((s.lo,) if s.lo_open else ()) + ((s.hi,) if s.hi_open else ()):
            with pytest.raises(ConfigError, match=s.name):
                validate_values({s.name: int(bad) if s.kind == "int" else float(bad)})
        for good in (s.lo if not s.lo_open else None, s.hi if not s.hi_open else None, s.default):
            if good is not None:
                validate_values({s.name: good})
        with pytest.raises(ConfigError, match=s.name):
            validate_values({s.name: "many"})


def test_choices_are_the_tables_and_refusals_name_them():
    for s in settings.SETTINGS:
        if s.kind == "choice":
            for c in s.choices:
                validate_values({s.name: c})
            with pytest.raises(ConfigError, match=f"unknown {s.name} 'nonsense'"):
                validate_values({s.name: "nonsense"})


def test_trains_flags_are_generated_from_the_table():
    """Home: the table's ``flag``. gan-studio train's flags take their types, ranges and choices from it."""
    from gan_studio.cli import train
    from gan_studio.cli.args import Parser

    p = Parser(prog="gan-studio train")
    train.add_arguments(p)
    actions = {a.dest: a for a in p._actions}
    flagged = [s for s in settings.SETTINGS if s.flag]
    assert {s.name for s in flagged} >= {"k", "g_steps", "batch_size", "lr_d", "lr_g", "loss", "optimizer", "noise"}
    for s in flagged:
        a = actions[s.dest]
        assert s.flag in a.option_strings
        if s.kind == "choice":
            assert tuple(a.choices) == s.choices, s.name
        if s.kind == "int":
            assert p.parse_args([s.flag, str(s.hi), "--out", "x"]).__dict__[s.dest] == s.hi
            with pytest.raises(SystemExit):
                p.parse_args([s.flag, str(s.hi + 1), "--out", "x"])
    assert train.TRAIN_SETTINGS == {s.dest: s.name for s in flagged if s.name != "device"}
    # no other flag of train writes its own choices for a setting
    for path in (PKG / "cli").glob("*.py"):
        for node in ast.walk(SOURCES[path]):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument" and node.args:
                flag = getattr(node.args[0], "value", None)
                s = next((s for s in flagged if s.flag == flag), None)
                if s is not None and path.name in ("train.py", "args.py"):
                    pytest.fail(f"{_where(path, node)}: {flag} is added by hand; it comes from the settings table")


def test_the_studios_limits_are_the_cores(qtbot):
    """The controls' and the branch dialog's spin boxes hold exactly the table's range (k and G steps up to
    10,000 as in the core, not 100), and every live setting has a control."""
    from gan_studio.gui.branching import ContinueDialog
    from gan_studio.gui.controls import ControlsPanel
    from gan_studio.gui.setting_widgets import number_range

    c = ControlsPanel()
    qtbot.addWidget(c)
    assert set(c.widgets) == set(LIVE_KEYS), "every live setting has a control in the studio"
    d = ContinueDialog(TrainConfig().to_dict(), "here")
    qtbot.addWidget(d)
    boxes = [(k, c.widgets[k]) for k in ("k", "g_steps", "batch_size", "unroll", "pack")] + \
        [(k, c.seed if k == "seed" else None) for k in ("seed",)] + list(d.ints.items())
    for key, box in boxes:
        s = settings.setting(key)
        assert (box.minimum(), box.maximum()) == (s.lo, s.hi), key
    assert c.k.maximum() == 10_000
    for key, field in c.fields.items():
        s = settings.setting(key)
        for part in field.parts:
            if s.kind == "int":
                assert (part.minimum(), part.maximum()) == (s.lo, s.hi), key
            elif s.kind in ("float", "betas"):
                lo, hi = number_range(key)
                assert part.maximum() == pytest.approx(hi) and part.minimum() <= lo + 1e-12, key
    from gan_studio.gui.compare import COMPARE_KEYS

    assert set(COMPARE_KEYS) <= set(LIVE_KEYS), "compare mode sets apart live settings only"
    for combo, key in ((c.loss, "loss"), (c.optimizer, "optimizer"), (c.model, "model"), (c.device, "device")):
        assert [combo.itemData(i) for i in range(combo.count())] == list(settings.setting(key).offered), key


def test_a_refused_change_puts_the_controls_back(qtbot):
    """The window shows what is in force: a change the run handle refuses is undone in the widget."""
    from gan_studio.gui.controls import ControlsPanel

    c = ControlsPanel()
    qtbot.addWidget(c)
    cfg = TrainConfig(update="simultaneous").to_dict()
    c.load_config(cfg)
    refused = []

    def handle_set(change):  # what the run manager does with the handle's answer
        from gan_studio.core.live.handles import check_live_changes

        try:
            check_live_changes(change, cfg)
        except ConfigError as exc:
            refused.append(str(exc))
            c.refuse(str(exc))

    c.liveChanged.connect(handle_set)
    c.k.setValue(3)  # the simultaneous update needs k = 1
    assert refused and "simultaneous" in refused[0]
    assert c.k.value() == 1 and c.error_label.isVisibleTo(c) and "simultaneous" in c.error_label.text()
    c.unroll.setValue(0)
    c.batch.setValue(64)  # an accepted change stays
    assert c.batch.value() == 64 and c._config["batch_size"] == 64 and not c.error_label.isVisibleTo(c)


# ------------------------------------------------------------------------ 2. the vocabularies
def test_statistics_columns_are_declared_once_and_read_by_name():
    """Home: core/columns.py COLUMNS (name, on-disk name, label, unit). The trainer's IterationStats, the
    protocol's STAT_COLUMNS, the run folder's line schema and CSV come from it; no source lists the columns
    again (positional copies)."""
    from gan_studio.core.record.runfolder import METRIC_LINE, METRICS_CSV_COLUMNS
    from gan_studio.core.train.trainer import IterationStats

    assert STAT_COLUMNS == columns.NAMES == tuple(f.name for f in dataclasses.fields(IterationStats))
    assert tuple(METRICS_CSV_COLUMNS) == columns.DISK_NAMES and {"g_grad_norm", "d_grad_norm"} <= set(METRICS_CSV_COLUMNS)
    assert set(columns.DISK_NAMES) <= set(METRIC_LINE)
    # a list of columns elsewhere is a selection by name (the doctor's), never the whole list again nor a
    # rename (the on-disk "k" belongs to the columns' home)
    copies = [_where(p, node) for p, tree in SOURCES.items() if p.name != "columns.py"
              for node, names in _string_sequences(tree) if len(set(names) & set(columns.NAMES)) >= 5
              and (set(names) >= set(columns.NAMES) or not set(names) <= set(columns.NAMES))]
    assert not copies, f"a second list of the statistics columns: {copies}"


def test_the_version_1_alias_reads_old_and_new_lines_alike():
    stats = IterationStatsLike()
    line = columns.to_line(stats)
    assert line["k"] == 3 and "d_steps" not in line and line["d_loss"] is None  # NaN written as null
    assert columns.from_line(line)[columns.COL["d_steps"]] == 3
    renamed = {("d_steps" if k == "k" else k): v for k, v in line.items()}
    assert columns.from_line(renamed)[columns.COL["d_steps"]] == 3


class IterationStatsLike:
    def __init__(self):
        for name in columns.NAMES:
            setattr(self, name, 1.0)
        self.iteration, self.d_steps, self.g_steps, self.batch_size, self.d_loss = 10, 3, 1, 64, float("nan")


def test_view_names_are_declared_once():
    """Home: core/views/viewspec.py (VIEW_NAMES, PANEL_KEYS). "d_hist" is written nowhere else; the panels'
    keys are the panel keys; a request for an unknown view is refused."""
    from gan_studio.core.views.viewspec import PANEL_KEYS, VIEW_NAMES, ViewRequest

    copies = [_where(p, n) for p, tree in SOURCES.items() if p.name != "viewspec.py" for n in ast.walk(tree)
              if isinstance(n, ast.Constant) and n.value == "d_hist"]
    assert not copies, f'"d_hist" written outside its home: {copies}'
    from gan_studio.gui.layout import PanelLayout  # noqa: F401 (loads the panels)
    from gan_studio.gui.panels import DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel

    assert {p.key for p in (DHistPanel, EvaluationPanel, FieldPanel, LatentPanel, LossesPanel, SamplesPanel)} \
        == set(PANEL_KEYS)
    with pytest.raises(ValueError, match="unknown view"):
        ViewRequest(names=frozenset({"d_histogram"}))
    assert ViewRequest(names=frozenset(VIEW_NAMES)).names == set(VIEW_NAMES)


def _event_kinds_used():
    """(where, kind) for every event kind written as a string: handle._event("x", ...), Event("x", ...), and
    ev.kind compared with "x"."""
    for p, tree in SOURCES.items():
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant) and \
                    (getattr(n.func, "attr", None) == "_event" or getattr(n.func, "id", None) == "Event"):
                yield _where(p, n), n.args[0].value
            if isinstance(n, ast.Compare) and isinstance(n.left, ast.Attribute) and n.left.attr == "kind" and \
                    isinstance(n.left.value, ast.Name) and n.left.value.id == "ev":
                for comp in n.comparators:
                    for e in (comp.elts if isinstance(comp, (ast.Tuple, ast.List, ast.Set)) else [comp]):
                        if isinstance(e, ast.Constant):
                            yield _where(p, n), e.value


def test_run_handle_events_are_event_kinds():
    """Home: protocol.EventKind (now with rewound and figure). Every kind emitted or compared is one of its
    values, and an Event of another kind cannot be made."""
    values = {k.value for k in EventKind}
    assert {"rewound", "figure"} <= values
    used = list(_event_kinds_used())
    assert len(used) > 20, "the scan finds the handles' events"
    bad = [(w, k) for w, k in used if k not in values]
    assert not bad, f"event kinds that EventKind lacks: {bad}"
    assert Event("rewound", "x").kind is EventKind.REWOUND
    with pytest.raises(ValueError):
        Event("rewinded", "x")


def test_run_folder_events_are_declared_once():
    """Home: columns.RunEvent. No metrics line is written with an event name of its own, and no reader
    compares a line's event with a string."""
    bad = []
    for p, tree in SOURCES.items():
        for n in ast.walk(tree):
            if isinstance(n, ast.Dict):
                for k, v in zip(n.keys, n.values):
                    if isinstance(k, ast.Constant) and k.value == "event" and isinstance(v, ast.Constant):
                        bad.append(_where(p, n))
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "note" and len(n.args) >= 2 and \
                    isinstance(n.args[1], ast.Constant):
                bad.append(_where(p, n))
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "_note" and \
                    any(isinstance(a, ast.Constant) and a.value in columns.RUN_EVENTS for a in n.args[:2]):
                bad.append(_where(p, n))  # the steering's and Watch's own note helpers
            if isinstance(n, ast.Compare) and isinstance(n.left, ast.Call) and n.left.args and \
                    getattr(n.left.args[0], "value", None) == "event" and \
                    any(isinstance(c, ast.Constant) for c in n.comparators):
                bad.append(_where(p, n))
            if isinstance(n, ast.Compare) and isinstance(n.left, ast.Name) and n.left.id == "ev" and \
                    any(isinstance(c, ast.Constant) and c.value in columns.RUN_EVENTS for c in n.comparators):
                bad.append(_where(p, n))
    assert not bad, f"run-folder events written as strings: {bad}"
    lists = [_where(p, node) for p, tree in SOURCES.items() if p.name != "columns.py"
             for node, names in _string_sequences(tree) if len(set(names) & set(columns.RUN_EVENTS)) >= 3]
    assert not lists, f"a second list of run-folder events: {lists}"


def test_steering_answers_are_run_events():
    from gan_studio.core.record.control import ANSWER_EVENTS

    assert ANSWER_EVENTS and set(ANSWER_EVENTS) <= set(columns.RUN_EVENTS)


def test_run_states_and_substep_kinds_are_checked_against_their_lists():
    """Homes: protocol.STATES and protocol.SUBSTEP_KINDS. Every state set by a handle is a state; a snapshot or
    sub-step of another kind cannot be made."""
    bad, seen = [], 0
    for p, tree in SOURCES.items():
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "_set_state" and n.args and \
                    isinstance(n.args[0], ast.Constant):
                seen += 1
                if n.args[0].value not in STATES:
                    bad.append((_where(p, n), n.args[0].value))
            if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "SubStep":
                for kw in n.keywords:
                    if kw.arg == "kind" and isinstance(kw.value, ast.Constant) and kw.value.value not in SUBSTEP_KINDS:
                        bad.append((_where(p, n), kw.value.value))
    assert seen > 5 and not bad, bad
    with pytest.raises(ValueError, match="unknown run state"):
        Snapshot(run_id=1, iteration=0, state="sleeping", message="", it_per_s=0.0, device="cpu", config={},
                 static=None)
    with pytest.raises(ValueError, match="unknown sub-step"):
        SubStep(kind="d_think", iteration=1, step=1, steps=1, m=1, last=True)


def test_loss_facts_are_declared_once():
    """Home: settings.LOSS_INFO (torch-free). The loss registry, the doctor's sigmoid losses and the loss
    setting's choices come from it."""
    from gan_studio.core.doctor import checks, engine
    from gan_studio.core.train import losses

    assert set(losses.LOSSES) == set(settings.LOSS_NAMES) == set(settings.LOSS_INFO)
    for name, loss in losses.LOSSES.items():
        info = settings.LOSS_INFO[name]
        assert (loss.name, loss.sigmoid, loss.d_equilibrium, loss.g_equilibrium, loss.gradient_penalty) == \
            (info.name, info.sigmoid, info.d_equilibrium, info.g_equilibrium, info.gradient_penalty)
    assert engine.SIGMOID_LOSSES is checks.SIGMOID_LOSSES is settings.SIGMOID_LOSSES
    copies = [_where(p, node) for p, tree in SOURCES.items() if p.name != "settings.py"
              for node, names in _string_sequences(tree) if {"minimax", "nonsaturating", "lsgan"} <= set(names)]
    assert not copies, f"a second list of the losses: {copies}"
