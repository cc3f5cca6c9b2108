"""One module per panel. Each panel says which views it needs and whether it applies to the data."""
from .dhist import DHistPanel
from .evaluation import EvaluationPanel
from .field import FieldPanel
from .latent import LatentPanel
from .losses import LossesPanel
from .samples import SamplesPanel

__all__ = ["SamplesPanel", "LossesPanel", "DHistPanel", "LatentPanel", "FieldPanel", "EvaluationPanel"]
