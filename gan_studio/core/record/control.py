"""Steering a live run through its run folder: the control file.

Whoever can write a run folder can steer the run writing it — the studio, ``gan-studio control`` (locally, over
ssh, or on a shared or mounted folder), a script — and nobody else: no network port is opened. A request is one
JSON line appended to ``control.jsonl`` in the run folder::

    {"id": "c-1733241600123-4f2a", "time": 1733241600.1, "action": "set", "changes": {"lr_d": 0.0001}}
    {"id": "c-1733241601456-9b1c", "time": 1733241601.4, "action": "pause"}
    {"id": "c-1733241609789-0d3e", "time": 1733241609.7, "action": "resume"}

The run (a :class:`~gan_studio.core.record.watch.Watch`, or ``gan-studio train`` through
:class:`TrainerSteering`) reads new lines at its next log/iteration, checks each with the studio's own rules
(:data:`~gan_studio.core.train.config.LIVE_KEYS`, :func:`~gan_studio.core.train.config.validate_values`),
applies it and answers in its ``metrics.jsonl`` with the request's id and the iteration:

* ``{"event": "set", "changes": {...}, "request": id}`` — applied (the same event a change made in the studio
  leaves, so replays, branches and recipes know it); ``"set_own"`` for a loop's own settings (not
  :class:`~gan_studio.core.train.config.TrainConfig`'s);
* ``{"event": "paused" | "resumed", "request": id}``;
* ``{"event": "refused", "request": id, "message": why, "asked": {...}}`` — an unknown key, a bad value, a
  setting nobody in the loop takes, a malformed line. A line is only ever parsed as JSON data: nothing in it is
  evaluated or executed.

Requests written before the run started (an old file in a reused folder) are not acted on.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..columns import RunEvent

CONTROL_FILE = "control.jsonl"
ACTIONS = ("set", "pause", "resume")
#: the events a run answers a request with (in metrics.jsonl), declared in core/columns.py's RunEvent
ANSWER_EVENTS: tuple[str, ...] = tuple(e.value for e in (RunEvent.SET, RunEvent.SET_OWN, RunEvent.PAUSED,
                                                         RunEvent.RESUMED, RunEvent.REFUSED))
MAX_LINE_BYTES = 64 * 1024
MAX_CHANGES = 64
MAX_ID = 100


@dataclass
class Request:
    """One line of the control file, parsed. ``error`` is set (and nothing else may be trusted but ``id``) when
    the line is malformed."""

    id: str
    action: str = ""
    changes: dict = field(default_factory=dict)
    error: str | None = None


def new_request_id() -> str:
    return f"c-{int(time.time() * 1000)}-{secrets.token_hex(3)}"


def _value_ok(v: Any) -> bool:
    """A setting's value: a JSON scalar or a short list of numbers (betas); nothing nested."""
    if v is None or isinstance(v, (bool, int)):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, str):
        return len(v) <= 200
    if isinstance(v, list):
        return len(v) <= 8 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    return False


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a setting may have")


def parse_line(raw: bytes, n: int = 0) -> Request:
    """A control-file line → a :class:`Request` (with ``error`` set when it is malformed)."""
    rid = f"line-{n}"
    if len(raw) > MAX_LINE_BYTES:
        return Request(rid, error=f"the request is longer than {MAX_LINE_BYTES // 1024} KB")
    try:
        d = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return Request(rid, error=f"not a JSON request ({str(exc).splitlines()[0][:100]})")
    if not isinstance(d, dict):
        return Request(rid, error="a request must be a JSON object")
    if isinstance(d.get("id"), str) and 0 < len(d["id"]) <= MAX_ID:
        rid = d["id"]
    else:
        return Request(rid, error="the request has no id (a short text)")
    action = d.get("action")
    if action not in ACTIONS:
        return Request(rid, error=f"unknown action {str(action)[:40]!r} (the actions: {', '.join(ACTIONS)})")
    changes = d.get("changes", {})
    if action == "set":
        if not isinstance(changes, dict) or not changes:
            return Request(rid, action, error="a set request needs its changes (a JSON object of settings)")
        if len(changes) > MAX_CHANGES:
            return Request(rid, action, error=f"more than {MAX_CHANGES} changes in one request")
        for k, v in changes.items():
            if not (isinstance(k, str) and 0 < len(k) <= 100):
                return Request(rid, action, error="a setting's name must be a short text")
            if not _value_ok(v):
                return Request(rid, action, {}, error=f"{k}: not a value a setting may have")
        return Request(rid, action, dict(changes))
    return Request(rid, action)


