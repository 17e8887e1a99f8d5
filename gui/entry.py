"""The ``glose`` console script: headless commands go to models.cli without importing Qt;
no command (or ``demo``) opens the app."""

from __future__ import annotations

import sys

GUI_COMMANDS = {"demo"}
VALUE_OPTIONS = {"--db", "--annotator", "--project"}


def _command(args: list[str]) -> str | None:
    """The first positional argument, skipping the values of the global options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    first = _command(args)
    from models import cli

    if first in cli.COMMANDS and first not in GUI_COMMANDS:
        return cli.main(args)
    from gui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
