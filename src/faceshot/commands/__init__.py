"""Subcommands of the ``faceshot`` CLI: one module per topic, each with ``register(subparsers)``.

Handlers import heavy dependencies lazily so ``faceshot --help`` stays fast.
"""
