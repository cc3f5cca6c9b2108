"""Live runs: the run handles (a training thread or a training process) and the views they compute for the panels."""
