"""Entry point of the PyInstaller bundle (the same as the `gan-studio` console script)."""
import multiprocessing
import sys

from gan_studio.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the studio trains in a spawned child process
    sys.exit(main())
