"""The GAN doctor: says in plain words what is going wrong in a run, shows the evidence, offers the remedy.

* :mod:`.rules` — the rules as data (:data:`RULES`: windows, thresholds, sentences, remedies);
* :mod:`.checks` — one check per rule, attached to it by name, reading the doctor's public face;
* :mod:`.engine` — :class:`Doctor` (fed statistics and sample metrics, streaming; torch-free);
* :mod:`.finding` — :class:`Finding` and its dict form; :mod:`.remedies` — the remedy expressions
  (``"lr_d/10"``) resolved for a run; :mod:`.verdict` — :func:`verdict`, the findings in one paragraph;
  :mod:`.summary` — the means, medians and rounding they share;
* :mod:`.probes` — cheap looks at the samples (mode coverage and histogram JS for points; nearest training
  image, near-duplicates and classes for images);
* :mod:`.observer` — :class:`DoctorObserver`, the doctor inside a training process (imports torch: loaded
  on first use).
"""
from .engine import Doctor
from .finding import Finding
from .rules import RULES, SEVERITIES, Remedy, Rule
from .verdict import verdict

__all__ = ["Doctor", "Finding", "verdict", "RULES", "SEVERITIES", "Rule", "Remedy", "DoctorObserver"]


def __getattr__(name: str):
    if name == "DoctorObserver":
        from .observer import DoctorObserver

        return DoctorObserver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
