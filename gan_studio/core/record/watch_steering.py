"""The steering half of :class:`~gan_studio.core.record.watch.Watch`: the requests of the run folder's control file
(control.py), checked with the studio's rules and applied to a user's own loop — ``lr_d``/``lr_g`` to the
optimisers' parameter groups, pause/resume, anything else to the functions registered with :meth:`on_change` —
each answered in ``metrics.jsonl`` (applied, or refused with the reason)."""
from __future__ import annotations

from typing import Any, Callable

from ..columns import RunEvent
from .control import Request, check_live_changes


class Steering:
    """Mixed into Watch, which provides ``optimizers``, ``_run`` (its settings), ``doctor``, ``paused``,
    ``_callbacks`` and ``_note(event, **data)``."""

    def on_change(self, fn: Callable[[str, Any], bool]) -> Callable[[str, Any], bool]:
        """Register ``fn(key, value) -> bool`` for settings the loop applies itself (k, G steps, its own knobs):
        it returns whether it took the change. A change no callback takes is refused (and recorded so)."""
        self._callbacks.append(fn)
        return fn

    # -- steering (the run folder's control file) -----------------------------------------------------
    def _steer(self, requests: list[Request]) -> None:
        for req in requests:
            try:
                self._handle(req)
            except Exception as exc:  # noqa: BLE001 - a callback's failure is the request's refusal
                self._note(RunEvent.REFUSED, request=req.id, message=f"the loop failed to apply it: {exc}"[:500],
                           asked=req.changes)

    def _handle(self, req: Request) -> None:
        from ..train.config import LIVE_KEYS, TrainConfig

        if req.error:
            self._note(RunEvent.REFUSED, request=req.id, message=req.error)
            return
        if req.action == "pause":
            self.paused = True
            self._note(RunEvent.PAUSED, request=req.id)
            return
        if req.action == "resume":
            if not self.paused:
                self._note(RunEvent.REFUSED, request=req.id, message="the run is not paused")
            else:
                self.paused = False
                self._note(RunEvent.RESUMED, request=req.id)
            return
        ch = req.changes
        fixed = [k for k in ch if k in TrainConfig.__dataclass_fields__ and k not in LIVE_KEYS]
        if fixed:
            self._note(RunEvent.REFUSED, request=req.id, asked=ch, message=f"cannot change {', '.join(fixed)} on a "
                       f"running run (live settings: {', '.join(LIVE_KEYS)})")
            return
        live = {k: v for k, v in ch.items() if k in LIVE_KEYS}
        why = check_live_changes(live, self._run.config.to_dict()) if live else None
        if why is None:
            missing = [k for k in ("lr_d", "lr_g") if k in live and k[-1] not in self.optimizers]
            if missing:
                why = (f"{', '.join(missing)}: no optimiser for {'D' if missing[0] == 'lr_d' else 'G'} was given "
                       f"to watch(optimizers=...)")
        if why is not None:
            self._note(RunEvent.REFUSED, request=req.id, asked=ch, message=why)
            return
        taken, refused = {}, []
        for key, value in ch.items():
            if key in ("lr_d", "lr_g"):
                for g in self.optimizers[key[-1]].param_groups:
                    g["lr"] = float(value)
                taken[key] = value
            elif any(bool(fn(key, value)) for fn in list(self._callbacks)):
                taken[key] = value
            else:
                refused.append(key)
        cfg_keys = {k: v for k, v in taken.items() if k in LIVE_KEYS}
        own = {k: v for k, v in taken.items() if k not in LIVE_KEYS}
        if cfg_keys:
            self._run.config = self._run.config.replace(**cfg_keys)
            if self.doctor is not None:
                self.doctor.configure(**cfg_keys)
            self._note(RunEvent.SET, changes=cfg_keys, request=req.id)
        if own:
            self._note(RunEvent.SET_OWN, changes=own, request=req.id)
        if refused:
            self._note(RunEvent.REFUSED, request=req.id, asked={k: ch[k] for k in refused},
                       message=f"nobody in this loop takes {', '.join(refused)} (register a function with "
                               f"w.on_change that applies it)")
