"""``faceshot landmarks detect|eval``: driving landmarks from videos, NME evaluation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``landmarks`` command group."""
    p = subparsers.add_parser("landmarks", help="68-point driving landmarks and their evaluation")
    sub = p.add_subparsers(dest="landmarks_command", metavar="ACTION", required=True)
    d = sub.add_parser(
        "detect",
        help="68-point landmarks of every frame of a video",
        description="Human faces: dlib detection + tracking (the dlib 68-point model is for "
        "non-commercial research only). Other characters: --backend match --gallery G (the matcher on "
        "every frame, fused with optical flow).",
    )
    d.add_argument("video", metavar="VIDEO")
    d.add_argument("-o", "--output", required=True, metavar="D.npy", help=".npy (T, 68, 2) or .json (with visibility)")
    d.add_argument("--preview", metavar="P.mp4", help="also write the video with the landmarks drawn")
    d.add_argument("--backend", choices=("dlib", "match"), default="dlib")
    d.add_argument("--gallery", metavar="G", help="gallery for --backend match")
    d.add_argument("--predictor", metavar="FILE", help="dlib shape_predictor_68_face_landmarks.dat")
    d.add_argument("--max-gap", type=int, default=15, help="longest gap (frames) interpolated")
    d.add_argument("--redetect-every", type=int, default=30, help="frames between detector runs")
    d.add_argument("--no-progress", action="store_true", help="hide progress bars")
    d.set_defaults(handler=_detect)
    e = sub.add_parser(
        "eval",
        help="IOD-normalised NME over a folder of images with same-stem .pts ground truth",
    )
    e.add_argument("directory", metavar="DIR")
    e.add_argument("--gallery", metavar="G", help="evaluate the matcher with this gallery instead of dlib")
    e.add_argument("--predictor", metavar="FILE", help="dlib shape_predictor_68_face_landmarks.dat")
    e.set_defaults(handler=_eval)


def _detect(args: argparse.Namespace) -> int:
    import numpy as np
    from faceshot_landmarks import (
        DetectConfig,
        DlibLandmarker,
        detect_video,
        load_gallery,
        match_video,
        write_preview,
    )
    from faceshot_retarget import save_landmarks

    from faceshot.commands._landmarks_shared import extractor_for_gallery

    progress = not args.no_progress
    if args.backend == "dlib":
        config = DetectConfig(max_gap=args.max_gap, redetect_every=args.redetect_every)
        lm = DlibLandmarker(args.predictor, upsample=config.upsample, detect_max_side=config.detect_max_side)
        result = detect_video(args.video, config=config, landmarker=lm, progress=progress)
    else:
        if not args.gallery:
            raise ValueError("`--backend match` needs `--gallery G`")
        gallery = load_gallery(args.gallery)
        result = match_video(args.video, extractor_for_gallery(gallery), gallery, progress=progress)
    save_landmarks(args.output, result)
    if args.preview:
        write_preview(args.video, result.points, args.preview, visible=result.visible, progress=progress)
    vis = result.visible if result.visible is not None else np.ones(result.points.shape[:2], bool)
    lost = int((~vis.all(axis=1)).sum())
    print(f"{args.output}: {result.num_frames} frames, {lost} filled or partly tracked")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import numpy as np
    from faceshot_landmarks import (
        DlibLandmarker,
        NoFaceError,
        annotated_images,
        load_gallery,
        match,
        nme,
        read_image,
    )
    from faceshot_landmarks.errors import FaceshotLandmarksError
    from faceshot_retarget import load_landmarks

    from faceshot.commands._landmarks_shared import extractor_for_gallery

    images, annotations, _ = annotated_images(args.directory)
    if not images:
        raise FaceshotLandmarksError(f"no images with same-stem .pts/.json ground truth in {args.directory!r}")
    if args.gallery:
        gallery = load_gallery(args.gallery)
        extractor = extractor_for_gallery(gallery)

        def predict(image: Any, gt: Any) -> Any:
            del gt  # the matcher never sees the ground truth
            return match(extractor.extract(image), gallery).points
    else:
        lm = DlibLandmarker(args.predictor)

        def predict(image: Any, gt: Any) -> Any:
            # Evaluation protocol: the detected face overlapping the ground-truth box.
            return lm.detect(image, retry=True, near=gt)

    errors = []
    for img_path, ann_path in zip(images, annotations, strict=True):
        gt = load_landmarks(ann_path).points[0]
        pred = predict(read_image(img_path), gt)
        if pred is None:
            print(f"{img_path.name}\tno face", file=sys.stderr)
            continue
        err = nme(pred, gt)
        errors.append(err)
        print(f"{img_path.name}\t{err:.4f}")
    if not errors:
        raise NoFaceError(f"no face found in any image of {args.directory!r}")
    print(f"mean\t{float(np.mean(errors)):.4f}\t({len(errors)}/{len(images)} images)")
    return 0
