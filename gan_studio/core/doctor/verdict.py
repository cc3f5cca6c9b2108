"""The verdict: the findings in one paragraph of plain words."""
from __future__ import annotations

from typing import Iterable

from .finding import Finding


def _change_text(change: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in change.items())


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def verdict(findings: Iterable[Finding], iteration: int | None = None) -> str:
    """One paragraph in plain words: what is wrong (most pressing first), since when, and what to try."""
    fs = list(findings)
    at = f" at iteration {iteration:,}" if iteration else ""
    problems = [f for f in fs if f.severity != "ok"]
    healthy = [f for f in fs if f.severity == "ok"]
    if not problems:
        if healthy:
            return f"Healthy{at}. {_upper(healthy[0].sentence[len('Healthy: '):])} Nothing needs changing."
        return (f"Too early to tell{at}: the doctor needs a few hundred iterations of statistics before it says "
                "anything.")
    now = [f for f in problems if f.active]
    past = [f for f in problems if not f.active]
    out = []
    if now:
        first = now[0]
        n = len(now)
        out.append(f"{'One problem' if n == 1 else f'{n} problems'}{at}. Most pressing: {first.title} "
                   f"(since iteration {first.since:,}{', reported during training' if first.source == 'recorded' else ''})"
                   f" — {first.sentence}")
        if first.remedies:
            r = first.remedies[0]
            out.append(f"Try {_change_text(r['change'])}: {r['why']}.")
        for f in now[1:]:
            out.append(f"Also: {f.title}, since iteration {f.since:,}.")
    else:
        out.append(f"No problem holds{at}" + (f" ({healthy[0].sentence[len('Healthy: '):].rstrip('.')})"
                                              if healthy else "") + ".")
    for f in past:
        span = f"iterations {f.since:,}–{f.until:,}" if f.until is not None else f"iteration {f.since:,}"
        out.append(f"Earlier: {f.title} ({span}), no longer seen.")
    return " ".join(out)
