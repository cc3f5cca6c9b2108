"""The studio's recordings: where they live, and a fresh folder for a new one."""
from __future__ import annotations

import os
import time
from pathlib import Path


def studio_runs_dir() -> Path:
    """Where the studio records its runs: ``$GAN_STUDIO_CACHE/runs`` (default ``~/.cache/gan-studio/runs``)."""
    base = os.environ.get("GAN_STUDIO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gan-studio")
    return Path(base) / "runs"


def new_recording(name: str, keep: int = 8, root: Path | None = None) -> Path:
    """A fresh folder for a studio recording; the oldest beyond ``keep`` are removed (save one to keep it)."""
    import re
    import shutil

    root = root or studio_runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in root.iterdir() if p.is_dir() and (p / "run.json").exists()), key=lambda p: p.name)
    for p in old[:max(0, len(old) - (keep - 1))]:
        shutil.rmtree(p, ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name)[:40] or "run"
    path = root / f"{stamp}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{safe}-{n}"
    return path

