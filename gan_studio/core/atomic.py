"""Files that appear complete or not at all: write to a temp file beside the target, fsync, rename.

Torch-free, so the studio's window process can use it without importing torch."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import CheckpointError, ConfigError  # noqa: F401 (re-exported)



def file_mode() -> int:
    """The permissions a newly created file would get (0666 less the umask): temp files start at 0600."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_beside(target: Path, suffix: str = "") -> Path:
    """A new empty temp file ``.NAME.XXXX{suffix}.tmp`` in ``target``'s folder (what :func:`remove_stale_temps`
    cleans up after a writer that was killed)."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CheckpointError(f"cannot write {target}: folder {folder} is not writable")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=folder)
    except OSError as exc:
        raise CheckpointError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    return Path(tmp)


def _seal(tmp: Path) -> None:
    """Flush a finished temp file to the disk and give it a new file's permissions."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, file_mode())


def _write_through(target: Path) -> bool:
    """Whether ``target`` is a character device or a FIFO (written through, never replaced); raises for
    the other special files, which no command may replace."""
    import stat

    try:
        mode = os.stat(target).st_mode  # follows links: /dev/stdout is a link to the process's descriptor
    except OSError:
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise CheckpointError(f"cannot write {target}: it is a {'block device' if stat.S_ISBLK(mode) else 'socket'}")
    return False


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically. A ``path`` that is a
    character device or a FIFO (``/dev/null``, ``/dev/stdout``, a pipe; through links too) is written through,
    never replaced; a block device or a socket is refused. A symbolic link to a regular file is replaced by the
    new file (never written through)."""
    target = Path(path)
    if _write_through(target):
        tmp_p = _temp_beside(Path(tempfile.gettempdir()) / target.name, suffix)
        try:
            yield tmp_p
            with open(tmp_p, "rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        except OSError as exc:
            raise CheckpointError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            tmp_p.unlink(missing_ok=True)
        return
    tmp_p = _temp_beside(target, suffix)
    try:
        yield tmp_p
        _seal(tmp_p)
        os.replace(tmp_p, target)
    except OSError as exc:
        tmp_p.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp_p.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_paths(*paths: str | os.PathLike, suffixes: tuple[str, ...] | None = None) -> Iterator[list[Path]]:
    """Files that belong together (a generator's weights and its JSON) appear together or not at all.

    Yields one temp path per target; when the block ends, every temp is flushed to disk first (a full disk
    fails here, before any target changes), then each replaces its target. Should a rename still fail,
    the targets already replaced get their previous files back. On any failure no temp file stays."""
    targets = [Path(p) for p in paths]
    suffixes = suffixes or ("",) * len(targets)
    temps: list[Path] = []
    kept: list[Path] = []  # previous files, hard-linked aside until every new one is in place
    replaced: list[tuple[Path, Path | None]] = []  # (target, its previous file or None) already replaced
    try:
        for t, s in zip(targets, suffixes):
            temps.append(_temp_beside(t, s))
        yield list(temps)
        for tmp in temps:
            _seal(tmp)
        for t, tmp in zip(targets, temps):
            keep = None
            if t.exists():
                keep = _temp_beside(t, ".old")
                keep.unlink()
                try:
                    os.link(t, keep)
                    kept.append(keep)
                except OSError:
                    keep = None
            os.replace(tmp, t)
            replaced.append((t, keep))
    except BaseException as exc:
        for t, keep in replaced:  # put back what was already replaced
            try:
                if keep is not None:
                    os.replace(keep, t)
                else:
                    t.unlink(missing_ok=True)
            except OSError:
                pass
        for p in temps + kept:
            p.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            bad = Path(exc.filename).name if exc.filename else None
            which = next((t for t, tmp in zip(targets, temps) if bad in (t.name, tmp.name)), targets[0])
            raise CheckpointError(f"cannot write {which}: {exc.strerror or exc}") from None
        raise
    for keep in kept:
        keep.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def remove_stale_temps(folder: str | os.PathLike, names: tuple[str, ...]) -> list[Path]:
    """Temp files (``.NAME.*.tmp``) that a killed writer of ``names`` left in ``folder``; returns those removed.
    Call it only where one writer at a time writes ``names`` (a run folder before its run starts)."""
    gone = []
    for name in names:
        for p in Path(folder).glob(f".{name}.*.tmp"):
            try:
                if p.is_file() and not p.is_symlink():
                    p.unlink()
                    gone.append(p)
            except OSError:
                pass
    return gone