def append_request(run_dir: str | os.PathLike, action: str, changes: dict | None = None) -> str:
    """Append one request to ``run_dir``'s control file (one ``write`` of a whole line, opened for appending, so
    two writers do not interleave); returns its id. Raises OSError when the folder cannot be written."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    rid = new_request_id()
    rec: dict = {"id": rid, "time": round(time.time(), 3), "action": action}
    if action == "set":
        rec["changes"] = dict(changes or {})
    line = (json.dumps(rec, allow_nan=False) + "\n").encode()
    fd = os.open(Path(run_dir) / CONTROL_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return rid


class ControlReader:
    """New requests of a run folder's control file, read from where it ended when the reader was made.

    :meth:`poll` looks at the file at most every ``interval`` seconds (a ``stat``: ~2 µs), so calling it every
    iteration costs nothing measurable."""

    def __init__(self, run_dir: str | os.PathLike, interval: float = 0.1) -> None:
        self.path = Path(run_dir) / CONTROL_FILE
        self.interval = float(interval)
        self._next = 0.0
        self._n = 0
        try:
            self._pos = self.path.stat().st_size  # what was there before the run is not acted on
        except OSError:
            self._pos = 0

    def poll(self, force: bool = False) -> list[Request]:
        now = time.monotonic()
        if not force and now < self._next:
            return []
        self._next = now + self.interval
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        if st.st_size < self._pos:  # replaced by a shorter file: read it from the start
            self._pos = 0
        if st.st_size == self._pos:
            return []
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                data = f.read(min(st.st_size - self._pos, 4 * 2**20))
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # an unfinished last line waits for its newline
        self._pos += end
        out = []
        for line in data[:end].split(b"\n")[:-1]:
            self._n += 1
            if line.strip():
                out.append(parse_line(line, self._n))
        return out


def check_live_changes(changes: dict, config: dict | None = None) -> str | None:
    """Why ``changes`` (settings of :data:`LIVE_KEYS`) cannot be made, by the studio's rules, or None."""
    from ..errors import ConfigError
    from ..settings import LIVE_KEYS, check_live_change

    unknown = [k for k in changes if k not in LIVE_KEYS]
    if unknown:
        return (f"cannot change {', '.join(unknown)} on a running run (live settings: {', '.join(LIVE_KEYS)})")
    try:
        check_live_change(changes, config)  # the settings table's one validation of a live change
    except ConfigError as exc:
        return str(exc)
    return None


def find_answer(run_dir: str | os.PathLike, request_id: str) -> dict | None:
    """The run's answer to request ``request_id`` (its event in ``metrics.jsonl``), or None (not yet).
    The file is streamed a megabyte at a time (a run's log may hold millions of lines); a line longer than
    :data:`MAX_LINE_BYTES` is no answer and is skipped unread."""
    p = Path(run_dir) / "metrics.jsonl"
    needle = json.dumps(request_id).encode()
    try:
        with open(p, "rb") as f:
            for line in _capped_lines(f, MAX_LINE_BYTES):
                if needle not in line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if (isinstance(rec, dict) and rec.get("request") == request_id
                        and rec.get("event") in ANSWER_EVENTS):
                    return rec
    except OSError:
        return None
    return None


