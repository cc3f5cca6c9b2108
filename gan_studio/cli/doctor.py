"""``gan-studio doctor``: what is going wrong in a run, in plain words, with the evidence and the remedy.

Reads a run folder (finished, or still being written by ``gan-studio train`` or the studio): the logged
statistics, the recorded snapshots (for point data, the samples are measured again: mode coverage and JS), and
the findings the training process recorded itself (from sample metrics a run folder does not keep). Exit
status: 0 healthy, 1 findings, 2 bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..core import columns
from ..core.columns import RunEvent
from .args import positive_float
from .errors import UserError

NAME = "doctor"
HELP = "diagnose a run folder: what is going wrong, the evidence, the remedy (exit 0 healthy, 1 findings)"
DESCRIPTION = ("Diagnose a run folder written by `gan-studio train` or the studio, finished or still being "
               "written: prints each finding (what, the numbers and the iterations they cover, the live changes "
               "that address it) and a one-paragraph verdict. Exit status: 0 healthy, 1 findings, 2 bad input.")

#: metrics.jsonl keys → the doctor's statistics columns


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--follow", action="store_true",
                   help="keep reading a run that is still being written; report findings as they appear, stop when "
                        "the run ends (or on Ctrl+C)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--interval", type=positive_float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=positive_float, default=None, help=argparse.SUPPRESS)  # stop following after


class FolderFeed:
    """Feeds a Doctor from a RunFolder, picking up what a running writer adds (``update()``)."""

    def __init__(self, folder) -> None:
        from ..core.doctor import Doctor

        self.folder = folder
        meta = folder.meta
        self.doctor = Doctor(dict(meta.get("config_start") or meta["config"]), kind=folder.static.kind)
        self.last_iteration: int | None = None  # the newest statistics line read
        self._pos = 0
        self._snapshots: set[int] = set()

    def update(self) -> bool:
        """Read what is new; True if anything was."""
        import numpy as np

        from ..core.doctor import Finding
        from ..core.doctor.probes import folder_point_metrics

        f, doc = self.folder, self.doctor
        f.refresh()
        new = False
        for i, e in enumerate(list(f.index)):
            it = e["iteration"]
            if it in self._snapshots:
                continue
            self._snapshots.add(it)
            m = {"iteration": it}
            m.update({k: e[k] for k in ("modes_covered", "n_modes", "high_quality") if k in e})
            if f.static.kind == "points":
                try:
                    m.update(folder_point_metrics(f.load(i).get("samples"), f.static))
                except Exception:  # noqa: BLE001 - a damaged or thinned-out snapshot: the index numbers remain
                    pass
            doc.feed_metrics(m)
            new = True
        rows: list = []

        def flush():
            if rows:
                doc.feed(np.asarray(rows, np.float64), columns.NAMES)
                rows.clear()

        if f.keep_metrics:  # (a folder that keeps its rows, the studio's: those not seen yet)
            batches, self._pos = [f.metrics[self._pos:]], len(f.metrics)
        else:  # streamed: a piece of the file at a time, nothing kept but what the doctor keeps
            batches = f.metric_batches()
        for batch in batches:
            if not batch:
                continue
            new = True
            for rec in batch:
                ev = rec.get("event")
                if ev is None:
                    rows.append(columns.from_line(rec))  # the statistics columns, read by their on-disk names
                    self.last_iteration = rec["iteration"]
                    continue
                flush()
                if ev == RunEvent.SET and isinstance(rec.get("changes"), dict):
                    doc.configure(**rec["changes"])
                elif ev == RunEvent.DIVERGED:
                    doc.note_diverged(int(rec["iteration"]) + 1, str(rec.get("message", "")))
                elif ev == RunEvent.FINDING:
                    try:
                        doc.note_recorded(Finding.from_dict(rec))
                    except ValueError:
                        pass  # a damaged event: the statistics still speak
            flush()
        return new

    def finished(self) -> bool:
        """Whether the writer has closed the run: run.json rewritten with the last iteration, after the last
        metrics line (while training, run.json keeps the iteration the run started from)."""
        from ..core.record.runfiles import RunFolderError
        from ..core.record.runschema import MAX_RUN_JSON_BYTES
        from ..core.schema import read_text

        p, mp = self.folder.path / "run.json", self.folder.path / "metrics.jsonl"
        try:  # capped as the run folder's own reader caps it: a run.json of gigabytes is not read whole
            meta = json.loads(read_text(p, MAX_RUN_JSON_BYTES, RunFolderError, str(p)))
            last = self.last_iteration
            return (last is not None and isinstance(meta.get("iteration"), int) and meta["iteration"] >= last
                    and p.stat().st_mtime >= mp.stat().st_mtime)
        except (OSError, ValueError, TypeError, AttributeError, RunFolderError):
            return False


def _lines(report: dict, path: str, finished: bool) -> list[str]:
    state = "finished" if finished else "still being written"
    out = [f"doctor: {path} at iteration {report['iteration']:,} ({state})"]
    for f in report["findings"]:
        if f["active"]:
            span = f"since iteration {f['since']:,}"
        else:
            span = f"iterations {f['since']:,}–{f['until'] if f['until'] is not None else f['iteration']:,}, resolved"
        out.append(f"[{f['severity']}] {f['title']} ({span})")
        out.append(f"  {f['sentence']}")
        ev = {k: v for k, v in f["evidence"].items() if k not in ("detail", "message") and v is not None}
        if ev:
            out.append("  evidence: " + ", ".join(f"{k}={v}" for k, v in ev.items()))
        for r in f["remedies"]:
            out.append("  try: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in r["change"].items()) + f"  ({r['why']})")
    out.append("")
    out.append(report["verdict"])
    return out


def run(a) -> int:
    from ..core.record.runfolder import RunFolder, RunFolderError

    try:
        feed = FolderFeed(RunFolder(a.run_dir, keep_metrics=False))
    except RunFolderError as exc:
        raise UserError(str(exc)) from None
    feed.update()
    finished = feed.finished()
    if a.follow and not finished:
        t0 = time.monotonic()
        shown = set()
        try:
            while True:
                for f in feed.doctor.problems():
                    if f.name not in shown:
                        shown.add(f.name)
                        if not a.json:
                            print(f"iteration {f.iteration:,}: [{f.severity}] {f.sentence}", flush=True)
                if finished or (a.timeout is not None and time.monotonic() - t0 >= a.timeout):
                    break
                time.sleep(a.interval)
                feed.update()
                finished = feed.finished()
        except KeyboardInterrupt:
            pass  # the user stopped following: report what was seen
    if finished:
        feed.doctor.flush()
    report = feed.doctor.report()
    folder = feed.folder
    if getattr(folder, "warnings", None):
        print(f"gan-studio {NAME}: warning: {folder.warning_summary()}", file=sys.stderr)
    if a.json:
        print(json.dumps({"run": str(folder.path), "finished": finished, **report}))
    else:
        print("\n".join(_lines(report, str(folder.path), finished)))
    return 0 if report["healthy"] else 1
