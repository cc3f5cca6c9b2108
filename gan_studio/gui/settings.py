"""Settings a user changed, kept across restarts (an INI file in the user's config folder)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from PySide6 import QtCore

from ..core.schema import loads


def config_dir() -> Path:
    env = os.environ.get("GAN_STUDIO_CONFIG_DIR")
    if env:
        return Path(env)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "gan-studio"


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else config_dir() / "studio.ini"
        self._qs = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)

    def get(self, key: str, default=None):
        v = self._qs.value(key)
        if v is None:
            return default
        if isinstance(default, (dict, list)):
            try:
                out = loads(v, f"{self.path.name}: {key}")  # refuses NaN/Infinity and deep nesting too
                return out if isinstance(out, type(default)) else default
            except (TypeError, ValueError):  # FileFormatError is a ValueError
                return default
        if isinstance(default, bool):
            return str(v).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            try:
                return int(str(v))
            except (TypeError, ValueError):
                return default
        if isinstance(default, str) and not isinstance(v, str):  # "a, b" in the file reads as a list
            return default
        if isinstance(default, float):
            try:
                f = float(v)
            except (TypeError, ValueError):
                return default
            return f if math.isfinite(f) else default  # "nan" or "inf" in a hand-edited file
        return v

    def set(self, key: str, value) -> None:
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        self._qs.setValue(key, value)

    def bytes(self, key: str) -> QtCore.QByteArray | None:
        v = self._qs.value(key)
        return v if isinstance(v, QtCore.QByteArray) else None

    def sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # an unwritable config folder must not stop the app
        self._qs.sync()