def obey(req: Request, note, *, submit, pause, resume, is_paused, no_changes: str | None = None,
         config: dict | None = None) -> None:
    """Act on one request and answer it with ``note(event, **data)`` (see the module's docstring): the one rule
    for every run that obeys a control file. ``submit(changes)`` makes checked live changes (raises ConfigError
    to refuse them); ``pause()``/``resume()``/``is_paused()``: the run's own; ``no_changes``: why every ``set``
    is refused (a run that takes none)."""
    from ..train.config import ConfigError

    if req.error:
        note(RunEvent.REFUSED, request=req.id, message=req.error)
    elif req.action == "set":
        why = no_changes or check_live_changes(req.changes, config)
        if why is None:
            try:
                submit(req.changes)
            except ConfigError as exc:
                why = str(exc)
        if why is not None:
            note(RunEvent.REFUSED, request=req.id, message=why, asked=req.changes)
        else:
            note(RunEvent.SET, changes=req.changes, request=req.id)
    elif req.action == "pause":
        note(RunEvent.PAUSED, request=req.id)
        pause()
    elif is_paused():
        note(RunEvent.RESUMED, request=req.id)
        resume()
    else:
        note(RunEvent.REFUSED, request=req.id, message="the run is not paused")


def _capped_lines(f, cap: int, chunk: int = 2**20):
    """The lines of binary file ``f``, read ``chunk`` bytes at a time; a line longer than ``cap`` is dropped."""
    rest, skipping = b"", False  # rest: the unfinished line so far; skipping: it is already too long
    while data := f.read(chunk):
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for i, line in enumerate(lines):
            if not (skipping and i == 0) and len(line) <= cap:
                yield line
            skipping = False
        if len(rest) > cap:
            rest, skipping = b"", True
    if rest and not skipping:
        yield rest


# ------------------------------------------------------------------------------------- gan-studio train
class TrainerSteering:
    """A trainer observer (``gan-studio train``): obeys the run folder's control file at each iteration.

    A ``set`` goes through :meth:`Trainer.submit` (the studio's path: validated now, applied at the next
    iteration) and is noted as a ``set`` event by ``writer``; ``pause`` blocks here, between iterations, until a
    ``resume`` (changes made meanwhile are applied at once); Ctrl+C still interrupts."""

    def __init__(self, writer, reader: ControlReader | None = None, sleep: float = 0.05,
                 no_changes: str | None = None) -> None:
        self.writer = writer
        self.no_changes = no_changes  # why every set is refused (a distributed run: only rank 0 reads the file)
        self.reader = reader or ControlReader(writer.path)
        self.sleep = float(sleep)
        self.paused = False
        self.paused_seconds = 0.0  # time spent paused (not training time)

    def _note(self, trainer, event: str, **data) -> None:
        try:
            self.writer.note(trainer, event, **data)
        except (OSError, ValueError):
            pass  # a full disk or a closed file: training goes on

    def handle(self, trainer, req: Request) -> None:
        def submit(changes):
            trainer.queue(changes)  # validated once, by obey's check_live_changes
            if self.paused:
                trainer.apply_changes()

        obey(req, lambda event, **data: self._note(trainer, event, **data), submit=submit,
             pause=lambda: setattr(self, "paused", True), resume=lambda: setattr(self, "paused", False),
             is_paused=lambda: self.paused, no_changes=self.no_changes, config=trainer.config.to_dict())

    def check(self, trainer, force: bool = False) -> None:
        for req in self.reader.poll(force):
            self.handle(trainer, req)
        if not self.paused:
            return
        t0 = time.perf_counter()
        try:
            while self.paused:  # KeyboardInterrupt ends the sleep and the run
                time.sleep(self.sleep)
                for req in self.reader.poll(True):
                    self.handle(trainer, req)
        finally:
            self.paused_seconds += time.perf_counter() - t0

    def on_run_start(self, trainer) -> None:
        self.check(trainer, force=True)

    def on_iteration(self, trainer, stats) -> None:
        self.check(trainer)

    def on_diverged(self, trainer, message) -> None:
        pass

    def on_run_end(self, trainer, reason) -> None:
        pass


__all__ = ["ACTIONS", "ANSWER_EVENTS", "CONTROL_FILE", "ControlReader", "Request", "TrainerSteering",
           "append_request", "obey", "check_live_changes", "find_answer", "new_request_id", "parse_line"]
