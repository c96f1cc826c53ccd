"""``faceshot retarget``: transfer driving landmark motion onto a character's landmarks (no models)."""

from __future__ import annotations

import argparse
import math

from faceshot_retarget import RETARGET_SMOOTHING

from faceshot.commands._args import (
    EXPRESSION_SCALE,
    FPS,
    TRANSLATION_SCALE,
    add_overwrite_argument,
    number,
)

__all__ = ["add_motion_argument", "parse_translation_scale", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "retarget",
        help="retarget a driving landmark sequence onto a character's landmarks",
        description=(
            "Relative landmark motion transfer (FaceShot Eq. 5-6). Landmark files: .npy "
            "(T, 68, 2) 0-based pixels, .json (faceshot format) or iBUG .pts (1-based)."
        ),
    )
    p.add_argument(
        "--driving",
        required=True,
        metavar="D",
        help="driving landmarks (T, 68, 2): .npy/.json/.pts",
    )
    p.add_argument(
        "--target", required=True, metavar="T", help="character landmarks (68, 2): .pts/.json/.npy"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output landmarks: .npy/.json (.pts for T = 1)",
    )
    p.add_argument(
        "--reference",
        metavar="R",
        help="neutral driver frame matching the character (default: driving frame 0)",
    )
    p.add_argument(
        "--translation-scale",
        default="1.0",
        type=parse_translation_scale,
        metavar="S",
        help="factor in [0, 10] on the driver's head translation, or 'face' to scale by the face-width ratio (default 1.0)",
    )
    p.add_argument(
        "--expression-scale",
        type=number(*EXPRESSION_SCALE),
        default=1.0,
        metavar="A",
        help="factor in [0, 10] on expression (local) motion; < 1 tames exaggeration, 0 = head motion only (default 1)",
    )
    p.add_argument(
        "--no-clamp", action="store_true", help="disable the b_tar/b_ref chain-translation clamp"
    )
    add_motion_argument(p)
    p.add_argument(
        "--mode",
        choices=("constrained", "paper"),
        default="constrained",
        help="constrained (default: parts kept inside the face, bounded scale, re-anchored at cuts, "
        "rate-limited) or paper (raw Eq. 5-6)",
    )
    p.add_argument(
        "--cuts",
        default="",
        metavar="N,N,...",
        help="frames where a new shot starts (comma-separated)",
    )
    p.add_argument(
        "--canvas-size", metavar="HxW", help="keep the character's face inside an H x W canvas"
    )
    p.add_argument(
        "--smooth",
        action="store_true",
        help="apply a One-Euro temporal filter to the output (FaceShot's and `faceshot animate`'s, on by default there)",
    )
    p.add_argument(
        "--min-cutoff",
        type=number(0.001, 100.0),
        default=RETARGET_SMOOTHING.min_cutoff,
        help=f"One-Euro min cutoff, Hz, in [0.001, 100] (default {RETARGET_SMOOTHING.min_cutoff:g}, as the API)",
    )
    p.add_argument(
        "--beta",
        type=number(0.0, 100.0),
        default=RETARGET_SMOOTHING.beta,
        help=f"One-Euro speed coefficient, in [0, 100] (default {RETARGET_SMOOTHING.beta:g}, as the API)",
    )
    p.add_argument(
        "--fps",
        type=number(*FPS),
        default=25.0,
        help="driving frame rate for smoothing, in [1, 240] (default 25)",
    )
    add_overwrite_argument(p)
    p.set_defaults(handler=_run)


def add_motion_argument(p: argparse.ArgumentParser) -> None:
    """``--motion`` (shared with ``faceshot animate``)."""
    p.add_argument(
        "--motion",
        choices=("all", "expression", "pose", "eyes", "lips"),
        default="all",
        help="motion transferred: all (default), expression (head still), pose (head only), "
        "eyes (lids and brows), lips (mouth and jaw)",
    )


def _parse_cuts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise ValueError(f"--cuts must be comma-separated frame numbers; got {text!r}") from None


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(
            f"--canvas-size must look like 512x512 (height x width); got {text!r}"
        ) from None
    return h, w


def parse_translation_scale(text: str) -> float | str:
    """``--translation-scale`` value: a number in [0, 10], or ``"face"`` (shared with
    ``faceshot animate``; an argparse ``type``, so a bad value is a one-line usage error)."""
    if text == "face":
        return text
    lo, hi = TRANSLATION_SCALE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise argparse.ArgumentTypeError(
            f"must be a number in [{lo:g}, {hi:g}] or 'face'; got {text!r}"
        )
    return value


def _run(args: argparse.Namespace) -> int:
    from faceshot_retarget import (
        OneEuroConfig,
        RetargetConfig,
        load_landmarks,
        retarget,
        save_landmarks,
    )

    from faceshot.commands._args import check_outputs
    from faceshot.errors import OutputPathError

    inputs = (args.driving, args.target, args.reference)
    check_outputs(
        [("-o", args.output, (".npy", ".json", ".pts"), None)],
        inputs=inputs,
        overwrite=args.overwrite,
    )
    driving = load_landmarks(args.driving)
    if args.output.lower().endswith(".pts") and driving.num_frames != 1:
        raise OutputPathError(
            f"-o {args.output!r}: .pts holds one frame and the driving sequence has {driving.num_frames}; use .npy or .json"
        )
    target = load_landmarks(args.target)
    reference = load_landmarks(args.reference) if args.reference else None
    config = RetargetConfig(
        translation_scale=args.translation_scale,
        expression_scale=args.expression_scale,
        clamp=not args.no_clamp,
        smoothing=OneEuroConfig(min_cutoff=args.min_cutoff, beta=args.beta)
        if args.smooth
        else None,
        fps=args.fps,
        mode=args.mode,
        motion=args.motion,
    )
    out = retarget(
        driving,
        target,
        reference=reference,
        cuts=_parse_cuts(args.cuts),
        canvas_size=_parse_size(args.canvas_size),
        config=config,
    )
    save_landmarks(args.output, out)
    print(f"wrote {out.shape[0]} frames of 68 landmarks to {args.output}")
    return 0
