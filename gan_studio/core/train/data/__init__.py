"""The data a GAN learns from, by kind, next to the trainer rather than inside it:

* :mod:`.points` — low-dimensional points: Gaussian mixtures sampled exactly from their density (``ring8``,
  ``grid25``, ``bimodal1d``), spirals and moons, the user's points file and the drawn points;
* :mod:`.images` — images held in memory as uint8 N×C×H×W (MNIST-like files, CIFAR-10, scikit-learn's
  digits, a folder of images);
* :mod:`.drawing` — a distribution drawn by hand (the studio's drawing mode) and its text form;
* :mod:`.points_io` — reading and writing N×d points files;
* :mod:`.shape` — :class:`DatasetError` and :class:`DataShape` (a checkpoint's data without the data).

Datasets by name: :mod:`gan_studio.core.train.datasets`.
"""
