"""The feature extractors image scores can use, declared once (torch- and numpy-free: ``--help`` reads it).
The extractors themselves: :mod:`.fidelity`."""
from __future__ import annotations

#: the feature extractors a user can choose (``--features``)
FEATURES = {
    "classifier": "the dataset's own evaluation classifier (128-d penultimate layer; offline)",
    "inception": "Inception-v3, 2048-d pool features (the field's standard; needs its weights file)",
}
#: where the user puts the Inception weights (a .pth state dict, as torch-fidelity publishes it)
INCEPTION_ENV = "GAN_STUDIO_INCEPTION_WEIGHTS"
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
