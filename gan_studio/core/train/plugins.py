"""Plug-ins: the user's own generator, discriminator and data, run through the normal trainer.

:func:`load` imports the plug-in (a file or a module) and calls its function with a time limit;
:func:`check_plugin` turns what it returned into checked parts (networks whose shapes fit the data, the
data as a points or images dataset); :func:`plugin_parts` is what the :class:`~.trainer.Trainer` calls for
a configuration whose ``plugin`` field is set — only after the user's consent
(:func:`~.plugin_spec.require_consent`). Every failure is a :class:`~.plugin_spec.PluginError`: one line
naming the plug-in's file, and its line for exceptions.
"""
from __future__ import annotations

import faulthandler
import importlib
import importlib.util
import linecache
import math
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import LIVE_KEYS, ConfigError, validate_values
from .plugin_spec import (DEFAULT_TIMEOUT_S, NO_REMEDIES, PLUGIN, PLUGIN_FIELDS, REQUIRED_FIELDS, Plugin, PluginError,
                          PluginRef, check_args, check_record, file_sha256, ref_of, require_consent)

#: Settings a plug-in may give defaults for (``Plugin.settings``).
SETTING_KEYS = LIVE_KEYS + ("steps", "update", "seed")
#: At most this many examples are read from a plug-in's ``Dataset``.
MAX_EXAMPLES = 1_000_000


