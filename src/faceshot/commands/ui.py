"""``faceshot ui``: the Gradio web app, bound to 127.0.0.1 (see :mod:`faceshot._ui`): loopback
Host/Origin only, an upload size limit, and every upload and render deleted when its tab
closes or the server stops."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``ui`` command."""
    from faceshot.commands._args import number

    p = subparsers.add_parser(
        "ui", help="web UI: upload, correct landmarks, render, download (127.0.0.1)"
    )
    p.add_argument(
        "--port",
        type=number(1, 65535, integer=True),
        default=7860,
        help="port on 127.0.0.1, 1..65535 (default 7860)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=number(1, 1 << 20),
        default=200,
        metavar="MB",
        help="largest upload accepted, in MB (default 200); larger uploads are refused with HTTP 413",
    )
    p.set_defaults(handler=_ui)


def _ui(args: argparse.Namespace) -> int:
    from faceshot._ui import build_app, launch_app

    app = build_app()
    launch_app(app, port=args.port, max_upload_mb=args.max_upload_mb)
    return 0
