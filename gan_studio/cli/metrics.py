"""``gan-studio metrics``: a run folder's logged iterations as CSV."""
from __future__ import annotations

import json
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
        out, rows = write_run_metrics_csv(RunFolder(a.run_dir), Path(a.out).expanduser())
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps({"out": str(out), "rows": len(rows), "columns": list(METRICS_CSV_COLUMNS)}))
    return 0
