"""The controls: Algorithm 1's settings, learning rates, speed, and the run's data/model/seed/device.

Live settings are validated here (the reason is shown beside the widget) and emitted as one change at a
time; the window sends them to the training thread, which applies them at the next iteration. Settings
that need new networks (data, model, seed, device) are emitted separately so the window can ask first.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ..core.errors import ConfigError
from ..core.settings import LIVE_KEYS, PLUGIN, setting
from ..core.train.plugin_spec import NO_REMEDIES, entry_points as plugin_names
from . import theme
from .setting_widgets import SettingField, canonical, check_box, combo, label, spin

#: the live settings with a widget of their own in the groups above (the others are under "More settings")
MAIN_KEYS = ("k", "g_steps", "batch_size", "loss", "optimizer", "lr_d", "lr_g", "unroll", "pack", "mbstd")
SPEED_STEPS = 60  # slider positions for 1 … 1000 it/s; the last one means "no limit"


def fmt_rate(v: float) -> str:
    return f"{v:.3g}" if 1e-3 <= v < 10 else f"{v:.2e}".replace("e-0", "e-").replace("e+0", "e")


class LogRateEdit(QtWidgets.QWidget):
    """A learning rate: a logarithmic slider (the table's span, 10⁻⁶ … 1) and a text field; text outside the
    setting's range (the table's, e.g. (0, 10]) is refused with the reason."""

    committed = QtCore.Signal(float)

    def __init__(self, key: str, parent=None) -> None:
        super().__init__(parent)
        self.key = key
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        lo, hi = setting(key).soft
        self.slider.setRange(int(round(math.log10(lo) * 100)), int(round(math.log10(hi) * 100)))  # log10(lr) × 100
        self.slider.setSingleStep(10)
        self.slider.setPageStep(100)
        self.edit = QtWidgets.QLineEdit()
        self.edit.setFixedWidth(86)
        self.edit.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.edit)
        self.error: str | None = None
        self.value = 1e-3
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(self._slider_commit)
        self.edit.editingFinished.connect(self._typed)
        self._dragging_value = None

    def set_value(self, v: float) -> None:
        self.value = float(v)
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(math.log10(max(v, setting(self.key).soft[0])) * 100)))
        self.slider.blockSignals(False)
        if not self.edit.hasFocus():
            self.edit.setText(fmt_rate(v))
        self._set_error(None)

    def _slid(self, pos: int) -> None:
        v = float(f"{10 ** (pos / 100):.3g}")
        self.edit.setText(fmt_rate(v))
        if not self.slider.isSliderDown():  # keyboard or click: commit at once
            self._commit(v)

    def _slider_commit(self) -> None:
        self._commit(float(f"{10 ** (self.slider.value() / 100):.3g}"))

    def _typed(self) -> None:
        text = self.edit.text().strip()
        try:
            v = float(text)
        except ValueError:
            self._set_error(f"{self.key}: “{text}” is not a number (e.g. 2e-4)")
            return
        try:
            setting(self.key).check(v)
        except ConfigError as exc:
            self._set_error(str(exc))
            return
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(math.log10(max(v, setting(self.key).soft[0])) * 100)))
        self.slider.blockSignals(False)
        self._commit(v)

    def _commit(self, v: float) -> None:
        self._set_error(None)
        if v != self.value:
            self.value = v
            self.committed.emit(v)

    def _set_error(self, msg: str | None) -> None:
        self.error = msg
        self.edit.setStyleSheet(f"border: 2px solid {theme.ERROR};" if msg else "")
        self.edit.setToolTip(msg or "")
        w = self.parent()
        while w is not None and not isinstance(w, ControlsPanel):
            w = w.parent()
        if w is not None:
            w.show_error(msg)


class ControlsPanel(QtWidgets.QWidget):
    liveChanged = QtCore.Signal(dict)  # one live setting change, e.g. {"k": 5}
    runChanged = QtCore.Signal(dict)  # a change that needs a new run (dataset, model, seed, device)
    speedChanged = QtCore.Signal(object)  # float it/s or None

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(300)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        f = self.font()
        f.setPointSize(11)
        self.setFont(f)

        algo = QtWidgets.QGroupBox("Algorithm 1")
        fa = QtWidgets.QFormLayout(algo)
        self.k = spin("k")
        self.g_steps = spin("g_steps")
        self.batch = spin("batch_size")
        self.loss = combo("loss")
        self.optimizer = combo("optimizer")
        for key, w in (("k", self.k), ("g_steps", self.g_steps), ("batch_size", self.batch), ("loss", self.loss),
                       ("optimizer", self.optimizer)):
            fa.addRow(label(key), w)
        outer.addWidget(algo)

        rates = QtWidgets.QGroupBox("Learning rates")
        fr = QtWidgets.QFormLayout(rates)
        self.lr_d = LogRateEdit("lr_d")
        self.lr_g = LogRateEdit("lr_g")
        fr.addRow(label("lr_d"), self.lr_d)
        fr.addRow(label("lr_g"), self.lr_g)
        outer.addWidget(rates)

        rem = QtWidgets.QGroupBox("Remedies for mode collapse")
        fm = QtWidgets.QFormLayout(rem)
        self.unroll = spin("unroll")
        self.pack = spin("pack")
        self.mbstd = check_box("mbstd")
        fm.addRow(label("unroll"), self.unroll)
        fm.addRow(label("pack"), self.pack)
        fm.addRow("", self.mbstd)
        self.remedy_note = QtWidgets.QLabel("")  # why packing and minibatch std are off, when they are
        self.remedy_note.setStyleSheet("color: #666;")
        self.remedy_note.setVisible(False)
        fm.addRow(self.remedy_note)
        outer.addWidget(rem)

        # every other live setting of the table (momentum, Adam's betas, the schedules, the gradient penalty),
        # in a group that opens on demand: a setting added to the table gets its field here
        more = QtWidgets.QGroupBox("More settings")
        more.setCheckable(True)
        more.setChecked(False)
        inner = QtWidgets.QWidget()
        QtWidgets.QVBoxLayout(more).addWidget(inner)
        fx = QtWidgets.QFormLayout(inner)
        fx.setContentsMargins(0, 0, 0, 0)
        self.more = more
        self.fields: dict[str, SettingField] = {}
        for key in LIVE_KEYS:
            if key not in MAIN_KEYS:
                self.fields[key] = f = SettingField(key)
                fx.addRow(label(key), f)
                f.edited.connect(lambda v, key=key: self._live(key, v))
        inner.setVisible(False)
        more.toggled.connect(inner.setVisible)
        outer.addWidget(more)

        speed = QtWidgets.QGroupBox("Speed")
        fs = QtWidgets.QHBoxLayout(speed)
        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.speed.setRange(0, SPEED_STEPS)
        self.speed.setValue(SPEED_STEPS)
        self.speed.setToolTip("slow motion: limit iterations per second (right end: as fast as possible)")
        self.speed_label = QtWidgets.QLabel("max")
        self.speed_label.setFixedWidth(70)
        fs.addWidget(self.speed, 1)
        fs.addWidget(self.speed_label)
        outer.addWidget(speed)
        self.speed_group = speed

        run = QtWidgets.QGroupBox("Run (changes start a new run)")
        fn = QtWidgets.QFormLayout(run)
        self.dataset = combo("dataset", keep=lambda name: name != "drawn")  # listed once there is a drawing
        self.model = combo("model")
        for name in sorted(plugin_names()):  # installed plug-ins (entry points): their own networks and data
            self.model.addItem(f"{name}  (plug-in)", f"plugin:{name}")
        self.seed = spin("seed")
        self.device = combo("device")
        for key, w in (("dataset", self.dataset), ("model", self.model), ("seed", self.seed), ("device", self.device)):
            fn.addRow(label(key), w)
        outer.addWidget(run)
        self.run_group = run

        self.error_label = QtWidgets.QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {theme.ERROR}; font-weight: bold;")
        self.error_label.setVisible(False)
        outer.addWidget(self.error_label)
        outer.addStretch(1)

        # The window's one "current settings": the run's settings in force (from its snapshots) and the live
        # changes sent but not yet in force; the widgets show exactly these two together (``_config``).
        self._in_force: dict = {}
        self._pending: dict = {}
        self._config: dict = {}  # what the widgets show: {**_in_force, **_pending}
        self._refused: str | None = None
        for box, key in ((self.k, "k"), (self.g_steps, "g_steps"), (self.batch, "batch_size"),
                         (self.unroll, "unroll"), (self.pack, "pack")):
            box.setKeyboardTracking(False)  # typed numbers commit on Enter or focus out; arrows at once
            box.valueChanged.connect(lambda v, key=key: self._live(key, v))
        self.loss.activated.connect(lambda _: self._live("loss", self.loss.currentData()))
        self.optimizer.activated.connect(lambda _: self._live("optimizer", self.optimizer.currentData()))
        self.mbstd.toggled.connect(lambda on: self._live("mbstd", bool(on)))
        self.lr_d.committed.connect(lambda v: self._live("lr_d", v))
        self.lr_g.committed.connect(lambda v: self._live("lr_g", v))
        self.speed.valueChanged.connect(self._speed)
        #: the widget of each live setting (a test checks that every one of the table's has one)
        self.widgets = {"k": self.k, "g_steps": self.g_steps, "batch_size": self.batch, "loss": self.loss,
                        "optimizer": self.optimizer, "lr_d": self.lr_d, "lr_g": self.lr_g, "unroll": self.unroll,
                        "pack": self.pack, "mbstd": self.mbstd, **self.fields}
        self.dataset.activated.connect(lambda _: self._run("dataset", self.dataset.currentData()))
        self.model.activated.connect(lambda _: self._run("model", self.model.currentData()))
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(lambda v: self._run("seed", v))
        self.device.activated.connect(lambda _: self._run("device", self.device.currentData()))

    # -- showing the run's settings ---------------------------------------------------------------
    def load_config(self, cfg: dict) -> None:
        """Show a run's configuration without emitting changes."""
        self._config = dict(cfg)
        widgets = (self.k, self.g_steps, self.batch, self.loss, self.optimizer, self.dataset, self.model,
                   self.seed, self.device, self.unroll, self.pack, self.mbstd)
        for w in widgets:
            w.blockSignals(True)
        try:
            if not self.k.hasFocus():
                self.k.setValue(int(cfg["k"]))
            if not self.g_steps.hasFocus():
                self.g_steps.setValue(int(cfg["g_steps"]))
            if not self.batch.hasFocus():
                self.batch.setValue(int(cfg["batch_size"]))
            if not self.unroll.hasFocus():
                self.unroll.setValue(int(cfg.get("unroll", 0)))
            if not self.pack.hasFocus():
                self.pack.setValue(int(cfg.get("pack", 1)))
            self.mbstd.setChecked(bool(cfg.get("mbstd", False)))
            for key, f in self.fields.items():
                if key in cfg and not any(p.hasFocus() for p in f.parts):
                    f.set_value(cfg[key])
            conv = cfg.get("model") == "mlp"
            self.pack.setEnabled(conv)
            self.mbstd.setEnabled(conv)
            why = (NO_REMEDIES if cfg.get("model") == PLUGIN else
                   "packing and the minibatch-std feature are available for the mlp model only")
            self.pack.setToolTip(self.pack.toolTip().split("\n")[0] + ("" if conv else f"\n({why})"))
            self.mbstd.setToolTip(self.mbstd.toolTip().split("\n")[0] + ("" if conv else f"\n({why})"))
            self.remedy_note.setText("" if conv else "packing and minibatch std need the built-in D:\nyour "
                                     "plug-in brings its own" if cfg.get("model") == "plugin" else
                                     "packing and minibatch std: mlp model only")
            self.remedy_note.setVisible(not conv)
            self.loss.setCurrentIndex(max(0, self.loss.findData(canonical("loss", cfg["loss"]))))
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(cfg["optimizer"])))
            if cfg["dataset"] == "drawn":
                self.show_drawn(True)
            self.dataset.setCurrentIndex(max(0, self.dataset.findData(cfg["dataset"])))
            self.model.setCurrentIndex(max(0, self.model.findData(cfg["model"])))
            if not self.seed.hasFocus():
                self.seed.setValue(int(cfg["seed"]))
            dev = str(cfg.get("device", "auto")).split(":")[0]
            self.device.setCurrentIndex(max(0, self.device.findData(dev)))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def show_in_force(self, cfg: dict) -> dict:
        """The run's settings in force (each snapshot's). The widgets then show them with the changes still in
        flight; returns the changes that are now in force (accepted by the run)."""
        self._in_force = dict(cfg)
        done = {k: v for k, v in self._pending.items() if cfg.get(k) == v}
        self._pending = {k: v for k, v in self._pending.items() if k not in done}
        shown = {**self._in_force, **self._pending}
        if shown != self._config:
            self.load_config(shown)
        return done

    def new_run(self) -> None:
        """A new run or recording: changes in flight belonged to the last one."""
        self._in_force, self._pending = {}, {}

    def show_drawn(self, on: bool) -> None:
        """List "drawn" (the points of the drawing mode) in the data picker, after the file-based sets."""
        i = self.dataset.findData("drawn")
        if on and i < 0:
            self.dataset.insertItem(max(0, self.dataset.findData("points") + 1), setting("dataset").choice_label("drawn"),
                                    "drawn")
        elif not on and i >= 0:
            self.dataset.removeItem(i)

    def show_rates(self, lr_d: float, lr_g: float) -> None:
        """The optimisers' current rates (they move when a decay schedule runs); a rate change still in flight
        keeps showing until the run has it."""
        for key, v in (("lr_d", lr_d), ("lr_g", lr_g)):
            edit = getattr(self, key)
            if key not in self._pending and not edit.slider.isSliderDown() and not edit.edit.hasFocus() \
                    and edit.error is None:
                edit.set_value(v)

    def set_steering(self, on: bool) -> None:
        """Steering a run written elsewhere (a followed live folder): its live settings are sent to it; the
        speed and what needs a new run belong to the studio's own runs and are off."""
        self.speed_group.setEnabled(not on)
        self.run_group.setEnabled(not on)

    def show_error(self, msg: str | None) -> None:
        self.error_label.setText(msg or "")
        self.error_label.setVisible(bool(msg))

    # -- emitting ----------------------------------------------------------------------------------
    def _live(self, key: str, value) -> None:
        """Emit one live change; the run handle validates it (the settings table's rules) and the window calls
        :meth:`refuse` when it is refused, so the widgets never show a value that is not in force."""
        if self._config.get(key) == value:
            return
        self.show_error(None)
        self._refused = None
        self.liveChanged.emit({key: value})
        if self._refused is None:
            self._config[key] = value

    def sent(self, change: dict) -> None:
        """A live change the run handle took (from these widgets or a doctor's remedy): shown as in flight
        until the run's settings have it, or the run refuses it."""
        self._pending.update(change)
        shown = {**(self._in_force or self._config), **self._pending}
        if shown != self._config:
            self.load_config(shown)
        for key in ("lr_d", "lr_g"):  # (the rates are shown from the run's optimisers: see show_rates)
            if key in change:
                getattr(self, key).set_value(float(change[key]))

    def refuse(self, msg: str, keys=()) -> None:
        """A change was refused — the one just emitted (by the run handle, at once) or, later, the one of
        ``keys`` (by the run): show the reason and put the widgets back to the settings in force."""
        self._refused = msg
        for key in keys:
            self._pending.pop(key, None)
        shown = {**(self._in_force or self._config), **self._pending}
        if shown:
            self.load_config(shown)
        for key in ("lr_d", "lr_g"):
            if key in self._config:
                getattr(self, key).set_value(float(self._config[key]))
        self.show_error(msg)

    def _run(self, key: str, value) -> None:
        if self._config.get(key) == value:
            return
        self.runChanged.emit({key: value})

    def speed_value(self) -> float | None:
        pos = self.speed.value()
        return None if pos >= SPEED_STEPS else float(f"{10 ** (3 * pos / (SPEED_STEPS - 1)):.2g}")

    def set_speed(self, it_per_s: float | None) -> None:
        pos = SPEED_STEPS if it_per_s is None else int(round(math.log10(max(it_per_s, 1)) / 3 * (SPEED_STEPS - 1)))
        self.speed.setValue(min(pos, SPEED_STEPS))

    def _speed(self, _pos: int) -> None:
        v = self.speed_value()
        self.speed_label.setText("max" if v is None else f"{v:g} it/s")
        self.speedChanged.emit(v)
