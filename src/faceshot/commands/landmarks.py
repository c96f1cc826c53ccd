"""``faceshot landmarks detect|eval``: driving landmarks from videos, NME evaluation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``landmarks`` command group."""
    from faceshot.commands._args import add_overwrite_argument, number

    p = subparsers.add_parser("landmarks", help="68-point driving landmarks and their evaluation")
    sub = p.add_subparsers(dest="landmarks_command", metavar="ACTION", required=True)
    d = sub.add_parser(
        "detect",
        help="68-point landmarks of every frame of a video",
        description="Human faces: every face is found and grouped into people by dlib's face "
        "descriptor, shot cuts are detected, and one person is tracked (the primary one, or --face N; "
        "--list-faces shows them). The dlib 68-point model is for non-commercial research only. "
        "Other characters: --detector matcher --gallery G (the matcher on every frame, fused with optical flow).",
    )
    d.add_argument("video", metavar="VIDEO")
    d.add_argument(
        "-o",
        "--output",
        metavar="D.npy",
        help=".npy (T, 68, 2) or .json (with visibility); .pts holds one frame and is refused; required unless --list-faces",
    )
    d.add_argument(
        "--preview", metavar="P.mp4", help="also write the video with the landmarks drawn"
    )
    d.add_argument(
        "--detector",
        choices=("dlib", "matcher"),
        default=None,
        help="dlib (human faces, default) or matcher (any face: the gallery matcher on every frame, fused with flow)",
    )
    # the name before issue 15, kept so scripts keep working; --detector is the documented one
    d.add_argument("--backend", choices=("dlib", "match"), default=None, help=argparse.SUPPRESS)
    d.add_argument("--gallery", metavar="G", help="gallery for --detector matcher")
    d.add_argument("--predictor", metavar="FILE", help="dlib shape_predictor_68_face_landmarks.dat")
    d.add_argument(
        "--max-gap",
        type=number(0, 100_000, integer=True),
        default=15,
        help="longest gap (frames) interpolated, 0..100000",
    )
    d.add_argument(
        "--redetect-every",
        type=number(1, 100_000, integer=True),
        default=None,
        help="frames between detector runs, 1..100000 (default 10)",
    )
    d.add_argument(
        "--face",
        type=int,
        metavar="N",
        help="which person to follow (default: most frames x largest face)",
    )
    d.add_argument(
        "--list-faces",
        action="store_true",
        help="print the faces found (index, frames, size, where) and the cuts; write nothing",
    )
    add_overwrite_argument(d)
    d.add_argument("--no-progress", action="store_true", help="hide progress bars")
    d.set_defaults(handler=_detect)
    e = sub.add_parser(
        "eval",
        help="IOD-normalised NME over a folder of images with same-stem .pts ground truth",
    )
    e.add_argument("directory", metavar="DIR")
    e.add_argument(
        "--gallery", metavar="G", help="evaluate the matcher with this gallery instead of dlib"
    )
    e.add_argument("--predictor", metavar="FILE", help="dlib shape_predictor_68_face_landmarks.dat")
    e.set_defaults(handler=_eval)


def _detect(args: argparse.Namespace) -> int:
    import numpy as np
    from faceshot_animate import probe_video as probe
    from faceshot_landmarks import (
        DetectConfig,
        DlibLandmarker,
        detect_driving,
        load_gallery,
        match_video,
        scan_faces,
        write_preview,
    )
    from faceshot_retarget import AtomicOutputs, save_landmarks

    from faceshot._io import check_driving_video
    from faceshot.commands._args import check_outputs
    from faceshot.commands._landmarks_shared import extractor_for_gallery

    if args.detector is not None and args.backend is not None:
        raise ValueError("pass --detector only (--backend is its old name)")
    detector = args.detector or {"match": "matcher"}.get(args.backend or "dlib", "dlib")
    if args.output is None and not args.list_faces:
        raise ValueError("-o/--output is required (or --list-faces to only list the faces)")
    if detector != "dlib" and (args.list_faces or args.face is not None):
        raise ValueError("--list-faces and --face need --detector dlib")
    # Both outputs are checked before the detection runs, and written together or not at all.
    check_outputs(
        [
            ("-o", args.output, (".npy", ".json"), None),
            ("--preview", args.preview, (".mp4",), "H.264 MP4"),
        ],
        inputs=(args.video, args.gallery, args.predictor),
        overwrite=args.overwrite,
    )
    check_driving_video(args.video, probe(args.video).size_wh)
    progress = not args.no_progress
    if args.face is not None and args.face < 0:
        raise ValueError(f"--face must be >= 0; got {args.face}")
    if detector == "dlib":
        extra = {} if args.redetect_every is None else {"redetect_every": args.redetect_every}
        config = DetectConfig(max_gap=args.max_gap, **extra)
        lm = DlibLandmarker(
            args.predictor, upsample=config.upsample, detect_max_side=config.detect_max_side
        )
        if args.list_faces:
            scan = scan_faces(args.video, config=config, landmarker=lm, progress=progress)
            print(
                f"{args.video}: {scan.num_frames} frames, {len(scan.faces)} face{'s' * (len(scan.faces) != 1)}, "
                f"{len(scan.cuts)} cut{'s' * (len(scan.cuts) != 1)}"
                + (f" at frames {', '.join(map(str, scan.cuts))}" if scan.cuts else "")
            )
            for f in scan.faces:
                print(
                    f"  {f.index}{'*' if f.index == scan.primary else ' '} {f.describe(scan.image_size)}"
                )
            print("(* drives by default: most frames x largest face; choose another with --face N)")
            return 0
        driving = detect_driving(
            args.video, face=args.face, config=config, landmarker=lm, progress=progress
        )
        result = driving.landmarks
    else:
        if not args.gallery:
            raise ValueError("`--detector matcher` needs `--gallery G`")
        gallery = load_gallery(args.gallery)
        result = match_video(args.video, extractor_for_gallery(gallery), gallery, progress=progress)
    with AtomicOutputs() as outs:
        save_landmarks(outs.stage(args.output), result)
        if args.preview:
            write_preview(
                args.video,
                result.points,
                outs.stage(args.preview),
                visible=result.visible,
                progress=progress,
            )
    vis = result.visible if result.visible is not None else np.ones(result.points.shape[:2], bool)
    lost = int((~vis.all(axis=1)).sum())
    print(f"{args.output}: {result.num_frames} frames, {lost} filled or partly tracked")
    if detector == "dlib":
        n = len(driving.faces)
        print(
            f"  face {driving.person} of {n} ({driving.face.describe(driving.image_size)}); "
            f"{len(driving.cuts)} cut{'s' * (len(driving.cuts) != 1)}"
            + (f" at frames {', '.join(map(str, driving.cuts))}" if driving.cuts else "")
        )
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
        raise FaceshotLandmarksError(
            f"no images with same-stem .pts/.json ground truth in {args.directory!r}"
        )
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
