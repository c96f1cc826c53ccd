"""The ``faceshot`` command line.

One entry point with argparse subcommands (diffusers-cli style). Every module in
:mod:`faceshot.commands` that defines ``register(subparsers)`` contributes one or more
subcommands; modules are discovered, so adding a command touches no shared file.

Start-up stays fast: command modules import heavy libraries (torch, diffusers, dlib)
inside their handlers only, so ``faceshot --help`` imports none of them.

Errors: any exception raised by a handler is printed as one line
``faceshot <command>: error: <message>`` on stderr with exit status 1; usage errors (an
unknown option, a number outside its documented range) are one line too, with status 2.
Set ``FACESHOT_DEBUG=1`` to get the traceback instead.

Signals: Ctrl-C (SIGINT), SIGTERM (what ``timeout``, docker and systemd send) and SIGHUP
(a closed terminal) all stop a command the same way: the work is interrupted, temporary
files are removed, outputs that were not complete are not written, one line
``faceshot <command>: interrupted (SIGTERM)`` is printed, and the exit status is 128 + the
signal number (130, 143, 129).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from faceshot import __version__

__all__ = ["Interrupted", "build_parser", "main", "signals_as_interrupts"]

Handler = Callable[[argparse.Namespace], int | None]


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's ``KeyboardInterrupt``, so
    every ``finally``/``except BaseException`` clean-up runs (temporary files removed).

    Attributes:
        signum: the signal number (exit status 128 + signum).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def signals_as_interrupts(
    signums: Sequence[int] = (signal.SIGTERM, signal.SIGHUP),
) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread.

    Only the first signal raises (a second one during clean-up is ignored, so clean-up
    finishes). Outside the main thread this does nothing (Python delivers signals there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Interrupted(signum)

    previous = {}
    for sig in signums:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not available on this platform
            continue
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (``faceshot render: error: argument --fps: ...``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(
            f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n"
        )
        raise SystemExit(2)


def _command_modules() -> list[str]:
    import faceshot.commands as pkg

    return sorted(
        f"{pkg.__name__}.{info.name}"
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``faceshot`` parser (every discovered subcommand)."""
    parser = _Parser(
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
        with signals_as_interrupts():
            status = handler(args)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"\nfaceshot {args.command}: interrupted ({name})", file=sys.stderr)
        return 128 + int(signum)
    except Exception as exc:
        if os.environ.get("FACESHOT_DEBUG"):
            raise
        print(f"faceshot {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
