"""A finding: one thing the doctor found — what, how sure and how bad, the numbers, and what to change — and
its dict form (a run folder's ``finding`` event)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .rules import SEVERITIES


@dataclass
class Finding:
    """One thing the doctor found: what, how sure and how bad, the numbers, and what to change."""

    name: str
    title: str
    severity: str  # one of rules.SEVERITIES
    sentence: str
    evidence: dict  # the numbers, and "iterations": [first, last] they cover
    remedies: list = field(default_factory=list)  # [{"change": {live settings}, "why": "..."}]
    iteration: int = 0  # when it was first reported
    since: int = 0  # when its condition started to hold
    until: int | None = None  # when it stopped holding (None: it still holds)
    active: bool = True
    source: str = "live"  # "live" (computed here) or "recorded" (read from a run folder's events)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "severity": self.severity, "sentence": self.sentence,
                "evidence": dict(self.evidence), "remedies": [dict(r, change=dict(r["change"])) for r in self.remedies],
                "iteration": int(self.iteration), "since": int(self.since),
                "until": None if self.until is None else int(self.until), "active": bool(self.active)}

    @classmethod
    def from_dict(cls, d: Any) -> "Finding":
        """A finding from its dict (e.g. a run folder's ``finding`` event); ValueError if it is not one."""
        if not isinstance(d, dict):
            raise ValueError("a finding must be a mapping")

        def text(key: str, limit: int = 2000) -> str:
            v = d.get(key)
            if not isinstance(v, str) or len(v) > limit:
                raise ValueError(f"finding: {key!r} must be text")
            return v

        def whole(key: str, default=None):
            v = d.get(key, default)
            if v is None and default is None and key == "until":
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"finding: {key!r} must be a whole number")
            return int(v)

        severity = text("severity", 20)
        if severity not in SEVERITIES:
            raise ValueError(f"finding: unknown severity {severity!r}")
        evidence = d.get("evidence", {})
        remedies = d.get("remedies", [])
        if not isinstance(evidence, dict) or not isinstance(remedies, list) or not all(
                isinstance(r, dict) and isinstance(r.get("change"), dict) for r in remedies):
            raise ValueError("finding: evidence must be a mapping and remedies a list of {change, why}")
        return cls(name=text("name", 100), title=text("title", 200), severity=severity, sentence=text("sentence"),
                   evidence=dict(evidence), remedies=[{"change": dict(r["change"]), "why": str(r.get("why", ""))}
                                                      for r in remedies],
                   iteration=whole("iteration", 0), since=whole("since", d.get("iteration", 0)),
                   until=whole("until"), active=bool(d.get("active", True)))
