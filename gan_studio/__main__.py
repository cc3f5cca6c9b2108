"""Entry point: ``gan-studio`` (the studio window) and ``gan-studio COMMAND`` (the command line)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .cli import run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
