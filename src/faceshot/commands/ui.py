"""``faceshot ui``: the Gradio web app, bound to 127.0.0.1 (see :mod:`faceshot._ui`)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``ui`` command."""
    p = subparsers.add_parser("ui", help="web UI: upload, correct landmarks, render, download (127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port on 127.0.0.1 (default 7860)")
    p.set_defaults(handler=_ui)


def _ui(args: argparse.Namespace) -> int:
    from faceshot._ui import build_app

    app = build_app()
    app.launch(server_name="127.0.0.1", server_port=args.port, allowed_paths=[str(app.faceshot_outdir)], share=False)
    return 0
