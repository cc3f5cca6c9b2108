"""The GAN doctor: each rule on synthetic statistics (no training), the healthy verdict, findings as data,
the trainer's gradient norms, and the command line on real run folders (finished, still being written, bad)."""
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, run_cli
from gan_studio.core.doctor import RULES, Doctor, Finding, verdict
from gan_studio.core.doctor.checks import CHECKS
from gan_studio.core.doctor.remedies import resolve_remedies
from gan_studio.core.doctor.rules import SEVERITIES, rule
from gan_studio.core.protocol import STAT_COLUMNS
from gan_studio.core.train.config import LIVE_KEYS

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def stats(n, start=1, *, d_real=0.55, d_fake=0.45, d_loss=1.3, g_loss=0.8, g_grad=1.0, d_grad=1.0, lr_d=1e-3,
          lr_g=1e-3, k=1, noise=0.02, seed=0):
    """n synthetic statistics rows (STAT_COLUMNS); each value a number or a function of the iteration."""
    it = np.arange(start, start + n, dtype=np.float64)
    rng = np.random.default_rng(seed)

    def v(x, rel=True):
        base = x(it) if callable(x) else np.full(n, float(x))
        return base * (1 + noise * rng.standard_normal(n)) if rel else base + noise * rng.standard_normal(n)

    cols = {"iteration": it, "d_loss": v(d_loss), "g_loss": v(g_loss), "d_real": np.clip(v(d_real, False), 0, 1),
            "d_fake": np.clip(v(d_fake, False), 0, 1), "seconds": np.full(n, 0.003), "d_steps": np.full(n, k),
            "g_steps": np.ones(n), "lr_d": np.full(n, lr_d), "lr_g": np.full(n, lr_g), "batch_size": np.full(n, 256),
            "g_grad_norm": v(g_grad), "d_grad_norm": v(d_grad)}
    return np.stack([cols[c] for c in STAT_COLUMNS], 1)


def probe_points(it, eff=7.9, n=8, hq=0.9, js=0.08, spread=1.0, main=0):
    share = [1.0 / n] * n if eff > n / 2 else [1.0 if i == main else 0.0 for i in range(n)]
    return {"iteration": it, "effective_modes": eff, "n_modes": n, "modes_covered": round(min(n, eff)),
            "high_quality": hq, "js": js, "spread": spread, "mode_share": share}


def run_doctor(rows, config=None, kind="points", probes=None, chunk=None):
    doc = Doctor(config or {}, kind=kind)
    for p in probes or []:
        doc.feed_metrics(p)
    if chunk is None:
        doc.feed(rows)
    else:
        for i in range(0, len(rows), chunk):
            doc.feed(rows[i:i + chunk])
    doc.flush()
    return doc


def found(doc, name):
    names(doc)
    return next(f for f in doc.problems() if f.name == name)


def names(doc):
    for f in doc.findings():  # every sentence is filled in from its evidence
        assert "{" not in f.sentence, f.sentence
    return [f.name for f in doc.problems()]


# ------------------------------------------------------------------------------------------ each rule
def test_healthy_run_is_said_plainly_with_its_evidence():
    probes = [probe_points(i) for i in range(100, 3001, 100)]
    doc = run_doctor(stats(3000), probes=probes)
    assert names(doc) == [] and doc.healthy
    (f,) = doc.findings()
    assert f.name == "healthy" and f.severity == "ok" and f.remedies == []
    assert "D(x) = 0.55 and D(G(z)) = 0.45" in f.sentence and "8 of 8 modes" in f.sentence
    v = verdict(doc.findings(), doc.iteration)
    assert v.startswith("Healthy at iteration 3,000.") and "Nothing needs changing" in v
    assert doc.report()["healthy"] is True


def test_too_early_to_tell():
    doc = run_doctor(stats(120))
    assert doc.findings() == [] and "Too early to tell" in verdict([], 120)


