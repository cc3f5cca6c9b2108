"""The validation layer for everything read from disk: small typed schemas, checked once where a file is
read, so the panels and commands only ever see valid data.

Why not pydantic: the files are a handful of flat records (JSON lines, dicts of tensors, arrays), the
checks that matter are numeric (finite, in range, shape) and the window process must start fast and
stay torch-free; a 150-line module of plain functions does that with no new dependency.

Use::

    RECORD = {"iteration": Int(min=0), "d_loss": Num(finite=False), "file": Str(optional=True)}
    rec = check(raw, RECORD, where="metrics.jsonl line 12")   # -> dict, or raises FileFormatError

Every error is a :class:`FileFormatError` (a :class:`~gan_studio.core.errors.ConfigError`) whose message
names the file, the key and what is wrong — one line, ready for the user.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from .errors import ConfigError

MAX_DEPTH = 32  # JSON nested deeper than this is refused (a RecursionError otherwise)
MAX_INT = 2**53  # iterations and counts beyond this are not from a real run


class FileFormatError(ConfigError):
    """A file's content is not what it should be; the message says which file, which key and why."""


@dataclass(frozen=True, kw_only=True)
class Spec:
    optional: bool = False  # keyword-only: List(Int()) means a list of whole numbers, never "optional"

    def check(self, v: Any, where: str) -> Any:  # pragma: no cover - every spec overrides it
        raise NotImplementedError

    def plain(self, v: Any) -> bool:
        """Whether ``v`` passes :meth:`check` unchanged, told without building its message: the fast path
        for the plain JSON numbers of a long file (a million metrics lines). False: ask :meth:`check`."""
        return False


def _fail(where: str, msg: str) -> None:
    raise FileFormatError(f"{where}: {msg}")


def _short(v: Any) -> str:
    shape = getattr(v, "shape", None)
    if shape is not None and hasattr(v, "dtype"):  # an array or a tensor: its kind, never its values
        return f"{type(v).__name__} of {v.dtype} with shape {tuple(shape)}"
    text = " ".join(repr(v).split())  # one line
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Int(Spec):
    min: int | None = None
    max: int | None = MAX_INT

    def check(self, v, where):
        if type(v) is not int:  # (a plain int, what JSON gives, needs no more: a long file has millions)
            import numpy as np  # lazily: `gan-studio --help` must not load numpy
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                if isinstance(v, float) and v.is_integer() and abs(v) <= MAX_INT:
                    v = int(v)
                else:
                    _fail(where, f"expected a whole number, got {_short(v)}")
            v = int(v)
        if self.min is not None and v < self.min:
            _fail(where, f"must be at least {self.min}, got {v}")
        if self.max is not None and v > self.max:
            _fail(where, f"must be at most {self.max}, got {v}")
        return v

    def plain(self, v):
        return type(v) is int and (self.min is None or v >= self.min) and (self.max is None or v <= self.max)


@dataclass(frozen=True)
class Num(Spec):
    finite: bool = True  # NaN/Inf allowed when False (a diverged loss is a fact worth keeping)
    min: float | None = None
    max: float | None = None

    def check(self, v, where):
        t = type(v)
        if t is not float and t is not int:  # (plain JSON numbers need no more: a long file has millions)
            import numpy as np  # lazily: `gan-studio --help` must not load numpy
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                _fail(where, f"expected a number, got {_short(v)}")
        v = float(v)
        if self.finite and not math.isfinite(v):
            _fail(where, f"must be a finite number, got {v}")
        if self.min is not None and not (v >= self.min):
            _fail(where, f"must be at least {self.min}, got {v}")
        if self.max is not None and not (v <= self.max):
            _fail(where, f"must be at most {self.max}, got {v}")
        return v

    def plain(self, v):  # (v - v is 0.0 for a finite float, NaN for NaN and ±Inf)
        return (type(v) is float and (not self.finite or v - v == 0.0)
                and (self.min is None or v >= self.min) and (self.max is None or v <= self.max))


@dataclass(frozen=True)
class Str(Spec):
    choices: tuple | None = None
    max_len: int = 10_000

    def check(self, v, where):
        if not isinstance(v, str):
            _fail(where, f"expected text, got {_short(v)}")
        if len(v) > self.max_len:
            _fail(where, f"text longer than {self.max_len} characters")
        if self.choices is not None and v not in self.choices:
            _fail(where, f"must be one of {', '.join(map(str, self.choices))}, got {_short(v)}")
        return v


@dataclass(frozen=True)
class Bool(Spec):
    def check(self, v, where):
        import numpy as np  # lazily: `gan-studio --help` must not load numpy
        if not isinstance(v, (bool, np.bool_)):
            _fail(where, f"expected true or false, got {_short(v)}")
        return bool(v)


@dataclass(frozen=True)
class Map(Spec):
    """A dict; with ``fields``, those keys are checked (others kept as they are unless ``strict``)."""

    fields: dict | None = None
    strict: bool = False

    def check(self, v, where):
        if not isinstance(v, dict):
            _fail(where, f"expected a mapping, got {_short(v)}")
        return check(v, self.fields, where, strict=self.strict) if self.fields is not None else dict(v)


@dataclass(frozen=True)
class List(Spec):
    item: Spec | None = None
    min_len: int = 0
    max_len: int | None = None

    def check(self, v, where):
        if not isinstance(v, (list, tuple)):
            _fail(where, f"expected a list, got {_short(v)}")
        if len(v) < self.min_len or (self.max_len is not None and len(v) > self.max_len):
            _fail(where, f"expected {self.min_len}" + (f"–{self.max_len}" if self.max_len != self.min_len else "")
                  + f" items, got {len(v)}")
        return [self.item.check(x, f"{where}[{i}]") for i, x in enumerate(v)] if self.item else list(v)


