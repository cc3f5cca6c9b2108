"""Pictures out of a run, for slides and papers: :mod:`.render` (RGB frames of points, fields and image grids),
:mod:`.gif` (the GIF of a training run, recorded as it trains), :mod:`.slides` (GIFs of a recorded run and of a
latent walk, with progress and cancel, written atomically; the generator's file), :mod:`.figure1` (the paper's
Figure 1 from a run). Above ``record``: they read run folders, never write them."""
