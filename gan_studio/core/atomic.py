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


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CheckpointError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CheckpointError(f"cannot write {target}: folder {folder} is not writable")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=folder)
    os.close(fd)
    tmp_p = Path(tmp)
    try:
        yield tmp_p
        with open(tmp_p, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_p, file_mode())
        os.replace(tmp_p, target)
    except OSError as exc:
        tmp_p.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp_p.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
