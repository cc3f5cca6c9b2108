"""Widgets for the settings table's settings (:mod:`gan_studio.core.settings`): a spin box's range, a picker's
choices and labels, and tooltips come from the table, so the studio's limits are the core's."""
from __future__ import annotations

from PySide6 import QtWidgets

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
