"""The ``faceshot`` command line.

One entry point with argparse subcommands (diffusers-cli style). Every module in
:mod:`faceshot.commands` that defines ``register(subparsers)`` contributes one or more
subcommands; modules are discovered, so adding a command touches no shared file.

Start-up stays fast: command modules import heavy libraries (torch, diffusers, dlib)
inside their handlers only, so ``faceshot --help`` imports none of them.

Errors: any exception raised by a handler is printed as one line
``faceshot <command>: error: <message>`` on stderr with exit status 1 (2 for usage
errors, 130 for Ctrl-C); set ``FACESHOT_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from faceshot import __version__

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int | None]


def _command_modules() -> list[str]:
    import faceshot.commands as pkg

    return sorted(
        f"{pkg.__name__}.{info.name}"
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``faceshot`` parser (every discovered subcommand)."""
    parser = argparse.ArgumentParser(
        prog="faceshot",
        description="Bring any character to life from any driving video, without training.",
    )
    parser.add_argument("--version", action="version", version=f"faceshot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    # OSError's str() may be "[Errno 2] No such file or directory: 'x'"; keep it on one line.
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        status = handler(args)
    except KeyboardInterrupt:
        print(f"faceshot {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("FACESHOT_DEBUG"):
            raise
        print(f"faceshot {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
