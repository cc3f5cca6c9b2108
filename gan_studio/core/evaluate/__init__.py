"""Evaluation: the Parzen-window estimate, mode metrics, theory (D*, divergences), image scores, the paper's reproduction."""
