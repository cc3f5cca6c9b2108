"""The doctor's rules as data: one row per finding, with its window, thresholds, sentence and remedies.

The checks themselves (``checks.CHECKS``) read their numbers from here only, so tuning a rule means editing
one row of :data:`RULES`. The README's "The GAN doctor" section explains each row.

* ``window``: how many iterations of statistics the check looks at;
* ``persist``: for how many iterations the condition must keep holding before it is reported (so one bad
  minibatch is no finding);
* ``warmup``: no report before this iteration (the first iterations of every GAN look odd);
* ``thresholds``: the numbers the check compares with (named, so the sentence can quote them);
* ``sentence``: the plain-language finding, formatted with the evidence (``{d_real:.2f}`` ...);
* ``remedies``: live changes (:data:`~gan_studio.core.train.config.LIVE_KEYS`) that address it. A value may
  name the current setting: ``"lr_d/10"``, ``"lr_g"``, ``"k*5"``. A remedy that changes nothing, or that
  this run cannot take (e.g. packing on a convolutional D), is left out of the finding.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: From least to most pressing. "ok" is the healthy finding; "critical" means the run is about to be lost.
SEVERITIES = ("ok", "info", "warning", "critical")


@dataclass(frozen=True)
class Remedy:
    change: dict  # live settings → values (or expressions of the current settings)
    why: str  # one clause: what the change does about the problem


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    severity: str
    applies: str  # "any", "sigmoid" (D outputs a probability), "minimax", "points", "mixture", "images"
    window: int
    persist: int
    warmup: int
    thresholds: dict = field(default_factory=dict)
    sentence: str = ""
    remedies: tuple = ()
    reasoning: str = ""  # why the rule is what it is (the README's table)


_LOWER_LRS = Remedy({"lr_d": "lr_d/10", "lr_g": "lr_g/10"}, "smaller steps keep the updates inside the region "
                    "where the gradient still describes the loss")

RULES: tuple[Rule, ...] = (
    Rule(
        name="diverged", title="Diverged", severity="critical", applies="any", window=0, persist=0, warmup=0,
        sentence="Training diverged at iteration {nan_iteration}: a loss or D's output became NaN or infinite. "
                 "The weights were put back to the last finite ones.",
        remedies=(_LOWER_LRS,),
        reasoning="Reported by the trainer itself (non-finite loss); the doctor only says what to do next."),
    Rule(
        name="divergence-ahead", title="Divergence ahead", severity="critical", applies="any",
        window=2000, persist=0, warmup=0,
        thresholds={"loss_spike": 5.0, "grad_spike": 10.0, "grad_spike_rows": 2, "trend_factor": 100.0,
                    "trend_reference": 500},
        sentence="Divergence ahead: {what} jumped to {factor:.3g}× {their} recent level (from about {base:.3g} to "
                 "{now:.3g}) at iteration {at}. Jumps like this come before a NaN when the steps are too large.",
        remedies=(_LOWER_LRS,),
        reasoning="Before a NaN the losses (sigmoid losses) or both gradient norms (other losses) jump far above "
                  "their recent level (the median of the last 500 iterations, and for sigmoid losses never less "
                  "than their value at the equilibrium, log 4 + log 2: a D that wins outright has losses near 0, "
                  "and a rise from there is no divergence), first briefly, then for good; healthy runs stayed "
                  "within 4× on every row. Growth of a gradient norm or the losses to 100× their median over the "
                  "window (slow drift; healthy runs: at most 5×) counts too, once 500 iterations of reference "
                  "exist. The fast check runs on every statistics row, not per window."),
    Rule(
        name="vanishing-gradient", title="Vanishing gradient for G", severity="warning", applies="sigmoid",
        window=300, persist=200, warmup=100,
        thresholds={"d_real_min": 0.8, "d_fake_max": 0.15, "g_grad_drop": 10.0},
        sentence="D wins and G's gradient vanishes: D(x) = {d_real:.2f}, D(G(z)) = {d_fake:.3f}; {detail}.",
        remedies=(Remedy({"loss": "nonsaturating"}, "G maximises log D(G(z)), whose gradient is largest exactly "
                         "where D rejects the samples"),
                  Remedy({"lr_d": "lr_d/10"}, "a slower D leaves G something to learn from"),
                  Remedy({"k": 1}, "fewer D steps per G step")),
        reasoning="The paper (§3): early on D rejects samples with high confidence and log(1 − D(G(z))) "
                  "saturates: per sample its gradient is D(G(z)) where the non-saturating loss's is 1 − D(G(z)), "
                  "so at D(G(z)) ≤ 0.15 G learns ≥ 5.7× slower than it could. Under other sigmoid losses the "
                  "same D outputs need G's gradient norm to have fallen 10× below its peak as well."),
    Rule(
        name="d-wins", title="D wins", severity="warning", applies="sigmoid", window=1000, persist=500, warmup=500,
        thresholds={"d_real_min": 0.95, "d_fake_max": 0.05},
        sentence="D wins: it tells real from fake almost perfectly over iterations {first}–{last} (D(x) = "
                 "{d_real:.2f}, D(G(z)) = {d_fake:.3f}); G is not catching up.",
        remedies=(Remedy({"lr_d": "lr_d/10"}, "a slower D"), Remedy({"k": 1}, "fewer D steps per G step")),
        reasoning="At the equilibrium D(x) = D(G(z)) = ½. A healthy digits run spends ~800 iterations at "
                  "D(G(z)) ≈ 0.08–0.1 before G catches up, so only a D this far ahead for this long is a finding."),
    Rule(
        name="d-too-weak", title="D too weak", severity="warning", applies="sigmoid", window=500, persist=500,
        warmup=500,
        thresholds={"gap_max": 0.04, "js_min": 0.5, "quality_max": 0.2, "nn_ratio_min": 2.5},
        sentence="D too weak: it cannot tell real from fake (D(x) = {d_real:.2f}, D(G(z)) = {d_fake:.2f}) although "
                 "{detail}. G gets no useful signal; D needs to learn faster (lr_D = {lr_ratio:.3g} × lr_G, {k} D "
                 "step(s) for every {g_steps} G step(s)).",
        remedies=(Remedy({"lr_d": "lr_g"}, "D learns as fast as G"),
                  Remedy({"g_steps": 1}, "one G step per D step, as in Algorithm 1"),
                  Remedy({"k": 5}, "five D steps per G step")),
        reasoning="D(x) ≈ D(G(z)) is the equilibrium only if the samples match the data; with samples far from "
                  "it (toy: histogram JS or few samples within 3σ of a mode; images: samples far from every "
                  "training image) it means D has not learned."),
    Rule(
        name="mode-collapse", title="Mode collapse", severity="warning", applies="samples", window=1000,
        persist=500, warmup=800,
        thresholds={"modes_max": 0.5, "classes_max": 0.3, "spread_max": 0.05, "warmup_images": 2000},
        sentence="Mode collapse for {span} iterations: {detail}. G has settled on a few outputs and D's gradient "
                 "no longer moves it to the others.",
        remedies=(Remedy({"unroll": 5}, "G is judged by the D that five more D steps would give, so it cannot "
                         "win by sitting on one mode (Metz et al. 2016)"),
                  Remedy({"pack": 4}, "D sees four samples at once and spots a batch without variety (PacGAN)"),
                  Remedy({"mbstd": True}, "D sees the batch's spread (minibatch standard deviation)")),
        reasoning="Toy mixtures: the effective number of modes the samples fall nearest to (exp of the entropy "
                  "of the shares), so a clump next to a mode counts even when it misses the mode's 3σ disc. "
                  "Images: near-duplicate samples, or few classes among the samples' nearest training images."),
    Rule(
        name="mode-hopping", title="Mode hopping", severity="warning", applies="samples", window=1500, persist=0,
        warmup=800,
        thresholds={"modes_max": 0.6, "moves_min": 2, "union_factor": 2.0, "top_share_min": 0.5,
                    "warmup_images": 2000},
        sentence="Mode hopping: at any moment G covers about {covered:.1f} of {n_modes} modes, but which ones keeps "
                 "changing ({union} different modes and {moves} moves of the main mode over iterations "
                 "{first}–{last}). G chases whatever mode D currently neglects.",
        remedies=(Remedy({"unroll": 5}, "an unrolled D anticipates the next hop"),
                  Remedy({"pack": 4}, "packing lets D penalise the missing variety itself")),
        reasoning="Collapse that moves: the main mode (or class) changes between probes while coverage stays "
                  "low. Needs at least three probes in the window."),
    Rule(
        name="oscillation", title="Oscillation", severity="warning", applies="any", window=3000, persist=1000,
        warmup=2000,
        thresholds={"amplitude_min": 0.25, "cycles_min": 3, "trend_max": 0.5, "relative_amplitude_min": 0.5},
        sentence="No convergence: {series} cycles between {lo:.3g} and {hi:.3g} ({cycles} swings over iterations "
                 "{first}–{last}) with no trend. G and D are circling each other instead of settling.",
        remedies=(Remedy({"lr_d": "lr_d/2", "lr_g": "lr_g/2"}, "smaller steps damp the circling"),),
        reasoning="Simultaneous gradient steps on a two-player game can orbit the equilibrium. Block means of 50 "
                  "iterations remove minibatch noise; what is left must swing widely, several times, without "
                  "a trend, over thousands of iterations."),
    Rule(
        name="memorisation", title="Memorisation", severity="warning", applies="images", window=1000, persist=500,
        warmup=500,
        thresholds={"copy_share_min": 0.5},
        sentence="Memorisation: {copy_share:.0%} of samples are closer to a training image than 90% of held-out "
                 "real images are (10% for real images); the median sample is {nn_ratio:.2f}× as far from its "
                 "nearest training image as a real one. G reproduces its training set.",
        remedies=(Remedy({"lr_d": "lr_d/2"}, "a D that fits the training set less closely rewards copies less"),),
        reasoning="The paper's Figure 2 shows samples beside their nearest training images; here that check is "
                  "a number, calibrated on real images the search leaves out."),
    Rule(
        name="healthy", title="Healthy", severity="ok", applies="any", window=500, persist=0, warmup=800,
        sentence="Healthy: {detail}.",
        reasoning="Said when no rule above holds and the doctor has seen enough iterations, with the numbers "
                  "it looked at; not before the mode-collapse check's warm-up (800), so a run that has not "
                  "found the modes yet is never called healthy."),
)

RULES_BY_NAME = {r.name: r for r in RULES}


def rule(name: str) -> Rule:
    return RULES_BY_NAME[name]
