"""``faceshot animate``: character image + driving video -> animated character video.

Embedded CPU path by default (no weights): MobileNetV2 features -> matcher with the shipped
gallery -> dlib driving landmarks -> retarget -> RigAnimator -> H.264 (audio copied).
A timing summary per stage is printed to stderr at the end.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from faceshot_features import BACKBONES

from faceshot.commands._args import CRF, EXPRESSION_SCALE, add_overwrite_argument, number
from faceshot.commands.retarget import add_motion_argument, parse_translation_scale

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``animate`` command."""
    p = subparsers.add_parser(
        "animate",
        help="animate a character image with a driving video (end to end)",
        description="Bring CHARACTER (PNG, JPEG or SVG) to life with the facial motion of "
        "DRIVING (a video of a human face) and write an H.264 MP4.",
    )
    p.add_argument("character", metavar="CHARACTER", help="character image (.png, .jpg, .svg, ...)")
    p.add_argument("driving", metavar="DRIVING", help="driving video (.mp4, ...)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="output video")
    p.add_argument(
        "--landmarks",
        metavar="R.pts",
        help="the character's 68 landmarks (.pts/.json/.npy) instead of matching",
    )
    p.add_argument(
        "--driving-landmarks",
        metavar="D.npy",
        help="the driving video's landmarks (.npy/.json, e.g. from `faceshot landmarks detect`) instead of detecting them",
    )
    p.add_argument(
        "--save-landmarks",
        metavar="R.pts",
        help="write the character's landmarks used (.pts/.json/.npy) to edit and pass back with --landmarks",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="also write OUT.preview.mp4: driving | landmarks | result",
    )
    p.add_argument(
        "--preview-output", metavar="P.mp4", help="path of the preview video (implies --preview)"
    )
    p.add_argument(
        "--backbone",
        choices=BACKBONES,
        default="embedded",
        help="matching features (default embedded, CPU)",
    )
    p.add_argument(
        "--backbone-weights",
        metavar="PATH",
        help="weights of the backbone (sd*: diffusers directory)",
    )
    p.add_argument(
        "--gallery",
        metavar="DIR",
        help="appearance gallery (default: the shipped one, for 'embedded')",
    )
    p.add_argument(
        "--animator",
        choices=("rig", "warp", "mofa"),
        default="rig",
        help="renderer: rig (default, CPU part-aware), warp (CPU mesh warp) or mofa (GPU)",
    )
    p.add_argument(
        "--mofa-weights",
        metavar="DIR",
        help="MOFA-Video-Hybrid directory (or $FACESHOT_MOFA_WEIGHTS)",
    )
    p.add_argument(
        "--detector",
        choices=("dlib", "matcher"),
        default="dlib",
        help="driving landmarks: dlib (human) or matcher (any face: every frame matched, fused with flow)",
    )
    p.add_argument(
        "--translation-scale",
        default="1.0",
        type=parse_translation_scale,
        metavar="S",
        help="head translation factor in [0, 10] (default 1: pixels as the driver) or 'face' (scaled by face widths)",
    )
    p.add_argument(
        "--expression-scale",
        type=number(*EXPRESSION_SCALE),
        default=1.0,
        metavar="F",
        help="factor on expression motion, in [0, 10] (1 = paper; < 1 tames big mouths/eyes)",
    )
    add_motion_argument(p)
    p.add_argument(
        "--room",
        type=number(0, 10),
        default=0.2,
        metavar="F",
        help="room to move in face widths: a character closer than this to an image edge is animated on a "
        "larger canvas, and the video has the canvas's size (default 0.2; 0 keeps the image's size)",
    )
    p.add_argument(
        "--retarget-mode",
        choices=("constrained", "paper"),
        default="constrained",
        help="constrained (default: parts kept inside the face, bounded scale, re-anchored at cuts) or paper (raw Eq. 5-6)",
    )
    p.add_argument(
        "--no-smooth",
        dest="smooth",
        action="store_false",
        help="disable the One-Euro temporal filter on the retargeted landmarks (on by default)",
    )
    p.add_argument(
        "--max-lost-frames",
        type=number(0, 100_000, integer=True),
        default=15,
        metavar="N",
        help="longest run without the driving person that is interpolated, 0..100000; longer runs hold the pose and ease to neutral (default 15)",
    )
    p.add_argument(
        "--face",
        type=int,
        metavar="N",
        help="which person in DRIVING drives (see `faceshot landmarks detect --list-faces`; default: most frames x largest face)",
    )
    p.add_argument(
        "--max-side",
        type=number(32, 8192, integer=True),
        default=1024,
        metavar="PX",
        help="downscale larger characters to this long side, 32..8192 (default 1024)",
    )
    p.add_argument("--no-audio", action="store_true", help="do not copy the driving video's audio")
    p.add_argument(
        "--crf", type=number(*CRF, integer=True), default=18, help="x264 quality 0..51 (default 18)"
    )
    add_overwrite_argument(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(handler=_animate)


def preview_path(output: str) -> str:
    """``OUT.mp4`` -> ``OUT.preview.mp4``."""
    from pathlib import Path

    p = Path(output)
    return str(p.with_name(p.stem + ".preview" + p.suffix))


def _animate(args: argparse.Namespace) -> int:
    from faceshot_retarget import AtomicOutputs, save_landmarks

    from faceshot import FaceShot
    from faceshot.commands._args import check_outputs

    preview = args.preview_output or (preview_path(args.output) if args.preview else None)
    # Every output is checked before any work, and all are written together or not at all.
    check_outputs(
        [
            ("-o", args.output, (".mp4",), "H.264 MP4"),
            (
                "--preview-output" if args.preview_output else "--preview",
                preview,
                (".mp4",),
                "H.264 MP4",
            ),
            ("--save-landmarks", args.save_landmarks, (".pts", ".json", ".npy"), None),
        ],
        inputs=(args.character, args.driving, args.landmarks, args.driving_landmarks, args.gallery),
        overwrite=args.overwrite,
    )
    fs = FaceShot(
        backbone=args.backbone,
        gallery=args.gallery,
        animator=args.animator,
        mofa_weights=args.mofa_weights,
        backbone_weights=args.backbone_weights,
        detector=args.detector,
        translation_scale=args.translation_scale,
        motion=args.motion,
        retarget_mode=args.retarget_mode,
        room=args.room,
        expression_scale=args.expression_scale,
        smooth=args.smooth,
        max_lost_frames=args.max_lost_frames,
        face=args.face,
        max_side=args.max_side,
        progress=not args.no_progress,
    )
    with AtomicOutputs() as outs:
        result = fs.animate(
            args.character,
            args.driving,
            outs.stage(args.output),
            landmarks=args.landmarks,
            driving_landmarks=args.driving_landmarks,
            preview=outs.stage(preview) if preview else None,
            audio=not args.no_audio,
            crf=args.crf,
        )
        if args.save_landmarks:
            save_landmarks(outs.stage(args.save_landmarks), result.character_landmarks())
    print(f"{args.output}: {result.frames} frames at {result.fps:g} fps", end="")
    print(f"; preview {preview}" if preview else "")
    if args.save_landmarks:
        print(f"character landmarks: {args.save_landmarks}")
    print("timings:\n" + result.summary(), file=sys.stderr)
    return 0
