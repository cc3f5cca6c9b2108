"""Widgets for the settings table's settings (:mod:`gan_studio.core.settings`): a spin box's range, a picker's
choices and labels, and tooltips come from the table, so the studio's limits are the core's."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..core.settings import LOSS_ALIASES, setting


def label(name: str) -> str:
    return setting(name).label


def spin(name: str) -> QtWidgets.QSpinBox:
    """A spin box for whole-number setting ``name``: the table's range, tooltip and "off" text (when the
    lowest value switches a remedy off)."""
    s = setting(name)
    sb = QtWidgets.QSpinBox()
    sb.setRange(int(s.lo), int(s.hi))
    if s.tooltip:
        sb.setToolTip(s.tooltip)
    if s.what and "(off)" in s.what:
        sb.setSpecialValueText("off")
    return sb


def combo(name: str, keep=lambda c: True) -> QtWidgets.QComboBox:
    """A picker of setting ``name``'s choices (aliases left out; ``keep``: which to list), with their labels."""
    s = setting(name)
    cb = QtWidgets.QComboBox()
    for c in s.offered:
        if keep(c):
            cb.addItem(s.choice_label(c), c)
    if s.tooltip:
        cb.setToolTip(s.tooltip)
    return cb


def canonical(name: str, value):
    """The value a picker shows for ``value`` (an alias such as loss ``ns`` is shown as what it means)."""
    return LOSS_ALIASES.get(value, value) if name == "loss" else value


def check_box(name: str) -> QtWidgets.QCheckBox:
    s = setting(name)
    cb = QtWidgets.QCheckBox(s.label)
    if s.tooltip:
        cb.setToolTip(s.tooltip)
    return cb


def number_range(name: str) -> tuple[float, float]:
    """The lowest and highest value a number field of setting ``name`` can hold: the table's range, an open end
    moved in by one step of the shown precision."""
    s = setting(name)
    step = 10.0 ** -s.decimals
    return (s.lo + step if s.lo_open else s.lo), (s.hi - step if s.hi_open else s.hi)


def dspin(name: str) -> QtWidgets.QDoubleSpinBox:
    """A number field for float setting ``name`` (or one of the pair of ``betas``): the table's range and
    precision; for a setting that may be unset (None), the lowest position reads "none"."""
    s = setting(name)
    sb = QtWidgets.QDoubleSpinBox()
    sb.setDecimals(s.decimals)
    lo, hi = number_range(name)
    if s.nullable:
        lo -= 10.0 ** -s.decimals
        sb.setSpecialValueText("none")
    sb.setRange(lo, hi)
    sb.setSingleStep(max(10.0 ** -s.decimals, min(0.1, (hi - lo) / 100)))
    if s.tooltip:
        sb.setToolTip(s.tooltip)
    return sb


class SettingField(QtWidgets.QWidget):
    """An editor for any one setting of the table (whole number, number, number or none, on/off, a choice, a
    pair of numbers), made from its record; ``edited`` carries the new value (typed numbers on Enter)."""

    edited = QtCore.Signal(object)

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.name = name
        s = self.setting = setting(name)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if s.kind == "int":
            self.parts = [spin(name)]
        elif s.kind in ("float", "betas"):
            self.parts = [dspin(name) for _ in range(2 if s.kind == "betas" else 1)]
        elif s.kind == "bool":
            self.parts = [check_box(name)]
        elif s.kind == "choice":
            self.parts = [combo(name)]
        else:
            raise ValueError(f"no field for setting {name!r} of kind {s.kind}")
        for w in self.parts:
            w.setObjectName(f"setting-{name}")
            lay.addWidget(w)
            if isinstance(w, QtWidgets.QAbstractSpinBox):
                w.setKeyboardTracking(False)
                w.valueChanged.connect(self._changed)
            elif isinstance(w, QtWidgets.QCheckBox):
                w.toggled.connect(self._changed)
            else:
                w.activated.connect(self._changed)

    def value(self):
        s, w = self.setting, self.parts[0]
        if s.kind == "int":
            return int(w.value())
        if s.kind == "betas":
            return [round(p.value(), s.decimals) for p in self.parts]
        if s.kind == "float":
            if s.nullable and w.value() <= w.minimum():
                return None
            return round(w.value(), s.decimals)
        if s.kind == "bool":
            return bool(w.isChecked())
        return w.currentData()

    def set_value(self, v) -> None:
        s = self.setting
        for w in self.parts:
            w.blockSignals(True)
        try:
            if s.kind == "betas":
                for p, x in zip(self.parts, v):
                    p.setValue(float(x))
            elif s.kind == "float" and v is None:
                self.parts[0].setValue(self.parts[0].minimum())
            elif s.kind in ("int", "float"):
                self.parts[0].setValue(v)
            elif s.kind == "bool":
                self.parts[0].setChecked(bool(v))
            else:
                self.parts[0].setCurrentIndex(max(0, self.parts[0].findData(canonical(self.name, v))))
        finally:
            for w in self.parts:
                w.blockSignals(False)

    def _changed(self, *_):
        self.edited.emit(self.value())
