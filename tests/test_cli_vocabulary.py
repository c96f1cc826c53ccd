"""One vocabulary across the command line: backbone choices, progress and overwrite flags."""

from __future__ import annotations

import argparse

import faceshot_features

import faceshot
from faceshot.cli import build_parser


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _option(sub: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in sub._actions if flag in a.option_strings), None)


def test_every_backbone_choice_comes_from_the_features_registry() -> None:
    assert tuple(faceshot.BACKBONES) == faceshot_features.BACKBONES
    for name, sub in _subcommands().items():
        option = _option(sub, "--backbone")
        if option is not None and option.choices is not None:
            assert tuple(option.choices) == faceshot_features.BACKBONES, name
