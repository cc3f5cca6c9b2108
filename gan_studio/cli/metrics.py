"""``gan-studio metrics``: a run folder's logged iterations as CSV."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import UserError

NAME = "metrics"
HELP = "a run folder's metrics as CSV"


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--out", required=True, metavar="FILE.csv")


def run(a) -> int:
    from ..core.record.runfolder import METRICS_CSV_COLUMNS, RunFolder, RunFolderError, write_run_metrics_csv

    try:
        run = RunFolder(a.run_dir)
        out, rows = write_run_metrics_csv(run, Path(a.out).expanduser())
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    if run.warnings:  # damaged lines that were left out: one line
        print(f"gan-studio {NAME}: warning: {run.warning_summary()}", file=sys.stderr)
    print(json.dumps({"out": str(out), "rows": len(rows), "columns": list(METRICS_CSV_COLUMNS)}))
    return 0
