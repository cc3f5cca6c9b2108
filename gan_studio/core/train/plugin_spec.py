"""The plug-in contract, torch-free: what a plug-in returns (:class:`Plugin`), how a plug-in is named
(``PATH.py[:FUNCTION]``, ``package.module[:FUNCTION]`` or an entry-point name of the group
``gan_studio.plugins``), the record a run keeps of it, and the consent rule.

**Consent.** A configuration (from a checkpoint, a recipe, a run folder) may *name* a plug-in; naming is
never enough to run it. Only the user's own ``--plugin`` (or the studio's dialog) adds a plug-in to this
process's allowed set (:func:`allow`); building a plug-in that is not in it raises
:class:`PluginConsentError` with the exact flag to add. Loading and running the code is
:mod:`~gan_studio.core.train.plugins`.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: The ``dataset`` and ``model`` a plug-in run's configuration names (its ``plugin`` field says which).
from ..settings import NO_REMEDIES, PLUGIN  # noqa: E402,F401 (the names live in the settings table)
#: The entry-point group an installed package registers plug-ins in (``name = "package.module:function"``).
ENTRY_POINT_GROUP = "gan_studio.plugins"
#: The exit status of ``gan-studio train`` when the plug-in's own code raised during training (beside 0 done,
#: 2 bad input, 3 diverged).
EXIT_PLUGIN_ERROR = 4
#: Why packing and the minibatch-std feature are refused for a plug-in (the command line, live changes, the studio).
#: Seconds a plug-in's module and function may take to return (``GAN_STUDIO_PLUGIN_TIMEOUT`` overrides).
DEFAULT_TIMEOUT_S = 120.0


class PluginError(ConfigError):
    """A plug-in cannot be loaded or used: the message names its file (and line, for exceptions)."""


class PluginConsentError(PluginError):
    """A file names a plug-in the user did not name: its code is not run."""


@dataclass
class Plugin:
    """What a plug-in's function returns (a dict with the same fields works too).

    ``generator``: an ``nn.Module`` mapping noise (N, z_dim) to a batch shaped like ``data``;
    ``discriminator``: an ``nn.Module`` mapping a data batch to raw scores (logits), shape (N,) or (N, 1);
    ``z_dim``: the noise's dimension; ``data``: the real examples — an N×d float tensor or array (points),
    N×C×H×W images (C = 1 or 3) in [0, 1] (or [−1, 1] with ``image_range=(-1, 1)``), or a torch
    ``Dataset`` yielding such tensors (or ``(x, label)`` pairs).
    Optional: ``name``; ``noise`` ("gaussian" or "uniform"); ``modes`` (M×d known mode centres: the mode
    metrics and the collapse alarm); ``settings`` (defaults for the live settings: loss, k, g_steps,
    batch_size, optimizer, lr_d, lr_g, unroll, ... and steps).
    """

    generator: Any
    discriminator: Any
    z_dim: int
    data: Any
    name: str | None = None
    noise: str = "gaussian"
    modes: Any = None
    settings: dict = field(default_factory=dict)
    image_range: tuple = (0, 1)


PLUGIN_FIELDS = tuple(f.name for f in fields(Plugin))
REQUIRED_FIELDS = ("generator", "discriminator", "z_dim", "data")


@dataclass(frozen=True)
class PluginRef:
    """A plug-in as the user named it, resolved: ``kind`` "file" (``source`` an absolute path) or "module"
    (``source`` a dotted module name), and the function to call."""

    kind: str
    source: str
    function: str = "build"

    @property
    def flag(self) -> str:
        """The ``--plugin`` value that names this plug-in."""
        return f"{self.source}:{self.function}" if self.function != "build" else self.source


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_ref(text: str) -> PluginRef:
    """``PATH.py[:FUNCTION]``, ``package.module[:FUNCTION]`` or an entry-point name, resolved (a path made
    absolute; an entry-point name looked up in :data:`ENTRY_POINT_GROUP`). Nothing is imported."""
    if not isinstance(text, str) or not text.strip():
        raise PluginError("--plugin needs PATH.py[:FUNCTION] or package.module:FUNCTION")
    text = text.strip()
    head, sep, tail = text.rpartition(":")
    if sep and _IDENT.match(tail) and head and not head.endswith(("/", "\\")) and not re.match(r"^[A-Za-z]$", head):
        where, function = head, tail
    else:
        where, function = text, "build"
    if where.endswith(".py") or "/" in where or os.sep in where:
        return PluginRef("file", str(Path(where).expanduser().absolute()), function)
    if not _MODULE.match(where):
        raise PluginError(f"--plugin {text!r}: expected PATH.py[:FUNCTION] or package.module:FUNCTION")
    if "." not in where and not sep:
        found = entry_points().get(where)
        if found is not None:
            return parse_ref(found)
    return PluginRef("module", where, function)


def entry_points() -> dict[str, str]:
    """Installed plug-ins by name: ``{name: "package.module:function"}`` from :data:`ENTRY_POINT_GROUP`
    (read from the packages' metadata; nothing is imported)."""
    from importlib.metadata import entry_points as _eps

    try:
        eps = _eps(group=ENTRY_POINT_GROUP)
    except Exception:  # noqa: BLE001 - broken metadata of some other package: no plug-ins from there
        return {}
    return {ep.name: ep.value for ep in eps}


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------------ the run's record
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_args(args: Any, where: str = "plug-in arguments") -> dict:
    """``--plugin-arg`` values: names that are Python identifiers, values numbers, booleans or text."""
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise PluginError(f"{where} must be a mapping of names to values")
    out = {}
    for k, v in args.items():
        if not isinstance(k, str) or not _ARG_NAME.match(k):
            raise PluginError(f"{where}: {k!r} is not a valid argument name")
        if isinstance(v, float) and v != v or isinstance(v, float) and v in (float("inf"), float("-inf")):
            raise PluginError(f"{where}: {k} must be finite")
        if not (v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 4096)):
            raise PluginError(f"{where}: {k} must be a number, a boolean or text, got {type(v).__name__}")
        out[k] = v
    return out


