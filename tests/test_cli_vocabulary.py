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


def _all_parsers() -> dict[str, argparse.ArgumentParser]:
    out = {}
    for name, sub in _subcommands().items():
        nested = next((a for a in sub._actions if isinstance(a, argparse._SubParsersAction)), None)
        if nested is None:
            out[name] = sub
        else:
            out.update({f"{name} {k}": v for k, v in nested.choices.items()})
    return out


def test_progress_is_no_progress_everywhere_and_overwrite_where_files_are_written() -> None:
    parsers = _all_parsers()
    for name, sub in parsers.items():
        shown = [s for a in sub._actions if a.help != argparse.SUPPRESS for s in a.option_strings]
        assert "--progress" not in shown, name
    for name in ("animate", "render", "retarget", "match", "export", "batch", "landmarks detect"):
        assert _option(parsers[name], "--overwrite") is not None, name
    assert _option(parsers["landmarks detect"], "--detector").choices == ("dlib", "matcher")
    assert _option(parsers["animate"], "--detector").choices == ("dlib", "matcher")


def test_every_subcommand_has_a_help_line() -> None:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in action._choices_actions}
    for name in action.choices:
        assert helps.get(name), f"`faceshot {name}` has no help line in `faceshot --help`"


def test_overwrite_is_refused_without_the_flag(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from faceshot_retarget import template_face

    from faceshot.cli import main

    drv, tgt, out = tmp_path / "d.npy", tmp_path / "t.npy", tmp_path / "o.npy"
    np.save(drv, np.repeat(template_face(60.0, (80.0, 80.0))[None], 3, axis=0))
    np.save(tgt, template_face(50.0, (70.0, 70.0)))
    out.write_bytes(b"someone's file")
    argv = ["retarget", "--driving", str(drv), "--target", str(tgt), "-o", str(out)]
    assert main(argv) != 0
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"someone's file"
    assert main([*argv, "--overwrite"]) == 0
    assert np.load(out).shape == (3, 68, 2)


def test_landmarks_detect_keeps_the_old_backend_name_hidden() -> None:
    args = _all_parsers()["landmarks detect"].parse_args(["v.mp4", "--backend", "match"])
    assert args.backend == "match" and args.detector is None