@dataclass(frozen=True)
class Array(Spec):
    """A numpy array: numeric dtype (no complex, object, datetime), finite, a given number of dimensions and
    sizes (``shape`` entries: an int, or None for any), at most ``max_size`` elements."""

    ndim: int | None = None
    shape: tuple | None = None
    finite: bool = True
    max_size: int = 200_000_000
    dtype_kind: str = "biuf"  # bool, int, unsigned, float

    def check(self, v, where):
        import numpy as np  # lazily: `gan-studio --help` must not load numpy
        if not isinstance(v, np.ndarray):
            _fail(where, f"expected an array, got {type(v).__name__}")
        if v.dtype.kind not in self.dtype_kind:
            _fail(where, f"expected numbers, got an array of {v.dtype}")
        if self.ndim is not None and v.ndim != self.ndim:
            _fail(where, f"expected {self.ndim} dimension(s), got shape {v.shape}")
        if self.shape is not None:
            if v.ndim != len(self.shape) or any(s is not None and s != d for s, d in zip(self.shape, v.shape)):
                want = "×".join("N" if s is None else str(s) for s in self.shape)
                _fail(where, f"expected shape {want}, got {tuple(v.shape)}")
        if v.size > self.max_size:
            _fail(where, f"too large ({v.size:,} values)")
        if self.finite and v.dtype.kind == "f" and v.size and not np.isfinite(v).all():
            _fail(where, "contains NaN or infinite values")
        return v


@dataclass(frozen=True)
class Custom(Spec):
    fn: Callable[[Any, str], Any] | None = None

    def check(self, v, where):
        return self.fn(v, where)


_MISSING = object()


def check(data: Any, fields: dict[str, Spec], where: str, strict: bool = False) -> dict:
    """Check a mapping against ``fields``; returns a new dict with the checked (and normalised) values.
    Missing optional keys are left out; with ``strict``, unknown keys are an error."""
    if not isinstance(data, dict):
        _fail(where, f"expected a mapping, got {_short(data)}")
    out = dict(data)
    get = data.get
    for key, spec in fields.items():
        v = get(key, _MISSING)
        if v is _MISSING or v is None and spec.optional:
            if not spec.optional:
                _fail(where, f"missing {key!r}")
            out.pop(key, None)
        elif not spec.plain(v):  # (a plain value passes as it is: ``out`` holds it already)
            out[key] = spec.check(v, f"{where}: {key}")
    if strict:
        extra = sorted(set(map(str, data)) - set(fields))
        if extra:
            _fail(where, f"unknown key(s): {', '.join(extra[:8])}")
    return out


_NESTS = frozenset((list, tuple, dict))


def depth(v: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``v`` nests lists and dicts (stops counting past ``limit``), without recursion."""
    if type(v) is dict and _NESTS.isdisjoint(map(type, v.values())):
        return 1  # (a flat mapping, a metrics line: the common case, a million times in a long run)
    best, stack = 0, [(v, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (list, tuple, dict)):
            best = max(best, d)
            if best > limit:
                return best
            stack.extend((y, d + 1) for y in (x.values() if isinstance(x, dict) else x))
    return best


def read_text(path, limit: int, error: type[ConfigError], where: str, name: Any = None) -> str:
    """A small UTF-8 text file, read at most ``limit`` bytes deep; any problem is one ``error`` line
    (``where``: how the file is named in the size and encoding messages; ``name``: in the read error)."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {name if name is not None else path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(f"{where}: larger than {limit // 2**20} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{where}: not UTF-8 text") from None


def inside_folder(raw: str, folder: str | os.PathLike, where: str, error: type[ConfigError] = ConfigError,
                  what: str = "shared file") -> Path:
    """``raw``, a path a shared file names, as a path inside ``folder`` — or ``error``: an absolute path, a
    drive, ``..``, or a symbolic link anywhere on the way that leads out of ``folder`` is refused."""
    rel = PurePosixPath(str(raw).replace("\\", "/"))
    if not rel.parts or rel.is_absolute() or ".." in rel.parts or ":" in str(raw) or "\x00" in str(raw):
        raise error(f"{where}: must be a path inside the {what}'s folder (no absolute path, no ..), "
                    f"got {_short(raw)}")
    base = Path(folder)
    p = base / Path(*rel.parts)
    try:
        real, real_base = os.path.realpath(p), os.path.realpath(base)
    except (OSError, ValueError):
        raise error(f"{where}: cannot resolve {_short(raw)}") from None
    if os.path.commonpath([real, real_base]) != real_base:
        raise error(f"{where}: {_short(raw)} is a link leading out of the {what}'s folder; not followed")
    return p


def loads(text: str, where: str, allow_nan: bool = False) -> Any:
    """``json.loads`` that refuses deep nesting (and, unless ``allow_nan``, NaN/Infinity literals — a
    diverged run's recorded loss may be NaN) with one clear message."""
    def bad_constant(name):
        raise FileFormatError(f"{where}: {name} is not a valid JSON number")

    try:
        v = json.loads(text) if allow_nan else json.loads(text, parse_constant=bad_constant)
    except FileFormatError:
        raise
    except RecursionError:
        raise FileFormatError(f"{where}: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise FileFormatError(f"{where}: not valid JSON ({str(exc).splitlines()[0][:120]})") from None
    if depth(v) > MAX_DEPTH:
        raise FileFormatError(f"{where}: nested too deeply")
    return v


def dumps(v: Any, **kw) -> str:
    """JSON that other programs can read: NaN and ±Infinity become null (``allow_nan=False`` otherwise)."""
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(y) for k, y in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(y) for y in x]
        return x

    return json.dumps(clean(v), allow_nan=False, **kw)
