"""How a command ends when something goes wrong: the one place that maps errors to exit statuses.

Every failure a user can cause (bad arguments, missing files, unknown names, corrupt checkpoints) ends
with one clear line on stderr and a non-zero exit status, never a traceback:

- GanStudioError (UserError, ConfigError, CheckpointError, ...): ``gan-studio CMD: error: MESSAGE``, 2
- KeyboardInterrupt: ``gan-studio CMD: interrupted``, 130
- MemoryError: ``gan-studio CMD: error: out of memory (...)``, 1
- OSError: ``gan-studio CMD: error: STRERROR: FILENAME``, 1

A diverged ``train`` returns 3 itself (it still writes its checkpoint and report).
"""
from __future__ import annotations

import sys
from typing import Callable

from ..core.errors import GanStudioError  # torch-free

EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class UserError(GanStudioError):
    """An error caused by the user's input: printed as one line, exit status 2."""


def run_guarded(prog: str, fn: Callable[..., int], *args) -> int:
    """``fn(*args)``, with every error a user can cause turned into one line on stderr and an exit status.
    ``prog`` names the command in the message (``gan-studio train``, or ``gan-studio`` for the window)."""
    try:
        return fn(*args)
    except GanStudioError as exc:  # UserError, ConfigError, CheckpointError, RunFolderError, ...
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"{prog}: error: out of memory (try a smaller --batch-size or --n)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{prog}: error: {exc.strerror or exc}"
              f"{': ' + str(exc.filename) if getattr(exc, 'filename', None) else ''}", file=sys.stderr)
        return 1
