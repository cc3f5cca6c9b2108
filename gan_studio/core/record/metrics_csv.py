"""A run's metrics as CSV (``gan-studio metrics``, the studio's File → Metrics as CSV)."""
from __future__ import annotations

import io
import os
from pathlib import Path

from .. import columns
from .runfiles import RunFolderError, atomic_write

#: The columns of a run's metrics as CSV (``gan-studio metrics``, the studio's File → Metrics as CSV): the
#: numbers :class:`RunWriter` logs for each iteration (the statistics columns' on-disk names), in this order.
METRICS_CSV_COLUMNS = columns.DISK_NAMES


def metrics_csv_rows(metrics: list[dict]) -> list[dict]:
    """The logged iterations of ``RunFolder.metrics`` (events, such as a setting changed, left out)."""
    return [r for r in metrics if "event" not in r]


def write_run_metrics_csv(run, path: str | os.PathLike) -> tuple[Path, list[dict]]:
    """A run folder's logged iterations as CSV with :data:`METRICS_CSV_COLUMNS`; returns (path, rows).
    Raises :class:`RunFolderError` when nothing has been logged yet (no file is written)."""
    rows = metrics_csv_rows(run.metrics)
    if not rows:
        raise RunFolderError(f"{run.path} has no metrics yet")
    return write_metrics_csv(rows, path, list(METRICS_CSV_COLUMNS)), rows


def write_metrics_csv(rows: list[dict], path: str | os.PathLike, columns: list[str] | None = None) -> Path:
    """Rows of numbers → CSV (atomic). Missing values are empty cells."""
    import csv

    cols = columns or sorted({k for r in rows for k in r if not isinstance(r[k], (list, dict))},
                             key=lambda c: (c != "iteration", c))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    atomic_write(Path(path), buf.getvalue().encode())
    return Path(path)