def check_record(rec: Any, where: str = "plugin") -> dict:
    """A configuration's ``plugin`` record, checked (no file is read, nothing imported): ``kind``
    ("file"/"module"), ``source``, ``function``, ``args``, ``sha256`` and ``name``."""
    if not isinstance(rec, dict):
        raise ConfigError(f"{where} must be a mapping (kind, source, function, args, sha256), got {type(rec).__name__}")
    unknown = sorted(str(k) for k in rec if k not in ("kind", "source", "function", "args", "sha256", "name"))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)[:200]}")
    kind, source, function = rec.get("kind"), rec.get("source"), rec.get("function", "build")
    if kind not in ("file", "module"):
        raise ConfigError(f"{where}: kind must be 'file' or 'module', got {str(kind)[:40]!r}")
    if not isinstance(source, str) or not source or len(source) > 4096 or "\x00" in source:
        raise ConfigError(f"{where}: source must be a path or a module name")
    if kind == "module" and not _MODULE.match(source):
        raise ConfigError(f"{where}: {source[:80]!r} is not a module name")
    if not isinstance(function, str) or not _IDENT.match(function):
        raise ConfigError(f"{where}: function must be a Python name, got {str(function)[:40]!r}")
    sha = rec.get("sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise ConfigError(f"{where}: sha256 must be 64 hexadecimal digits")
    name = rec.get("name")
    if name is not None and not (isinstance(name, str) and len(name) <= 200):
        raise ConfigError(f"{where}: name must be text")
    try:
        args = check_args(rec.get("args") or {}, f"{where}: args")
    except PluginError as exc:
        raise ConfigError(str(exc)) from None
    return {"kind": kind, "source": source, "function": function, "args": args, "sha256": sha, "name": name}


def ref_of(rec: dict) -> PluginRef:
    return PluginRef(rec["kind"], rec["source"], rec.get("function") or "build")


# ------------------------------------------------------------------------------------ consent
_ALLOWED: dict[tuple[str, str], PluginRef] = {}


def allow(ref: PluginRef) -> None:
    """The user named this plug-in (``--plugin``, or yes in the studio's dialog): its code may run here."""
    _ALLOWED[(ref.kind, ref.source)] = ref


def forget_all() -> None:
    """Withdraw every consent given in this process (tests, a new session)."""
    _ALLOWED.clear()


def is_allowed(rec: dict) -> bool:
    return (rec["kind"], rec["source"]) in _ALLOWED


def require_consent(rec: dict, what: str = "this run") -> None:
    """Raise :class:`PluginConsentError` (one line: the plug-in's path and the exact flag to add) unless the
    user named the plug-in ``rec`` describes."""
    if is_allowed(rec):
        return
    ref = ref_of(rec)
    raise PluginConsentError(
        f"{what} uses the plug-in {ref.source} (function {ref.function}); a file never runs a plug-in's code by "
        f"itself: to run it, add --plugin {ref.flag}")


def probe(ref: PluginRef, args: dict, seed: int = 0) -> dict:
    """What the plug-in gives (its record with the file's SHA-256, ``z_dim``, ``noise``, ``settings``, ``name``,
    ``kind``, ``shape``), learned by running it in a separate process (:mod:`.plugin_probe`): for the studio's
    window, which never runs a plug-in's code. Raises :class:`PluginError` with the plug-in's own message."""
    import json

    rec = {"kind": ref.kind, "source": ref.source, "function": ref.function, "args": check_args(args)}
    limit = float(os.environ.get("GAN_STUDIO_PLUGIN_TIMEOUT", DEFAULT_TIMEOUT_S) or DEFAULT_TIMEOUT_S) + 120
    out = _in_a_process([json.dumps(rec), str(seed)], limit, f"{ref.source}: the plug-in")
    if "error" in out:
        raise PluginError(out["error"])
    return out


def checkpoint_plugin(path: str | os.PathLike) -> dict | None:
    """The plug-in record a checkpoint names (None when it names none, or cannot be read: the training process
    then says why), read in a separate process: the studio's window never loads a checkpoint (nor torch).
    A checkpoint whose pickle does not even hold the record's ``sha256`` key costs no process."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            pkl = next((m for m in z.infolist() if m.filename.endswith("/data.pkl")), None)
            if pkl is None or pkl.file_size > 64 << 20 or b"sha256" not in z.read(pkl):
                return None
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return None
    out = _in_a_process(["--names", str(path)], 300.0, f"{path}: reading the checkpoint")
    return out.get("plugin")


def _in_a_process(argv: list[str], limit: float, what: str) -> dict:
    """``python -m gan_studio.core.train.plugin_probe ARGV``'s one JSON line."""
    import json
    import subprocess
    import sys

    try:
        p = subprocess.run([sys.executable, "-m", "gan_studio.core.train.plugin_probe", *argv],
                           capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise PluginError(f"{what} did not finish within {limit:g} s") from None
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = " ".join(p.stderr.split())[-300:]
        raise PluginError(f"{what}: its process ended without a result ({tail or p.returncode})") from None


def plugin_settings(info: dict) -> dict:
    """A new run's settings from what :func:`probe` learned: the plug-in's defaults, its networks and data."""
    over = dict(info["settings"])
    over.update(dataset=PLUGIN, model=PLUGIN, dataset_args={}, model_args={}, z_dim=info["z_dim"],
                noise=info["noise"], plugin=info["record"])
    return over