def test_vanishing_gradient_with_the_minimax_loss():
    doc = run_doctor(stats(1500, d_real=0.93, d_fake=0.06, g_loss=-0.06), {"loss": "minimax", "k": 10})
    f = found(doc, "vanishing-gradient")
    assert "log(1 − D(G(z))) is flat here" in f.sentence and "non-saturating loss keeps pushing" in f.sentence
    assert f.evidence["d_real"] > 0.9 and f.evidence["d_fake"] < 0.1 and f.evidence["iterations"][1] >= f.iteration
    assert f.iteration <= 500
    changes = [r["change"] for r in f.remedies]
    assert changes[0] == {"loss": "nonsaturating"} and {"lr_d": 0.0001} in changes and {"k": 1} in changes


def test_vanishing_gradient_under_the_nonsaturating_loss_needs_g_gradient_to_collapse():
    d = dict(d_real=0.93, d_fake=0.06)
    assert "vanishing-gradient" not in names(run_doctor(stats(1500, **d)))  # G still gets its gradient
    collapsing = stats(1500, g_grad=lambda it: np.where(it < 300, 5.0, 0.05), **d)
    f = found(run_doctor(collapsing), "vanishing-gradient")
    assert "below its peak" in f.sentence and f.evidence["g_drop"] >= 10
    assert {"loss": "nonsaturating"} not in [r["change"] for r in f.remedies]  # already the run's loss


def test_d_wins():
    doc = run_doctor(stats(2500, d_real=0.985, d_fake=0.015, noise=0.003))
    f = found(doc, "d-wins")
    assert "over iterations" in f.sentence and f.remedies[0]["change"] == {"lr_d": 0.0001}


def test_mode_collapse_on_toy_data_and_remedies_that_fit_the_model():
    probes = [probe_points(i, eff=1.1, hq=0.5, js=0.6, spread=0.05) for i in range(100, 2001, 100)]
    doc = run_doctor(stats(2000, d_real=0.65, d_fake=0.33), probes=probes)
    f = found(doc, "mode-collapse")
    assert "1.1 of the 8 modes" in f.sentence and f.evidence["n_modes"] == 8
    assert [r["change"] for r in f.remedies] == [{"unroll": 5}, {"pack": 4}, {"mbstd": True}]
    dc = run_doctor(stats(3000, d_real=0.65, d_fake=0.33), {"model": "dcgan", "dataset": "digits"}, "images",
                    [{"iteration": i, "class_coverage": 2, "n_classes": 10, "top_class": 3, "spread": 0.1,
                      "distinct_share": 0.02} for i in range(100, 3001, 100)])
    f = found(dc, "mode-collapse")
    assert "only 2 of the 10 classes" in f.sentence
    assert [r["change"] for r in f.remedies] == [{"unroll": 5}]  # packing and mbstd are built into the mlp only


