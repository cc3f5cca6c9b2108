"""``gan-studio control``: steer a live run through its run folder (pause, resume, change settings).

The request is appended to the run folder's control file (core/record/control.py); the run — a loop watched
with ``gan_studio.watch`` or a ``gan-studio train`` run — reads it at its next log or iteration and answers in
its ``metrics.jsonl``. Works wherever the folder can be written: locally, over ssh, on a shared or mounted
folder. No network port is involved.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .args import kv
from .errors import UserError

NAME = "control"
HELP = "pause, resume or change the settings of a live run through its run folder"
DESCRIPTION = ("Append a request to a live run folder's control file (control.jsonl). The run (gan-studio train, "
               "or a loop watched with gan_studio.watch) applies it at its next iteration, or refuses it with a "
               "reason, and records either in its metrics.jsonl. Exit 0 once written; with --wait, 0 when applied, "
               "1 when refused or unanswered.")


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="the live run's folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pause", action="store_true", help="pause the run (it waits inside its loop)")
    g.add_argument("--resume", action="store_true", help="resume a paused run")
    p.add_argument("--set", action="append", type=kv, default=[], metavar="KEY=VALUE",
                   help="change a setting, e.g. lr_d=1e-4 or k=3 (repeatable: one request)")
    p.add_argument("--wait", action="store_true", help="wait for the run's answer and say it")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="with --wait: give up after this long (default 60)")


def run(a) -> int:
    from ..core.record.control import CONTROL_FILE, append_request, check_live_changes, find_answer
    from ..core.train.config import LIVE_KEYS

    folder = Path(a.run_dir).expanduser()
    actions = [x for x in ("pause", "resume") if getattr(a, x)] + (["set"] if a.set else [])
    if len(actions) != 1:
        raise UserError("say what to do: --pause, --resume, or --set KEY=VALUE (one of them)")
    if not folder.is_dir() or not (folder / "run.json").is_file():
        raise UserError(f"{folder} is not a run folder (it has no run.json)")
    changes = dict(a.set)
    if changes:  # what is checkable here is checked here; the run checks everything again
        known = {k: v for k, v in changes.items() if k in LIVE_KEYS}
        why = check_live_changes(known) if known else None
        if why:
            raise UserError(why)
    if not (a.timeout > 0):
        raise UserError("--timeout must be a positive number of seconds")
    try:
        rid = append_request(folder, actions[0], changes)
    except OSError as exc:
        raise UserError(f"cannot write {folder / CONTROL_FILE}: {exc.strerror or exc}") from None
    if not a.wait:
        print(json.dumps({"request": rid, "action": actions[0], **({"changes": changes} if changes else {})}))
        return 0
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        ans = find_answer(folder, rid)
        if ans is not None:
            ok = ans["event"] != "refused"
            what = {"set": "applied", "set_own": "applied", "paused": "paused", "resumed": "resumed"}.get(
                ans["event"], "refused")
            line = f"gan-studio control: {what} at iteration {ans.get('iteration')}"
            if not ok:
                line += f": {ans.get('message', '')}"
            print(line, file=sys.stderr if not ok else sys.stdout)
            return 0 if ok else 1
        time.sleep(0.1)
    print(f"gan-studio control: no answer from the run within {a.timeout:g} s (is it still running? the request "
          f"stays in {CONTROL_FILE} and is applied when the run reads it)", file=sys.stderr)
    return 1
