"""``faceshot render``: animate a character image along a landmark sequence into an MP4.

Uses a CPU animator (no GPU, no weights): :class:`faceshot_animate.RigAnimator` (default,
part-aware) or :class:`faceshot_animate.WarpAnimator` (``--animator warp``). With
``--side-by-side DRIVING`` the video shows driving | landmarks | result panels at one
height, and the driving video's audio is copied (unless ``--no-audio``).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from faceshot.commands._args import CRF, FPS, MAX_FRAME_SIDE, add_overwrite_argument, number

__all__ = ["parse_size", "register"]


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WxH`` (e.g. ``512x512``) into a (width, height) pair of ints in
    [1, :data:`~faceshot.commands._args.MAX_FRAME_SIDE`] (8192)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX\u00d7]\s*(\d+)\s*", text)
    if m is None or not all(1 <= int(v) <= MAX_FRAME_SIDE for v in m.groups()):
        raise argparse.ArgumentTypeError(
            f"expected a size WxH such as 512x512, each side in [1, {MAX_FRAME_SIDE}]; got {text!r}"
        )
    return int(m.group(1)), int(m.group(2))


def register(subparsers: Any) -> None:
    """Add the ``render`` command."""
    p = subparsers.add_parser(
        "render",
        help="animate IMAGE along landmarks L into an H.264 MP4 (CPU renderer)",
        description="Warp IMAGE so that its landmarks follow the sequence L (T, 68, 2) — "
        "frame 0 of L must be IMAGE's own landmarks — and write an H.264 MP4.",
    )
    p.add_argument("image", metavar="IMAGE", help="character image (PNG, JPEG, ...; RGBA kept)")
    p.add_argument("landmarks", metavar="L", help="landmark sequence (.npy, .json or .pts)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4")
    p.add_argument(
        "--fps",
        type=number(*FPS),
        default=None,
        help="frame rate in [1, 240] (default: the driving video's with --side-by-side, else 25)",
    )
    p.add_argument(
        "--side-by-side", metavar="DRIVING.mp4", help="write driving | landmarks | result panels"
    )
    p.add_argument(
        "--audio-from",
        metavar="VIDEO",
        help="copy this file's audio (default with --side-by-side: the driving video's)",
    )
    p.add_argument("--no-audio", action="store_true", help="never copy audio")
    p.add_argument(
        "--size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help=f"output size of the result, sides up to {MAX_FRAME_SIDE} (default: IMAGE's size)",
    )
    p.add_argument(
        "--animator",
        choices=("rig", "warp"),
        default="rig",
        help="renderer: rig (default, part-aware) or warp (mesh warp)",
    )
    p.add_argument(
        "--max-side",
        type=number(16, MAX_FRAME_SIDE, integer=True),
        default=1024,
        help=f"render at most at this long side, then resize; 16..{MAX_FRAME_SIDE} (default 1024)",
    )
    p.add_argument(
        "--grid-step",
        type=number(1, 32, integer=True),
        default=None,
        help="coarse map step in pixels, 1..32 (warp: 1 = exact, default 4; rig: default 2.5 %% of the face width)",
    )
    p.add_argument(
        "--no-cavity", action="store_true", help="do not paint a mouth cavity when the lips open"
    )
    p.add_argument(
        "--crf",
        type=number(*CRF, integer=True),
        default=18,
        help="x264 quality, 0 (lossless) .. 51 (default 18)",
    )
    add_overwrite_argument(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_render)


def _render(args: argparse.Namespace) -> int:
    from faceshot.commands._args import check_outputs

    check_outputs(  # before the heavy imports: a refused output costs no time
        [("-o", args.output, (".mp4",), "H.264 MP4")],
        inputs=(args.image, args.landmarks, args.side_by_side, args.audio_from),
        overwrite=args.overwrite,
    )
    from collections.abc import Iterator
    from fractions import Fraction

    import numpy as np
    from faceshot_animate import (
        AnimateInputError,
        RigAnimator,
        RigConfig,
        WarpAnimator,
        WarpConfig,
        load_image,
        preview_frame,
        probe_video,
        read_video,
        scale_landmarks,
        write_video,
    )
    from faceshot_retarget import load_landmarks

    from faceshot._io import check_not_blank

    image = load_image(args.image)
    check_not_blank(image, f"IMAGE {args.image!r}")
    lm = load_landmarks(args.landmarks)
    h, w = image.shape[:2]
    if lm.image_size is not None and tuple(lm.image_size) != (h, w):
        raise AnimateInputError(
            f"landmarks {args.landmarks!r} belong to an image of (H, W) = {tuple(lm.image_size)}; "
            f"IMAGE {args.image!r} is {(h, w)}"
        )
    fps: float | Fraction = args.fps if args.fps is not None else 25.0
    if args.side_by_side is not None and args.fps is None:
        fps = probe_video(args.side_by_side).fps  # exact, e.g. 30000/1001
    out_size = args.size or (w, h)
    animator: RigAnimator | WarpAnimator
    if args.animator == "rig":
        rig_config = RigConfig(
            max_side=args.max_side, grid_step=args.grid_step or 0, mouth_cavity=not args.no_cavity
        )
        animator = RigAnimator(rig_config, output_size=out_size)
    else:
        config = WarpConfig(
            max_side=args.max_side, grid_step=args.grid_step or 4, mouth_cavity=not args.no_cavity
        )
        animator = WarpAnimator(config, output_size=out_size)
    try:
        frames = animator.animate(image, lm.points, fps=float(fps))
    except AnimateInputError as exc:
        raise AnimateInputError(f"landmarks {args.landmarks!r}: {exc}") from None
    total = lm.num_frames

    if args.side_by_side is not None:
        driving = read_video(args.side_by_side)
        pose_pts = scale_landmarks(lm.points, (w, h), out_size)

        def panels() -> Iterator[np.ndarray]:
            last = None
            for t, result in enumerate(frames):
                last = next(driving, last)
                assert last is not None
                yield preview_frame(result, pose_pts[t], last)

        stream: Iterator[np.ndarray] = panels()
    else:
        stream = frames
    audio = None if args.no_audio else (args.audio_from or args.side_by_side)
    out = write_video(
        args.output,
        stream,
        fps,
        total=total,
        progress=not args.no_progress,
        desc="render",
        audio_from=audio,
        crf=args.crf,
    )
    print(f"{out}: {total} frames at {float(fps):g} fps")
    return 0