def _timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("GAN_STUDIO_PLUGIN_TIMEOUT", DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def _first_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------------------------ whose code is it
_PKG_DIR = str(Path(__file__).resolve().parents[2])  # gan_studio/


def user_dirs(rec: dict) -> list[str]:
    """The folders whose files count as the plug-in's own code: the plug-in file's folder (or the module's)."""
    src = rec.get("file") or (rec["source"] if rec["kind"] == "file" else None)
    if src is None:  # a module: imported by now (its code raised), so its file is known
        src = getattr(sys.modules.get(rec["source"]), "__file__", None)
    return [str(Path(src).resolve().parent)] if src else []


def is_user_frame(filename: str, dirs: list[str]) -> bool:
    try:
        f = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    if f.startswith(_PKG_DIR + os.sep):
        return False
    for d in dirs:  # a library installed inside the plug-in's folder (a venv) is not the plug-in's code
        if f.startswith(d + os.sep) and not any(sp in f[len(d):] for sp in ("site-packages", "dist-packages")):
            return True
    return False


def user_frames(exc: BaseException, dirs: list[str]) -> list[traceback.FrameSummary]:
    return [fs for fs in traceback.extract_tb(exc.__traceback__) if is_user_frame(fs.filename, dirs)]


def _where(path: str, exc: BaseException, dirs: list[str] | None = None) -> str:
    """``PATH:LINE`` of the deepest frame of the plug-in's own code in ``exc``'s traceback (``PATH`` if none)."""
    frames = user_frames(exc, dirs if dirs is not None else [str(Path(path).resolve().parent)])
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else path


# ------------------------------------------------------------------------------------ loading
@dataclass
class Loaded:
    """A plug-in's module, imported once per process (per file content)."""

    ref: PluginRef
    module: Any
    file: str | None  # the file the code came from
    sha256: str | None


_MODULES: dict[tuple, Loaded] = {}


def _call_with_limit(fn, what: str, where: str):
    """``fn()`` in a helper thread, waited for at most the time limit (a plug-in that hangs is refused; its
    thread is left to the process's end, which comes next on the command line)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            box["error"] = exc

    t = threading.Thread(target=target, name="gan-studio-plugin", daemon=True)
    limit = _timeout()
    backstop = _arm_backstop(limit + BACKSTOP_S)
    try:
        t.start()
        t.join(limit)
    finally:
        if backstop:
            faulthandler.cancel_dump_traceback_later()
    if t.is_alive():  # the thread is a daemon: it ends with the process, which ends next on the command line
        raise PluginError(f"{where}: {what} did not return within {limit:g} s (GAN_STUDIO_PLUGIN_TIMEOUT sets "
                          f"the limit, in seconds)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


#: Seconds past the time limit after which a plug-in that never lets Python run again (C code holding the
#: interpreter lock, e.g. ``sum(itertools.count())``: the waiting thread cannot even wake up) ends the process:
#: exit status 1, with where each thread was (faulthandler's watchdog needs no interpreter lock).
BACKSTOP_S = 5.0


def _arm_backstop(seconds: float) -> bool:
    err = sys.__stderr__
    try:
        faulthandler.dump_traceback_later(seconds, exit=True, file=err)
        return True
    except (AttributeError, ValueError, OSError, RuntimeError):  # no real stderr (an embedding host)
        return False


def load_module(ref: PluginRef) -> Loaded:
    """Import the plug-in's module (cached while its file is unchanged)."""
    if ref.kind == "file":
        path = Path(ref.source)
        if not path.is_file():
            raise PluginError(f"plug-in file {ref.source} not found")
        try:
            sha = file_sha256(path)
        except OSError as exc:
            raise PluginError(f"plug-in file {ref.source}: cannot read it ({exc.strerror or exc})") from None
        key = (ref.kind, ref.source, sha)
        if key in _MODULES:
            return _MODULES[key]
        name = f"gan_studio_plugin_{sha[:16]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PluginError(f"plug-in file {ref.source}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look their module up
        linecache.checkcache(str(path))
        try:
            _call_with_limit(lambda: spec.loader.exec_module(module), "importing it", ref.source)
        except PluginError:
            sys.modules.pop(name, None)
            raise
        except SyntaxError as exc:
            sys.modules.pop(name, None)
            raise PluginError(f"{exc.filename or ref.source}:{exc.lineno}: syntax error: {exc.msg}") from None
        except ImportError as exc:
            sys.modules.pop(name, None)
            what = f"the module {exc.name!r}, which is not installed" if isinstance(exc, ModuleNotFoundError) \
                else f"something it cannot import ({_first_line(exc)})"
            raise PluginError(f"{_where(ref.source, exc)}: the plug-in imports {what}") from None
        except Exception as exc:  # noqa: BLE001 - the plug-in's own error, reported as one line
            sys.modules.pop(name, None)
            raise PluginError(f"{_where(ref.source, exc)}: importing the plug-in raised {_first_line(exc)}") from None
        loaded = _MODULES[key] = Loaded(ref, module, str(path), sha)
        return loaded
    try:
        module = _call_with_limit(lambda: importlib.import_module(ref.source), "importing it", ref.source)
    except PluginError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and ref.source.startswith(exc.name):
            raise PluginError(f"plug-in module {ref.source!r} not found (is its package installed?)") from None
        raise PluginError(f"plug-in module {ref.source}: it imports the module {exc.name!r}, which is not "
                          f"installed") from None
    except SyntaxError as exc:
        raise PluginError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:  # noqa: BLE001
        raise PluginError(f"plug-in module {ref.source}: importing it raised {_first_line(exc)}") from None
    file = getattr(module, "__file__", None)
    sha = file_sha256(file) if file and os.path.isfile(file) else None
    return Loaded(ref, module, file, sha)


def call_build(loaded: Loaded, args: dict, function: str | None = None) -> Any:
    """The plug-in's function (``function``, else the one it was loaded for) called with ``args``, within the
    time limit (a module is loaded once per file content, whichever function is then called)."""
    ref = PluginRef(loaded.ref.kind, loaded.ref.source, function or loaded.ref.function)
    where = loaded.file or ref.source
    fn = getattr(loaded.module, ref.function, None)
    if not callable(fn):
        defined = sorted(n for n, v in vars(loaded.module).items()
                         if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == loaded.module.__name__)
        listed = f" (it defines: {', '.join(defined[:8])})" if defined else ""
        raise PluginError(f"{where}: has no function {ref.function!r}{listed}")
    dirs = [str(Path(loaded.file).resolve().parent)] if loaded.file else []
    try:
        return _call_with_limit(lambda: fn(**args), f"{ref.function}()", where)
    except PluginError:
        raise
    except Exception as exc:  # noqa: BLE001 - the plug-in's own error
        raise PluginError(f"{_where(where, exc, dirs)}: {ref.function}() raised {_first_line(exc)}") from None


# ------------------------------------------------------------------------------------ checking what it gave
class PluginGenerator(nn.Module):
    """The user's generator as the trainer sees it: ``G(z, y)`` (labels ignored), data-shaped output."""

    n_classes = None

    def __init__(self, net: nn.Module, z_dim: int, out_shape: tuple, out_range: str) -> None:
        super().__init__()
        self.net = net
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        self.out_range = out_range

    def forward(self, z, y=None):
        return self.net(z)


class PluginDiscriminator(nn.Module):
    """The user's discriminator as the trainer sees it: one raw score per example, shape (N,)."""

    n_classes = None

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x, y=None):
        return self.net(x).reshape(-1)


