"""The GAN doctor, measured: train labelled runs and report how often the doctor names what went wrong.

    python benchmarks/doctor.py [--seeds 4000 4001 4002] [--runs ring8 lr-ramp ...] [--device cpu]

Each labelled run is trained with the doctor attached exactly as ``gan-studio train`` attaches it
(:class:`~gan_studio.core.doctor.DoctorObserver`, sample probes every 100 iterations). The thresholds in
``gan_studio/core/doctor/rules.py`` were set by looking at seeds 0–2 of these runs. Seeds 1000–1002, 2000–2002
and 3000–3002 validated earlier versions (two of them showed a flaw that was then fixed; see the README's
"The GAN doctor"); the default seeds, 4000–4002, measured the rules as they are, unseen before that run.

Labels (kinds) and the findings that count as naming them:

* healthy — no problem finding at all (ring8, figure1, digits presets);
* collapse — mode-collapse or mode-hopping (ring8-collapse, grid25-collapse, helvetica);
* vanishing-gradient — vanishing-gradient or d-wins (saturating-vs-nonsaturating: the minimax loss, SGD, k = 10);
* divergence — divergence-ahead reported *before* the first NaN (ring8 with SGD, both learning rates ×1.5 every
  100 iterations from iteration 300 until it diverges);
* d-too-weak — d-too-weak (ring8 with lr_D 100× below lr_G).

Prints one JSON object: every run's findings (first iteration of each), the confusion table (label × the kinds
reported, runs can report several), the first finding per run, detection per label, the iteration of the first
correct finding, false alarms on healthy runs and the divergence warning's lead over the NaN.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

#: name → (label, preset, overrides, lr ramp (start, every, factor) or None)
RUNS = {
    "ring8": ("healthy", "ring8", {}, None),
    "figure1": ("healthy", "figure1", {}, None),
    "digits": ("healthy", "digits", {}, None),
    "ring8-collapse": ("collapse", "ring8-collapse", {}, None),
    "grid25-collapse": ("collapse", "grid25-collapse", {}, None),
    "helvetica": ("collapse", "helvetica", {}, None),
    "saturating": ("vanishing-gradient", "saturating-vs-nonsaturating", {}, None),
    "lr-ramp": ("divergence", "ring8", {"optimizer": "sgd", "lr_d": 0.05, "lr_g": 0.05, "momentum": 0.5, "steps": 4000},
                (300, 100, 1.5)),
    "d-weak": ("d-too-weak", "ring8", {"lr_d": 1e-5}, None),
}
#: finding → the kind it names
KIND = {"mode-collapse": "collapse", "mode-hopping": "collapse", "vanishing-gradient": "vanishing-gradient",
        "d-wins": "vanishing-gradient", "divergence-ahead": "divergence", "diverged": "diverged",
        "d-too-weak": "d-too-weak", "oscillation": "oscillation", "memorisation": "memorisation"}
LABELS = ("healthy", "collapse", "vanishing-gradient", "divergence", "d-too-weak")
COLUMNS = ("collapse", "vanishing-gradient", "divergence", "d-too-weak", "oscillation", "memorisation", "diverged")


def train_one(name: str, seed: int, device: str, probe_every: int) -> dict:
    from gan_studio.core.doctor import DoctorObserver
    from gan_studio.core.train.presets import get_preset
    from gan_studio.core.train.trainer import Diverged, Trainer

    label, preset, over, ramp = RUNS[name]
    cfg = get_preset(preset).config.replace(device=device, seed=seed, **over)
    steps = min(cfg.steps, 4000)
    tr = Trainer(cfg)
    found: dict[str, int] = {}
    obs = tr.add_observer(DoctorObserver(probe_every=probe_every,
                                         on_finding=lambda f: found.setdefault(f.name, f.iteration)))
    nan_at = None
    t0 = time.perf_counter()
    tr.notify_run("on_run_start")
    try:
        while tr.iteration < steps:
            if ramp and tr.iteration >= ramp[0] and tr.iteration % ramp[1] == 0:
                tr.submit(lr_d=min(10.0, tr.lr_d * ramp[2]), lr_g=min(10.0, tr.lr_g * ramp[2]))
            tr.step()
    except Diverged:
        nan_at = tr.iteration + 1  # the iteration whose loss was NaN (the trainer went back to the last good one)
    tr.notify_run("on_run_end", "diverged" if nan_at else "finished")
    seconds = time.perf_counter() - t0
    kinds = {KIND[n] for n in found}
    if label == "healthy":
        detected, first = not found, None
    elif label == "divergence":
        first = found.get("divergence-ahead")
        detected = first is not None and nan_at is not None and first < nan_at
    else:
        hits = [it for n, it in found.items() if KIND[n] == label]
        first = min(hits) if hits else None
        detected = first is not None
    order = sorted(found.items(), key=lambda kv: (kv[1], list(KIND).index(kv[0])))
    return {"run": name, "label": label, "seed": seed, "iterations": tr.iteration, "nan_at": nan_at,
            "findings": dict(order), "first_finding": KIND[order[0][0]] if order else "healthy",
            "detected": detected, "first_correct": first,
            "lead": (nan_at - first) if label == "divergence" and detected else None,
            "kinds": sorted(kinds), "seconds": round(seconds, 1), "it_per_s": round(tr.iteration / seconds, 1),
            "verdict": obs.doctor.report()["verdict"]}


def summarise(results: list[dict], seeds: list[int]) -> dict:
    confusion = {lab: {c: 0 for c in ("none",) + COLUMNS} for lab in LABELS}
    first = {lab: {} for lab in LABELS}
    for r in results:
        row = confusion[r["label"]]
        if not r["kinds"]:
            row["none"] += 1
        for k in r["kinds"]:
            row[k] += 1
        first[r["label"]][r["first_finding"]] = first[r["label"]].get(r["first_finding"], 0) + 1
    per_run = {}
    for name in dict.fromkeys(r["run"] for r in results):
        rs = [r for r in results if r["run"] == name]
        per_run[name] = {"label": rs[0]["label"], "detected": f"{sum(r['detected'] for r in rs)}/{len(rs)}",
                         "first_correct": [r["first_correct"] for r in rs]}
    by_label = {}
    for lab in LABELS:
        rs = [r for r in results if r["label"] == lab]
        if rs:
            its = [r["first_correct"] for r in rs if r["first_correct"] is not None]
            by_label[lab] = {"runs": len(rs), "detected": sum(r["detected"] for r in rs),
                             "first_correct_median": statistics.median(its) if its else None}
    leads = [r["lead"] for r in results if r["lead"] is not None]
    div = [r for r in results if r["label"] == "divergence"]
    false_alarms = [{"run": r["run"], "seed": r["seed"], "findings": r["findings"]}
                    for r in results if r["label"] == "healthy" and r["findings"]]
    done = all(sum(r["detected"] for r in results if r["run"] == n) >= min(2, len(seeds)) for n in per_run) \
        and not false_alarms
    return {"confusion": confusion, "first_finding": first, "per_run": per_run, "by_label": by_label,
            "false_alarms_on_healthy": false_alarms,
            "divergence": {"nan_at": [r["nan_at"] for r in div], "warned_at": [r["first_correct"] for r in div],
                           "lead_iterations": leads},
            "done": done}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[4000, 4001, 4002])
    ap.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--probe-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    results = []
    t0 = time.perf_counter()
    for name in a.runs:
        for seed in a.seeds:
            r = train_one(name, seed, a.device, a.probe_every)
            results.append(r)
            print(f"{name} seed {seed}: {r['findings'] or 'healthy'} (nan at {r['nan_at']}) "
                  f"{'ok' if r['detected'] else 'MISSED'} {r['seconds']}s", file=sys.stderr, flush=True)
    out = {"benchmark": "doctor", "seeds": a.seeds, "tuning_seeds": [0, 1, 2], "device": a.device,
           "probe_every": a.probe_every, "torch": torch.__version__, "seconds": round(time.perf_counter() - t0, 1),
           **summarise(results, a.seeds), "runs": results}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
