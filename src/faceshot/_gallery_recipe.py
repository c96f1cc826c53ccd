"""The recipe of the default appearance gallery: which annotated sources, in which domains.

One definition for the two places that build it: ``scripts/build_default_gallery.py`` (the
gallery shipped in ``src/faceshot/data/gallery``) and the benchmarks that rebuild it with some
sources left out (``faceshot._bench_nonhuman``), so a benchmark measures the gallery users get.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = [
    "DOMAINS",
    "IMAGE_SUFFIXES",
    "PROTOTYPES",
    "Source",
    "annotated_sources",
    "folder_pairs",
]

#: domain name -> folders of ``gallery_src/`` (the emoji styles form one domain: the
#: leave-one-style-out benchmark ``bench/matching.py`` measured one pooled domain to beat one
#: domain per style, held-out mean 0.067 vs 0.074 inter-ocular distances).
DOMAINS: dict[str, tuple[str, ...]] = {
    "emoji": ("twemoji", "noto", "noto-v1", "emojione", "fxemoji"),
    "human": ("human",),
}
#: per-landmark prototypes stored per domain (``faceshot_landmarks.add_domain(prototypes=)``):
#: 0 -> 4 took the held-out mean from 0.081 to 0.067; 4/8/16/32 were within 0.003 of each
#: other on the same protocol, so the smallest.
PROTOTYPES = 4
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".webp")


class Source(NamedTuple):
    """One annotated gallery source.

    Attributes:
        domain: gallery domain (a key of :data:`DOMAINS`).
        folder: its folder under ``gallery_src/`` (the style, e.g. ``"twemoji"``).
        stem: file name without suffix (unique within a folder, not across folders).
        image: the image file.
        pts: its iBUG 68-point ``.pts`` file (1-based pixels).
    """

    domain: str
    folder: str
    stem: str
    image: Path
    pts: Path


def folder_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """``(image, pts)`` of every image in ``folder`` with a same-stem iBUG ``.pts``, by name
    (images without a ``.pts`` and ``.pts`` without an image are skipped)."""
    pairs = []
    for pts in sorted(Path(folder).glob("*.pts")):
        image = next(
            (pts.with_suffix(s) for s in IMAGE_SUFFIXES if pts.with_suffix(s).is_file()), None
        )
        if image is not None:
            pairs.append((image, pts))
    return pairs


def annotated_sources(src: Path, domains: tuple[str, ...] | None = None) -> list[Source]:
    """Every annotated image (:func:`folder_pairs`) of the folders of ``domains`` under ``src``.

    Args:
        src: the ``gallery_src`` directory.
        domains: keys of :data:`DOMAINS` (default all), in that order.

    Returns:
        The sources, by domain, then folder in :data:`DOMAINS` order, then name.
    """
    return [
        Source(domain, folder, pts.stem, image, pts)
        for domain in (domains if domains is not None else tuple(DOMAINS))
        for folder in DOMAINS[domain]
        for image, pts in folder_pairs(Path(src) / folder)
    ]