@dataclass
class Parts:
    """A plug-in's checked parts."""

    G: PluginGenerator
    D: PluginDiscriminator
    dataset: Any
    z_dim: int
    noise: str  # "normal" | "uniform" (TrainConfig's names)
    settings: dict
    name: str


def _fields(value: Any, where: str) -> dict:
    if isinstance(value, Plugin):
        return {f: getattr(value, f) for f in PLUGIN_FIELDS}
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in PLUGIN_FIELDS)
        if unknown:
            raise PluginError(f"{where}: unknown field(s) {', '.join(unknown)[:200]} (a plug-in gives "
                              f"{', '.join(PLUGIN_FIELDS)})")
        missing = [f for f in REQUIRED_FIELDS if value.get(f) is None]
        if missing:
            raise PluginError(f"{where}: the returned dict is missing {', '.join(missing)}")
        d = {f: getattr(Plugin, f, None) for f in PLUGIN_FIELDS}
        d["settings"] = {}
        d.update(value)
        return d
    raise PluginError(f"{where}: the function must return a gan_studio.Plugin or a dict with its fields, "
                      f"got {type(value).__name__}")


def _as_tensor(data: Any, where: str) -> torch.Tensor:
    """The plug-in's data as one float32 tensor on the CPU."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "biuf":
            raise PluginError(f"{where}: data must hold real numbers, got an array of {data.dtype}")
        with np.errstate(over="ignore", invalid="ignore"):
            return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    if torch.is_tensor(data):
        if data.is_complex() or not (data.is_floating_point() or data.dtype in (torch.uint8, torch.int8, torch.int16,
                                                                                 torch.int32, torch.int64, torch.bool)):
            raise PluginError(f"{where}: data must hold real numbers, got a tensor of {data.dtype}")
        return data.detach().to("cpu", torch.float32).contiguous()
    if isinstance(data, torch.utils.data.Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        try:
            n = len(data)
        except TypeError:
            raise PluginError(f"{where}: data is a Dataset without a length") from None
        if n > MAX_EXAMPLES:
            raise PluginError(f"{where}: data has {n:,} examples; at most {MAX_EXAMPLES:,} are read")
        items = []
        for i in range(n):
            item = data[i]
            if isinstance(item, (tuple, list)) and item:
                item = item[0]
            if not (torch.is_tensor(item) or isinstance(item, np.ndarray)):
                raise PluginError(f"{where}: data[{i}] is {type(item).__name__}, not a tensor or an array")
            items.append(torch.as_tensor(np.asarray(item, dtype=np.float32)) if isinstance(item, np.ndarray)
                         else item.detach().to("cpu", torch.float32))
        if not items:
            raise PluginError(f"{where}: data is empty")
        if len({tuple(t.shape) for t in items}) != 1:
            raise PluginError(f"{where}: the Dataset's examples do not all have the same shape")
        return torch.stack(items)
    raise PluginError(f"{where}: data must be a tensor, a numpy array or a torch Dataset, got {type(data).__name__}")


def _dataset(x: torch.Tensor, modes, image_range, name: str, where: str):
    from .data.images import ImageDataset
    from .data.points import ArrayPoints

    if x.ndim == 0 or x.shape[0] == 0 or x.numel() == 0:
        raise PluginError(f"{where}: data is empty")
    if not bool(torch.isfinite(x).all()):
        raise PluginError(f"{where}: data holds NaN or infinite values")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim == 2:
        if x.shape[0] < 2:
            raise PluginError(f"{where}: data needs at least 2 examples, got {x.shape[0]}")
        ds = ArrayPoints(x.numpy(), name=name)
        ds.description = f"{x.shape[0]:,} points in {x.shape[1]}-D from the plug-in {name}"
        if modes is not None:
            m = np.asarray(modes.detach().cpu() if torch.is_tensor(modes) else modes, dtype=np.float64)
            if m.ndim == 1 and x.shape[1] == 1:
                m = m[:, None]
            if m.ndim != 2 or m.shape[1] != x.shape[1] or len(m) < 1 or not np.isfinite(m).all():
                raise PluginError(f"{where}: modes must be an M×{x.shape[1]} array of finite mode centres, got shape "
                                  f"{tuple(m.shape)}")
            pts = x.numpy().astype(np.float64)
            nearest = ((pts[:, None, :] - m[None]) ** 2).sum(-1).argmin(1) if len(pts) * len(m) <= 5e7 else None
            spread = pts - m[nearest] if nearest is not None else pts - pts.mean(0)
            ds.centers, ds.sigma = m, float(max(np.sqrt((spread ** 2).mean()), 1e-6))
        return ds, "data"
    if x.ndim == 4 and x.shape[1] in (1, 3):
        if x.shape[0] < 2:
            raise PluginError(f"{where}: data needs at least 2 images, got {x.shape[0]}")
        lo, hi = (float(v) for v in image_range)
        tol = 1e-3 * (hi - lo)
        if float(x.min()) < lo - tol or float(x.max()) > hi + tol:
            raise PluginError(f"{where}: images must be in [{lo:g}, {hi:g}] (image_range), found values from "
                              f"{float(x.min()):.4g} to {float(x.max()):.4g}")
        u8 = ((x - lo) / (hi - lo)).clamp_(0, 1).mul_(255).round_().to(torch.uint8)
        ds = ImageDataset(name, u8, None, f"{x.shape[0]:,} images {x.shape[2]}×{x.shape[3]}×{x.shape[1]} from the "
                                          f"plug-in {name}")
        return ds, ("tanh" if (lo, hi) == (-1.0, 1.0) else "data")
    raise PluginError(f"{where}: data of shape {tuple(x.shape)} is not supported: give N×d points or N×C×H×W "
                      f"images with C = 1 or 3")


def check_plugin(value: Any, where: str, default_name: str, dirs: list[str] | None = None) -> Parts:
    """What a plug-in returned, checked and wrapped; ``where`` names its file in every message."""
    f = _fields(value, where)
    G, D = f["generator"], f["discriminator"]
    for label, net in (("generator", G), ("discriminator", D)):
        if not isinstance(net, nn.Module):
            raise PluginError(f"{where}: {label} must be a torch nn.Module, got {type(net).__name__}")
    z_dim = f["z_dim"]
    if not isinstance(z_dim, int) or isinstance(z_dim, bool) or not 1 <= z_dim <= 4096:
        raise PluginError(f"{where}: z_dim must be a whole number from 1 to 4096, got {z_dim!r}")
    noise = {"gaussian": "normal", "normal": "normal", "uniform": "uniform"}.get(f["noise"] or "gaussian")
    if noise is None:
        raise PluginError(f"{where}: noise must be 'gaussian' or 'uniform', got {f['noise']!r}")
    name = f["name"] or default_name
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise PluginError(f"{where}: name must be a short text")
    image_range = f["image_range"] if f["image_range"] is not None else (0, 1)
    if tuple(image_range) not in ((0, 1), (-1, 1)):
        raise PluginError(f"{where}: image_range must be (0, 1) or (-1, 1), got {image_range!r}")
    settings = f["settings"] or {}
    if not isinstance(settings, dict):
        raise PluginError(f"{where}: settings must be a dict of setting names to values")
    bad = [str(k) for k in settings if k not in SETTING_KEYS]
    if bad:
        raise PluginError(f"{where}: settings: {', '.join(bad)[:120]} cannot be set by a plug-in (it may set "
                          f"{', '.join(SETTING_KEYS)})")
    try:
        validate_values(dict(settings))
    except ConfigError as exc:
        raise PluginError(f"{where}: settings: {exc}") from None
    if settings.get("pack", 1) != 1 or settings.get("mbstd"):
        raise PluginError(f"{where}: settings: {NO_REMEDIES}")
    x = _as_tensor(f["data"], where)
    dataset, out_range = _dataset(x, f["modes"], tuple(float(v) for v in image_range), name, where)
    Gw = PluginGenerator(G, z_dim, dataset.shape, out_range)
    Dw = PluginDiscriminator(D)
    _check_shapes(Gw, Dw, dataset, z_dim, where, dirs or [])
    return Parts(Gw, Dw, dataset, z_dim, noise, dict(settings), name)


def _check_shapes(G, D, dataset, z_dim: int, where: str, dirs: list[str]) -> None:
    """G's output must be shaped like the data; D's output one score per example."""
    n = 4
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(n, z_dim, generator=gen)
    real, _ = dataset.sample(n, gen)
    real = real * 2 - 1 if G.out_range == "tanh" else real
    modes = (G.training, D.training)
    G.eval()
    D.eval()
    try:
        with torch.no_grad():
            try:
                fake = G.net(z)
            except Exception as exc:  # noqa: BLE001 - the user's network failed on the noise
                raise PluginError(f"{_where(where, exc, dirs)}: the generator failed on noise of shape {list(z.shape)} "
                                  f"({_first_line(exc, 160)}); does z_dim = {z_dim} match its input?") from None
            if not torch.is_tensor(fake):
                raise PluginError(f"{where}: the generator returned {type(fake).__name__}, not a tensor")
            if tuple(fake.shape) != (n, *dataset.shape):
                raise PluginError(f"{where}: the generator's output has shape {list(fake.shape)} for {n} noise vectors, "
                                  f"but the data's examples have shape {list(dataset.shape)} (expected "
                                  f"{[n, *dataset.shape]})")
            for label, batch in (("real data", real), ("the generator's output", fake)):
                try:
                    s = D.net(batch.to(fake.dtype))
                except Exception as exc:  # noqa: BLE001
                    raise PluginError(f"{_where(where, exc, dirs)}: the discriminator failed on {label} of shape "
                                      f"{list(batch.shape)} ({_first_line(exc, 160)})") from None
                if not torch.is_tensor(s) or tuple(s.shape) not in ((n,), (n, 1)):
                    got = list(s.shape) if torch.is_tensor(s) else type(s).__name__
                    raise PluginError(f"{where}: the discriminator must give one score per example, shape ({n},) or "
                                      f"({n}, 1) for {n} examples; it gave {got}")
    finally:
        G.train(modes[0])
        D.train(modes[1])


# ------------------------------------------------------------------------------------ for the trainer
def build_parts(rec: dict, seed: int | None = None) -> Parts:
    """Load and call the plug-in ``rec`` describes (no consent check: callers check first)."""
    ref = ref_of(rec)
    loaded = load_module(ref)
    if seed is not None:
        torch.manual_seed(seed)
    value = call_build(loaded, check_args(rec.get("args") or {}), ref.function)
    dirs = [str(Path(loaded.file).resolve().parent)] if loaded.file else []
    default = Path(ref.source).stem if ref.kind == "file" else ref.source.rsplit(".", 1)[-1]
    return check_plugin(value, loaded.file or ref.source, default, dirs)


def record(ref: PluginRef, args: dict, parts_name: str | None = None) -> dict:
    """What a run keeps of its plug-in: where it is, the function, the arguments, its file's SHA-256."""
    loaded = load_module(ref)
    return check_record({"kind": ref.kind, "source": ref.source, "function": ref.function,
                         "args": check_args(args), "sha256": loaded.sha256, "name": parts_name})


