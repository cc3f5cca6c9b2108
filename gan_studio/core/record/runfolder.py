"""Run folders: what a run leaves behind, so it can be replayed, scrubbed and exported without training.

A run folder holds::

    run.json          format, version, the configuration, what the data are (kind, dimension, name)
    static.npz        what does not change: real points, mode centres, bounds, p_data (toy data)
    metrics.jsonl     one line per logged iteration (losses, D's mean outputs, rates, k)
    snapshots.jsonl   one line per snapshot: iteration, file, modes covered (an index, append-only)
    snapshots/        s-<iteration>.npz: samples from the fixed z, D's field, D's outputs on real and fake
    states/           s-<iteration>.pt: the training state at a snapshot, to continue from it (see states.py)
    checkpoint.pt     (written by ``gan-studio train`` and on request)

Snapshots are taken every ``every`` iterations; when there are more than ``max_snapshots``, every other
one is deleted and the interval doubles, so a run of any length keeps an evenly spaced record in bounded
space. Every file is written to a temporary name and renamed, so a reader (``gan-studio open --follow``,
a crash, a full disk) never sees half a file: at worst the newest line of a ``.jsonl`` is incomplete, and
readers skip it.

(The parts live in their own modules: :mod:`.runfiles` (the format, views as arrays), :mod:`.runschema` (what
each file may hold), :mod:`.runwriter` (writing), :mod:`.runreader` (reading), :mod:`.metrics_csv`,
:mod:`.recordings` (the studio's recordings library); this module gathers what the rest of GAN Studio uses.)
"""
from __future__ import annotations

from .metrics_csv import METRICS_CSV_COLUMNS, metrics_csv_rows, write_metrics_csv, write_run_metrics_csv
from .recordings import new_recording, studio_runs_dir
from .runfiles import RECORD_REQUEST, RunFolderError, flatten_views, unflatten_views
from .runreader import RunFolder
from .runschema import METRIC_LINE, read_npz
from .runwriter import RunWriter

__all__ = ["RunWriter", "RunFolder", "RunFolderError", "write_metrics_csv", "write_run_metrics_csv",
           "metrics_csv_rows", "METRICS_CSV_COLUMNS", "flatten_views", "unflatten_views", "RECORD_REQUEST",
           "METRIC_LINE", "read_npz", "new_recording", "studio_runs_dir"]
