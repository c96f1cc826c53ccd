"""``faceshot gallery build``: build or extend an appearance gallery from annotated images."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``gallery`` command group."""
    p = subparsers.add_parser("gallery", help="appearance galleries for the landmark matcher")
    sub = p.add_subparsers(dest="gallery_command", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build",
        help="add a domain to a gallery from images + same-stem .pts/.json annotations",
        description="Create GALLERY (or append a domain to it) from IMAGES_DIR: every image with a "
        "same-stem .pts or .json 68-point annotation is used.",
    )
    b.add_argument("images_dir", metavar="IMAGES_DIR")
    b.add_argument("--domain", required=True, help="domain name, e.g. human, cartoon")
    b.add_argument(
        "--backbone",
        default="classical",
        help="feature backbone: 'classical' (built-in baseline descriptor) or a faceshot_features "
        "name such as 'embedded' (default: classical)",
    )
    b.add_argument("-o", "--output", required=True, metavar="GALLERY", help="gallery directory")
    b.add_argument("--flip", action="store_true", help="also add left-right mirrored copies")
    b.add_argument(
        "--replace", action="store_true", help="overwrite an existing domain of that name"
    )
    b.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    b.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    import numpy as np
    from faceshot_landmarks import add_domain, annotated_images, read_image
    from faceshot_landmarks.errors import FaceshotLandmarksError
    from faceshot_retarget import load_landmarks, mirror_landmarks
    from tqdm import tqdm

    from faceshot._io import check_output_path
    from faceshot.commands._landmarks_shared import make_extractor

    check_output_path(
        args.output,
        inputs=(args.images_dir,),
        suffixes=None,
        option="-o",
        what=None,
        directory=True,
    )
    _check_gallery_target(args.output, args.domain, args.replace)
    images, annotations, missing = annotated_images(args.images_dir)
    if not images:
        raise FaceshotLandmarksError(
            f"no annotated images in {args.images_dir!r} (need IMAGE + same-stem .pts or .json)"
        )
    extractor = make_extractor(args.backbone)
    feats, pts = [], []
    for img_path, ann_path in tqdm(
        list(zip(images, annotations, strict=True)),
        desc="features",
        unit="image",
        disable=args.no_progress,
    ):
        image = read_image(img_path)
        points = load_landmarks(ann_path).points[0]
        _check_inside(points, image.shape[:2], ann_path, img_path)
        examples = [(image, points)]
        if args.flip:
            examples.append(
                (np.ascontiguousarray(image[:, ::-1]), mirror_landmarks(points, image.shape[1]))
            )
        for im, p in examples:
            feats.append(extractor.extract(im))
            pts.append(p)
    gallery = add_domain(args.output, args.domain, feats, np.stack(pts), replace=args.replace)
    print(
        f"gallery {args.output}: domain {args.domain!r} with k={len(feats)} "
        f"({len(images)} images{' + mirrors' if args.flip else ''}, backbone {gallery.backbone}); "
        f"domains: {', '.join(gallery.names)}"
    )
    if missing:
        print(
            f"skipped {len(missing)} image(s) without annotation: {', '.join(p.name for p in missing)}",
            file=sys.stderr,
        )
    return 0


def _check_inside(points: Any, size: tuple[int, int], ann: Any, img: Any) -> None:
    """Refuse an annotation with a point outside its image (no feature can be read there).

    Args:
        points: (68, 2) float64 pixel (x, y).
        size: (H, W) of the image.
    """
    import numpy as np
    from faceshot_landmarks.errors import FaceshotLandmarksError

    h, w = size
    outside = np.flatnonzero(
        (points < -0.5).any(axis=1) | (points[:, 0] > w - 0.5) | (points[:, 1] > h - 0.5)
    )
    if outside.size:
        i = int(outside[0])
        x, y = points[i]
        raise FaceshotLandmarksError(
            f"annotation {str(ann)!r}: point {i} at ({x:.1f}, {y:.1f}) lies outside its {w}x{h} image "
            f"{img.name!r} ({outside.size} point(s) outside); fix the annotation or the image"
        )


def _check_gallery_target(path: str, domain: str, replace: bool) -> None:
    """What ``add_domain`` would refuse, refused before the features are computed."""
    from pathlib import Path

    from faceshot_landmarks import load_gallery
    from faceshot_landmarks.errors import GalleryError

    root = Path(path)
    if (root / "manifest.json").exists():
        gallery = load_gallery(root)
        if domain in gallery.domains and not replace:
            raise GalleryError(
                f"gallery {path!r} already has domain {domain!r}; pass --replace to overwrite it"
            )
    elif root.is_dir() and any(root.iterdir()):
        raise GalleryError(
            f"-o {path!r} exists, is not empty and has no manifest.json; refusing to write a gallery there"
        )