_WARNED: set = set()
#: Where a changed plug-in's warning goes (one line); the command line prints it on stderr.
warn = lambda text: print(f"gan-studio: warning: {text}", file=sys.stderr)  # noqa: E731


def plugin_parts(config, what: str = "this run") -> Parts:
    """The networks and data of ``config``'s plug-in, for a trainer: refused unless the user named the
    plug-in (:func:`~.plugin_spec.require_consent`); a file whose SHA-256 differs from the one recorded is
    said in one warning line, and the record then holds the new hash."""
    rec = config.plugin
    require_consent(rec, what)
    ref = ref_of(rec)
    loaded = load_module(ref)
    if rec.get("sha256") and loaded.sha256 and loaded.sha256 != rec["sha256"]:
        key = (ref.source, rec["sha256"], loaded.sha256)
        if key not in _WARNED:
            _WARNED.add(key)
            warn(f"the plug-in {ref.source} has changed since the run was recorded (SHA-256 {loaded.sha256[:12]}… "
                 f"now, {rec['sha256'][:12]}… then)")
        rec["sha256"] = loaded.sha256
    return build_parts(rec)


def is_plugin_config(config) -> bool:
    return getattr(config, "plugin", None) is not None or getattr(config, "dataset", None) == PLUGIN


def plugin_networks(config, path) -> tuple:
    """A checkpoint's plug-in networks (to check its weights against): refused without consent."""
    parts = plugin_parts(config, str(path))
    return parts.G, parts.D


def describe_failure(exc: BaseException, rec: dict) -> tuple[str, str] | None:
    """An exception raised in the plug-in's own code during training, as (one line naming the plug-in's file
    and line, the traceback of its own frames only); None when no frame is the plug-in's."""
    frames = user_frames(exc, user_dirs(rec))
    if not frames:
        return None
    last = frames[-1]
    line = f"the plug-in's code raised at {last.filename}:{last.lineno} (in {last.name}): {_first_line(exc)}"
    return line, "Traceback (the plug-in's own frames):\n" + "".join(traceback.format_list(frames))