def test_image_collapse_waits_for_the_warm_up():
    early = [{"iteration": i, "class_coverage": 1, "n_classes": 10, "top_class": 0} for i in range(100, 1501, 100)]
    assert run_doctor(stats(1500), {"dataset": "digits"}, "images", early).problems() == []
    # one class after another while G finds its feet, then many classes: no hopping, at the warm-up or after
    hops = [{"iteration": i, "class_coverage": 2, "n_classes": 10, "top_class": i // 200 % 10, "top_class_share": 0.9}
            for i in range(100, 2001, 100)]
    later = [{"iteration": i, "class_coverage": 9, "n_classes": 10, "top_class": i // 100 % 10, "top_class_share": 0.2}
             for i in range(2100, 3001, 100)]
    assert names(run_doctor(stats(3000), {"dataset": "digits"}, "images", hops + later)) == []
    still = [dict(p, iteration=p["iteration"] + 2000) for p in hops[:-1]]  # the same hopping after the warm-up
    assert "mode-hopping" in names(run_doctor(stats(4000), {"dataset": "digits"}, "images", later[:1] + still))


def test_mode_hopping():
    probes = [probe_points(i, eff=1.05, hq=0.4, js=0.6, spread=0.05, main=(i // 200) % 8) for i in range(100, 2001, 100)]
    doc = run_doctor(stats(2000, d_real=0.65, d_fake=0.33), probes=probes)
    f = found(doc, "mode-hopping")
    assert f.evidence["moves"] >= 2 and f.evidence["union"] >= 3 and "keeps changing" in f.sentence


def test_oscillation_and_no_alarm_for_noise_around_equilibrium():
    wave = stats(6000, d_fake=lambda it: 0.45 + 0.25 * np.sin(2 * np.pi * it / 700),
                 d_real=lambda it: 0.55 + 0.2 * np.sin(2 * np.pi * it / 700 + 1))
    f = found(run_doctor(wave), "oscillation")
    assert f.evidence["cycles"] >= 5 and f.evidence["hi"] - f.evidence["lo"] > 0.3
    assert f.remedies[0]["change"] == {"lr_d": 0.0005, "lr_g": 0.0005}
    assert "oscillation" not in names(run_doctor(stats(6000, noise=0.08)))
    trend = stats(6000, d_fake=lambda it: 0.1 + 0.35 * it / 6000)  # moving towards ½ is convergence
    assert "oscillation" not in names(run_doctor(trend))


def test_divergence_ahead_on_a_loss_spike_before_the_nan():
    rows = stats(1200, d_loss=lambda it: np.where(it < 1000, 1.3, 1.3 * 2.0 ** ((it - 999) / 5)))
    doc = Doctor()
    seen = None
    for r in rows:
        doc.feed_row(r)
        if seen is None and any(f.name == "divergence-ahead" for f in doc.new_findings()):
            seen = int(r[0])
    assert seen is not None and 1000 < seen < 1030  # about 12 iterations of growth (5×): well before any NaN
    f = found(doc, "divergence-ahead")
    assert f.severity == "critical" and f.evidence["factor"] >= 5
    assert f.remedies[0]["change"] == {"lr_d": 0.0001, "lr_g": 0.0001}
    doc.note_diverged(1201, "D loss = nan")
    assert doc.problems()[0].name in ("diverged", "divergence-ahead")
    assert any(f.name == "diverged" and "1201" in f.sentence for f in doc.problems())


def test_divergence_ahead_for_unbounded_losses_and_slow_growth():
    spiky = stats(1000, g_grad=lambda it: np.where(it > 900, 80.0, 1.0), d_grad=lambda it: np.where(it > 900, 60.0, 1.0))
    assert "divergence-ahead" in names(run_doctor(spiky, {"loss": "wgan-gp"}))
    one_row = stats(1000, g_grad=lambda it: np.where(it == 901, 80.0, 1.0), d_grad=lambda it: np.where(it == 901, 60.0, 1.0))
    assert "divergence-ahead" not in names(run_doctor(one_row, {"loss": "wgan-gp"}))
    drift = stats(2000, d_grad=lambda it: 10 ** (it / 250.0))  # ×10 every 250 iterations
    f = found(run_doctor(drift, {"loss": "hinge"}), "divergence-ahead")
    assert "D's gradient norm" in f.sentence


def test_d_too_weak():
    probes = [probe_points(i, eff=1.0, hq=0.0, js=0.69, spread=0.0) for i in range(100, 2001, 100)]
    doc = run_doctor(stats(2000, d_real=0.49, d_fake=0.485, noise=0.005, lr_d=1e-5), {"lr_d": 1e-5, "lr_g": 1e-3},
                     probes=probes)
    f = found(doc, "d-too-weak")
    assert "cannot tell real from fake" in f.sentence and f.evidence["lr_ratio"] == 0.01
    assert f.remedies[0]["change"] == {"lr_d": 0.001}
    healthy_start = [probe_points(i, hq=0.1, js=0.5) for i in range(100, 2001, 100)]  # still learning, D ahead
    assert "d-too-weak" not in names(run_doctor(stats(2000, d_real=0.56, d_fake=0.44), probes=healthy_start))


def test_memorisation():
    probes = [{"iteration": i, "copy_share": 0.8, "nn_ratio": 0.3, "distinct_share": 0.9, "class_coverage": 10,
               "n_classes": 10, "top_class": i // 100 % 10} for i in range(100, 3001, 100)]
    doc = run_doctor(stats(3000), {"dataset": "digits"}, "images", probes)
    f = found(doc, "memorisation")
    assert "80% of samples are closer to a training image" in f.sentence and f.evidence["nn_ratio"] == 0.3


# ------------------------------------------------------------------------------------------ the engine as data
def test_the_rule_table():
    assert len({r.name for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.severity in SEVERITIES and r.reasoning and r.sentence
        assert r.name in CHECKS or r.name in ("diverged", "healthy")
        if r.severity != "ok":
            assert r.remedies, r.name
        for rem in r.remedies:
            assert set(rem.change) <= set(LIVE_KEYS) and rem.why


def test_remedies_are_concrete_and_fit_the_run():
    van = rule("vanishing-gradient")
    got = [r["change"] for r in resolve_remedies(van, {"loss": "minimax", "lr_d": 0.05, "k": 10, "update": "alternating",
                                                       "model": "mlp", "lr_g": 0.02})]
    assert got == [{"loss": "nonsaturating"}, {"lr_d": 0.005}, {"k": 1}]
    got = [r["change"] for r in resolve_remedies(van, {"loss": "nonsaturating", "lr_d": 0.05, "k": 1})]
    assert got == [{"lr_d": 0.005}]  # nothing that is already so
    weak = [r["change"] for r in resolve_remedies(rule("d-too-weak"), {"lr_d": 1e-5, "lr_g": 1e-3, "k": 1, "g_steps": 20})]
    assert weak == [{"lr_d": 0.001}, {"g_steps": 1}, {"k": 5}]


def test_finding_round_trips_and_refuses_junk():
    doc = run_doctor(stats(1500, d_real=0.93, d_fake=0.06), {"loss": "minimax"})
    f = doc.problems()[0]
    d = json.loads(json.dumps(f.to_dict()))
    g = Finding.from_dict(d)
    assert g.to_dict() == f.to_dict()
    for bad in ([], {"name": "x"}, dict(d, severity="dire"), dict(d, remedies=[{"why": "no change"}]),
                dict(d, iteration=-3), dict(d, sentence=5)):
        with pytest.raises(ValueError):
            Finding.from_dict(bad)


def test_streaming_gives_the_same_findings_however_the_rows_come():
    probes = [probe_points(i, eff=1.2, hq=0.3, js=0.6, spread=0.04, main=(i // 300) % 8) for i in range(100, 2501, 100)]
    rows = stats(2500, d_real=0.65, d_fake=0.33)
    whole = run_doctor(rows, probes=probes)
    chunked = run_doctor(rows, probes=probes, chunk=37)
    one = Doctor({})
    for r in rows:
        one.feed_row(r)
        if r[0] % 100 == 0:
            one.feed_metrics(probes[int(r[0]) // 100 - 1])
    one.flush()
    a, b, c = ([f.to_dict() for f in d.findings()] for d in (whole, chunked, one))
    assert a == b and [f["name"] for f in a] == [f["name"] for f in c] and a


def test_new_findings_are_reported_once():
    doc = Doctor({"loss": "minimax"})
    doc.feed(stats(1000, d_real=0.93, d_fake=0.06))
    first = doc.new_findings()
    doc.feed(stats(1000, start=1001, d_real=0.93, d_fake=0.06))
    assert [f.name for f in first] == ["vanishing-gradient"] and doc.new_findings() == []


def test_findings_clear_and_the_verdict_says_so():
    rows = np.concatenate([stats(1000, d_real=0.93, d_fake=0.06), stats(1500, start=1001)])
    doc = run_doctor(rows, {"loss": "minimax"})
    f = found(doc, "vanishing-gradient")
    assert not f.active and f.until is not None and f.until > f.since
    v = verdict(doc.findings(), doc.iteration)
    assert "No problem holds" in v and "Earlier: Vanishing gradient for G" in v


# ------------------------------------------------------------------------------------------ the trainer
def test_trainer_reports_gradient_norms():
    import torch

    from gan_studio.core.train.config import TrainConfig
    from gan_studio.core.train.trainer import Trainer

    tr = Trainer(TrainConfig(device="cpu", steps=5, batch_size=32))
    s = tr.step()
    assert s.g_grad_norm > 0 and s.d_grad_norm > 0 and math.isfinite(s.g_grad_norm + s.d_grad_norm)
    s = tr.step(d_steps=1, g_steps=0)
    assert math.isnan(s.g_grad_norm) and s.d_grad_norm > 0
    total = math.sqrt(sum(float(p.grad.norm()) ** 2 for p in tr.D.parameters() if p.grad is not None))
    assert s.d_grad_norm == pytest.approx(total, rel=1e-5)
    before = [p.grad.clone() for p in tr.D.parameters()]
    s = tr.step(d_steps=0, g_steps=1)  # G's step back-propagates into G only: D's gradients are left alone
    assert math.isnan(s.d_grad_norm) and all(torch.equal(p.grad, b) for p, b in zip(tr.D.parameters(), before))
    total = math.sqrt(sum(float(p.grad.norm()) ** 2 for p in tr.G.parameters()))
    assert s.g_grad_norm == pytest.approx(total, rel=1e-5)


def test_doctor_observer_feeds_probes_and_writes_events(tmp_path):
    from gan_studio.core.doctor import DoctorObserver
    from gan_studio.core.train.config import TrainConfig
    from gan_studio.core.train.trainer import Trainer

    class Writer:
        notes = []

        def note(self, trainer, event, **data):
            self.notes.append({"iteration": trainer.iteration, "event": event, **data})

    tr = Trainer(TrainConfig(device="cpu", steps=200, batch_size=64))
    said = []
    obs = tr.add_observer(DoctorObserver(writer=Writer(), on_finding=said.append, probe_every=50))
    tr.run(200)
    assert obs.doctor.iteration == 200 and [p["iteration"] for p in obs.doctor.probes] == [50, 100, 150]
    assert obs.doctor.probes[-1]["n_modes"] == 8 and obs.errors == []
    obs.doctor._raise(rule("diverged"), {"nan_iteration": 201, "iterations": [201, 201]}, 201)
    obs._report(tr)
    assert said[-1].name == "diverged" and Writer.notes[-1]["event"] == "finding"
    assert Writer.notes[-1]["name"] == "diverged"


# ------------------------------------------------------------------------------------------ the command line
def test_doctor_cli_on_a_finished_run_and_recorded_findings(tmp_path):
    out = tmp_path / "run"
    run_cli("train", "--preset", "ring8", "--steps", "900", "--out", out, "--quiet", check=True, env=ONE_THREAD)
    p = run_cli("doctor", out, env=ONE_THREAD)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "(finished)" in p.stdout and "Healthy" in p.stdout
    p = run_cli("doctor", out, "--json", env=ONE_THREAD)
    rep = json.loads(p.stdout)
    assert p.returncode == 0 and rep["healthy"] and rep["finished"] and rep["iteration"] == 900
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all("g_grad_norm" in x and "d_grad_norm" in x for x in lines if "event" not in x)
    # a finding recorded during training (e.g. from sample metrics the folder does not keep), and a damaged line
    doc = run_doctor(stats(1500, d_real=0.93, d_fake=0.06), {"loss": "minimax"})
    rec = {"iteration": 450, "event": "finding", **doc.problems()[0].to_dict()}
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n" + '{"iteration": 901, "event": "finding", "name": 3}\n')
    p = run_cli("doctor", out, env=ONE_THREAD)
    assert p.returncode == 1 and "Vanishing gradient for G" in p.stdout and "reported during training" in p.stdout


@pytest.mark.slow
def test_train_says_each_finding_once_and_quiet_stays_quiet(tmp_path):
    args = ("train", "--preset", "ring8-collapse", "--steps", "900", "--log-every", "10")
    p = run_cli(*args, "--out", tmp_path / "a", env=ONE_THREAD, check=True)
    said = [ln for ln in p.stderr.splitlines() if ln.startswith("doctor: ")]
    assert any("Mode collapse" in ln for ln in said) and len(said) == len(set(said))
    assert "mode-collapse" in json.loads(p.stdout.strip().splitlines()[-1])["doctor"]
    events = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines() if '"finding"' in x]
    assert {e["name"] for e in events} >= {"mode-collapse"} and all(e["event"] == "finding" for e in events)
    q = run_cli(*args, "--out", tmp_path / "b", "--quiet", env=ONE_THREAD, check=True)
    assert "doctor:" not in q.stderr
    d = run_cli("doctor", tmp_path / "a", "--json", env=ONE_THREAD)
    assert d.returncode == 1 and "mode-collapse" in [f["name"] for f in json.loads(d.stdout)["findings"]]


@pytest.mark.slow
def test_doctor_follows_a_run_still_being_written(tmp_path):
    out = tmp_path / "live"
    env = dict(os.environ, **ONE_THREAD)
    train = subprocess.Popen([sys.executable, "-m", "gan_studio", "train", "--preset", "ring8", "--steps", "800",
                              "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=REPO)
    try:
        t0 = time.monotonic()
        while not (out / "metrics.jsonl").is_file() and time.monotonic() - t0 < 60:
            time.sleep(0.1)
        before = None  # one look, once the writer has logged its first iteration
        while before is None and time.monotonic() - t0 < 120:
            look = run_cli("doctor", out, "--json", env=ONE_THREAD)
            if look.returncode in (0, 1) and look.stdout.strip():
                before = json.loads(look.stdout)["iteration"]
            else:
                time.sleep(0.2)
        assert before is not None, look.stderr
        p = run_cli("doctor", out, "--follow", "--timeout", "20", "--interval", "0.2", "--json", env=ONE_THREAD)
        assert p.returncode in (0, 1), p.stderr
        rep = json.loads(p.stdout)
        # following read what the writer added after that look: to the end (the writer closed the run within
        # the timeout), or as far as it had got when the timeout stopped it
        assert rep["iteration"] > before or rep["iteration"] == before == 800, (before, rep["iteration"])
        assert rep["finished"] == (rep["iteration"] == 800)
        assert train.wait(timeout=120) == 0, train.stderr.read()
        p = run_cli("doctor", out, "--follow", "--timeout", "20", env=ONE_THREAD)  # already finished: returns at once
        assert p.returncode == 0 and "(finished)" in p.stdout and "iteration 800" in p.stdout
    finally:
        if train.poll() is None:
            train.kill()
            train.wait()


@pytest.mark.parametrize("case", ["missing", "file", "not-a-run"])
def test_doctor_cli_bad_inputs_one_line_exit_2(tmp_path, case):
    target = tmp_path / "nothing"
    if case == "file":
        target.write_text("hello")
    elif case == "not-a-run":
        target.mkdir()
        (target / "metrics.jsonl").write_text("{}\n")
    p = run_cli("doctor", target)
    assert p.returncode == 2 and p.stdout == ""
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gan-studio doctor: error:"), p.stderr


def test_no_healthy_verdict_before_the_modes_could_be_judged():
    # ring8-collapse at iteration 300-700: G has found no mode yet, the collapse check is still warming up;
    # the doctor must say "too early", not "healthy … 0 of 8 modes covered"
    early = [probe_points(i, eff=0.0, hq=0.0, js=2.0) for i in range(100, 701, 100)]
    doc = run_doctor(stats(700), probes=early)
    assert not any(f.name == "healthy" for f in doc.findings())
    doc = run_doctor(stats(1200), probes=[probe_points(i) for i in range(100, 1201, 100)])
    assert [f.name for f in doc.findings() if f.active] == ["healthy"]
