"""The project's user-facing errors: one base type, so the command line and the studio can tell "the user's
input or file is wrong" (one line, exit 2, a banner) from a bug (a traceback worth reporting)."""
from __future__ import annotations


class GanStudioError(Exception):
    """Base of every error whose message is meant for the user."""


class ConfigError(GanStudioError, ValueError):
    """A setting, a file or an input has a value that cannot be used; the message says which and why."""


class CheckpointError(ConfigError):
    """A checkpoint (or another file the project writes or reads) cannot be read, written or used."""
