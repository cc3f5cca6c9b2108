"""Where a run folder may be written: a command never destroys what is already there.

The rule for ``train --out DIR`` (and anything else that writes a run folder):

- DIR does not exist: it is created (with its missing parents) only once the run's settings have been
  checked, and removed again, with the parents it created, if the command then fails before training.
- DIR is an empty folder: the run is written there.
- DIR holds anything (a run or any other file): refused with one line, unless the user asks —
  ``--resume CKPT`` with CKPT inside DIR continues that run there; ``--overwrite`` first *moves* DIR aside
  to ``DIR.old-N`` (one atomic rename; nothing is deleted) and then writes a new run in a new DIR.
- DIR is a regular file, a device, a FIFO or a socket: refused (a run folder is a folder; nothing is
  replaced). Files written alone (``sample --out``, ``figure``) go through :mod:`..atomic`, which writes a
  device or a FIFO through and replaces a regular file atomically.
- Symbolic links are never written through: a DIR that is a link is refused (name the folder it points
  to), and inside a run folder a link where a file is written is replaced by the new file, not followed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import ConfigError


class OutError(ConfigError):
    """``--out`` cannot be used as asked; the message (one line) says why and what to do instead."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a folder"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def aside_name(out: Path) -> Path:
    """The first free ``NAME.old-N`` beside ``out``."""
    n = 1
    while True:
        cand = out.with_name(f"{out.name}.old-{n}")
        if not os.path.lexists(cand):
            return cand
        n += 1


class OutDir:
    """The checked ``--out`` folder of a run: :meth:`check` first (touches nothing), then :meth:`claim` once
    the run's settings are known to be good, :meth:`release` when the command fails before it trains."""

    def __init__(self, out: str | os.PathLike, *, resume: str | os.PathLike | None = None,
                 overwrite: bool = False, flag: str = "--out") -> None:
        self.path = Path(out).expanduser()
        self.resume = Path(resume).expanduser() if resume else None
        self.overwrite = bool(overwrite)
        self.flag = flag
        self.moved_to: Path | None = None
        self._made: list[Path] = []  # folders this command created, deepest last

    # -- before anything is written -------------------------------------------------------------------
    def check(self) -> "OutDir":
        p, f = self.path, self.flag
        if self.overwrite and self.resume is not None:
            raise OutError(f"--overwrite starts a new run; --resume continues one: give one of them")
        if p.is_symlink():
            raise OutError(f"{f} {p} is a symbolic link; gan-studio never writes through links: name the folder "
                           f"it points to ({os.path.realpath(p)})")
        try:
            st = p.lstat()
        except (FileNotFoundError, NotADirectoryError):
            self._check_parents()
            return self
        except OSError as exc:
            raise OutError(f"{f} {p}: {exc.strerror or exc}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise OutError(f"{f} {p} is {_kind(st.st_mode)}, not a folder; a run is written into a folder "
                           f"(nothing was written)")
        try:
            held = sorted(e.name for e in os.scandir(p))
        except OSError as exc:
            raise OutError(f"{f} {p}: cannot list the folder: {exc.strerror or exc}") from None
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutError(f"run folder {p} is not writable")
        if not held:
            return self
        if self.resume is not None:
            if _inside(self.resume, p):
                return self
            raise OutError(f"{f} {p} already holds files ({_listing(held)}) and the checkpoint is not in it; "
                           f"--resume continues a run in its own folder or in a new one")
        if self.overwrite:
            if not os.access(p.parent if str(p.parent) else Path("."), os.W_OK):
                raise OutError(f"--overwrite: cannot move {p} aside: its parent folder is not writable")
            return self
        what = "a run" if "run.json" in held or "checkpoint.pt" in held else "files"
        raise OutError(f"{f} {p} already holds {what} ({_listing(held)}); give a new folder, --resume CKPT to "
                       f"continue it, or --overwrite to move it aside to {aside_name(p).name} and start again")

    def _check_parents(self) -> None:
        q = self.path.parent if str(self.path.parent) else Path(".")
        while not os.path.lexists(q) and q != q.parent:
            q = q.parent
        if os.path.lexists(q) and not q.is_dir():
            raise OutError(f"cannot create run folder {self.path}: {q} is not a folder")

    # -- once the settings are good -------------------------------------------------------------------
    def claim(self) -> Path:
        """Move an old run aside (``--overwrite``) and create the folder; returns it."""
        p = self.path
        if self.overwrite and p.is_dir() and any(os.scandir(p)):
            dest = aside_name(p)
            try:
                os.rename(p, dest)  # one atomic step: the old run is whole, under its new name
            except OSError as exc:
                raise OutError(f"--overwrite: cannot move {p} aside to {dest.name}: {exc.strerror or exc}") from None
            self.moved_to = dest
        missing = []
        q = p
        while not os.path.lexists(q) and q != q.parent:
            missing.append(q)
            q = q.parent
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                self.release()
                raise OutError(f"cannot create run folder {p}: {exc.strerror or exc}") from None
            self._made.append(d)
        return p

    def release(self) -> None:
        """The command failed before it trained: remove the (empty) folders it created and put an old run
        moved aside back in its place."""
        for d in reversed(self._made):
            try:
                d.rmdir()  # only when empty: a file someone put there stays
            except OSError:
                break
        self._made.clear()
        if self.moved_to is not None and not os.path.lexists(self.path):
            try:
                os.rename(self.moved_to, self.path)
                self.moved_to = None
            except OSError:
                pass


def _listing(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")
