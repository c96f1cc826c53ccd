"""Non-human driving benchmark with known answers (``bench/nonhuman.py``, ``faceshot bench``).

Characters of the gallery sources (``gallery_src/twemoji``, annotated with 68 points) are
rendered along *known* landmark sequences, the clips are encoded to H.264 like any driving
video, and the driving-landmark trackers recover the sequences from the pixels alone:

* motions: ``carphone`` -- the dlib landmarks of the demo clip (``assets/demo/driving.mp4``)
  retargeted onto the character by the pipeline's own :meth:`faceshot.FaceShot.retarget`;
  ``synthetic`` -- :func:`faceshot_landmarks.testing.synthetic_motion` (mouth opened fully,
  three blinks, head roll and turn);
* placement: the character and its whole sequence are scaled into a ``canvas`` x ``canvas``
  frame (the sequence's bounding box plus a quarter face width on each side fills 90 % of it),
  over a white background;
* renderer: any object with ``animate(image, landmarks, *, fps)`` (default
  :class:`faceshot_animate.WarpAnimator`);
* styles: ``smiley`` (yellow Twemoji faces, used to tune :class:`VideoMatchConfig`), and two
  styles held out of tuning: ``cat`` (Twemoji cat faces) and ``creature`` (moon, pumpkin, cat,
  monkey, ogre, alien, pile of poo);
* galleries: the default gallery's recipe (:mod:`faceshot._gallery_recipe`: all five emoji
  styles of ``gallery_src`` and the human photographs) rebuilt *without the clip's style*, so
  no figure is measured on the gallery's own images; :data:`PROTOCOLS` says how much more is
  left out (``style``: the Twemoji faces of the clip's style; ``art-set``: every Twemoji face;
  ``species``: also the other sets' faces of the clip's kind);
* trackers: ``today`` (the gallery match on frame 0, then Lucas-Kanade: :func:`track_points`,
  the path before :class:`VideoMatchConfig`) and ``matcher`` (:func:`match_video`), on the same
  clips in the same run;
* human reference: the same motion rendered on a human photograph and tracked by the human
  path (:func:`faceshot_landmarks.detect_video`, dlib), whose jitter is the bar to meet.

Figures per clip (:func:`faceshot_landmarks.track_figures`, in face widths): mean error,
motion error (frame-0 offset removed), mouth- and eye-opening correlations, jitter, and
frames per second.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "HELD_OUT",
    "MOTIONS",
    "PROTOCOLS",
    "STYLES",
    "TUNING",
    "Clip",
    "contact_sheet",
    "make_clip",
    "place_on_canvas",
    "run_nonhuman",
    "style_out_gallery",
    "today_path",
]

#: style -> Twemoji code points (gallery_src/twemoji/<code>.svg with a .pts).
STYLES: dict[str, tuple[str, ...]] = {
    "smiley": ("1f600", "1f603", "1f60a", "1f62e", "1f61b"),
    "cat": ("1f638", "1f63a", "1f63c", "1f63e", "1f63f"),
    "creature": ("1f31d", "1f383", "1f431", "1f435", "1f479", "1f47d", "1f4a9"),
}
#: Styles the defaults of VideoMatchConfig were tuned on.
TUNING = ("smiley",)
#: Styles never looked at while tuning.
HELD_OUT = ("cat", "creature")
MOTIONS = ("carphone", "synthetic")
#: Every Twemoji code point of the styles above and the others of the same look, all left out
#: of the gallery together with their style (cats and smileys share the round yellow face).
_STYLE_MEMBERS: dict[str, Callable[[str], bool]] = {
    "smiley": lambda c: c.startswith("1f6") and not "1f638" <= c <= "1f640",
    "cat": lambda c: "1f638" <= c <= "1f640",
    "creature": lambda c: not c.startswith("1f6"),
}


@dataclass
class Clip:
    """A rendered driving clip with its known landmarks.

    Attributes:
        character: code point (or name) of the character.
        style: its style.
        motion: ``"carphone"`` or ``"synthetic"``.
        path: the H.264 file.
        truth: (T, 68, 2) float64 known landmarks in the clip's pixels.
        fps: frame rate.
    """

    character: str
    style: str
    motion: str
    path: Path
    truth: NDArray[np.float64]
    fps: float


@dataclass
class Outcome:
    """Figures of one tracker on one clip."""

    figures: dict[str, float]
    fps: float
    points: NDArray[np.float64] = field(repr=False)


def load_source(
    code: str, folder: str = "twemoji", *, repo: Path
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """A gallery-source character of the checkout ``repo`` (``gallery_src/<folder>``): (H, W, 4)
    uint8 RGBA (RGB gets opaque alpha) and its (68, 2) landmarks (0-based pixels)."""
    from faceshot_retarget import load_landmarks

    from faceshot._io import load_character

    base = Path(repo) / "gallery_src" / folder
    image = next(
        base / f"{code}{s}" for s in (".svg", ".png", ".jpg") if (base / f"{code}{s}").is_file()
    )
    char = load_character(image, max_side=1 << 16)
    rgba = (
        char.image
        if char.image.shape[2] == 4
        else np.concatenate(
            [char.image, np.full((*char.image.shape[:2], 1), 255, np.uint8)], axis=2
        )
    )
    pts = np.asarray(load_landmarks(base / f"{code}.pts").points[0], dtype=np.float64)
    return np.ascontiguousarray(rgba), pts


def place_on_canvas(
    image: NDArray[np.uint8], sequence: NDArray[np.float64], canvas: int = 512
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """Scale and shift a character and its landmark sequence into a square canvas.

    The bounding box of every frame's points, grown by a quarter face width (jaw 0-16 at
    frame 0) on each side, is scaled to 90 % of the canvas and centred.

    Args:
        image: (H, W, 4) uint8 RGBA character.
        sequence: (T, 68, 2) float64 pixel landmarks of ``image`` (frame 0: its own).
        canvas: output side in pixels.

    Returns:
        ``(image, sequence)``: (canvas, canvas, 4) uint8 RGBA (transparent outside the
        character) and the (T, 68, 2) float64 sequence in canvas pixels.
    """
    import cv2

    grow = 0.25 * float(np.linalg.norm(sequence[0, 16] - sequence[0, 0]))
    lo = sequence.reshape(-1, 2).min(axis=0) - grow
    hi = sequence.reshape(-1, 2).max(axis=0) + grow
    k = 0.9 * canvas / float((hi - lo).max())
    offset = canvas / 2 - k * (lo + hi) / 2
    # pixel centres: x' = k (x + 0.5) - 0.5 + offset'
    shift = offset + 0.5 * k - 0.5
    affine = np.array([[k, 0.0, shift[0]], [0.0, k, shift[1]]])
    flags = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    warped = cv2.warpAffine(
        image,
        affine,
        (canvas, canvas),
        flags=flags,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    return np.ascontiguousarray(warped, dtype=np.uint8), sequence * k + shift


def _composite(frame: NDArray[np.uint8], background: tuple[int, int, int]) -> NDArray[np.uint8]:
    if frame.shape[2] == 3:
        return frame
    a = frame[..., 3:4].astype(np.float32) / 255.0
    out = frame[..., :3].astype(np.float32) * a + np.asarray(background, np.float32) * (1 - a)
    return np.ascontiguousarray(np.round(out), dtype=np.uint8)


def make_clip(
    image: NDArray[np.uint8],
    sequence: NDArray[np.float64],
    path: Path,
    *,
    fps: float,
    renderer: Any = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Path:
    """Render a character along a landmark sequence and encode it (H.264) to ``path``.

    Args:
        image: (H, W, 4) uint8 RGBA character whose landmarks are ``sequence[0]``.
        sequence: (T, 68, 2) float64 pixel landmarks.
        path: output ``.mp4``.
        fps: frame rate.
        renderer: object with ``animate(image, landmarks, *, fps) -> iterator of frames``
            (default :class:`faceshot_animate.WarpAnimator`).
        background: RGB the frames are composited over.
    """
    from faceshot_animate import WarpAnimator, write_video

    anim = renderer if renderer is not None else WarpAnimator()
    frames = (
        _composite(np.asarray(f, np.uint8), background)
        for f in anim.animate(image, sequence, fps=fps)
    )
    write_video(path, frames, fps, progress=False)
    return path


def carphone_landmarks() -> tuple[NDArray[np.float64], float]:
    """dlib landmarks of the demo driving clip (T, 68, 2) and its frame rate."""
    from faceshot_landmarks import detect_video, probe_video

    from faceshot._bench import bench_data_path

    video = bench_data_path() / "driving.mp4"
    fps = float(probe_video(video).fps)
    return np.asarray(detect_video(video, progress=False).points, dtype=np.float64), float(fps)


def motion_sequence(
    motion: str,
    points: NDArray[np.float64],
    carphone: tuple[NDArray[np.float64], float],
    frames: int | None = None,
) -> tuple[NDArray[np.float64], float]:
    """The known (T, 68, 2) sequence of a motion on a character, and its frame rate."""
    from faceshot_landmarks.testing import synthetic_motion

    if motion == "synthetic":
        return synthetic_motion(points, frames or 120), 25.0
    if motion != "carphone":
        raise ValueError(f"`motion` must be one of {MOTIONS}; got {motion!r}")
    from faceshot import FaceShot

    driving, fps = carphone
    if frames is not None:
        driving = driving[:frames]
    return np.asarray(
        FaceShot(progress=False).retarget(driving, points, fps=fps), dtype=np.float64
    ), fps


#: Gallery protocols: which sources the default gallery's recipe
#: (:mod:`faceshot._gallery_recipe`) loses for a clip of a style.
#:
#: * ``style``: the Twemoji faces of the clip's style (:data:`_STYLE_MEMBERS`); the other
#:   emoji styles stay, their cats and creatures too;
#: * ``art-set``: every Twemoji face (no face of the clip's art style is left, as in the
#:   leave-one-style-out protocol of ``bench/matching.py``);
#: * ``species``: ``art-set``, and also the faces of the clip's kind in the other sets
#:   (:data:`_KIND_WORDS`): no cat for a cat, no alien, ogre, monkey, moon, pumpkin or cat face
#:   for a creature.
PROTOCOLS = ("style", "art-set", "species")
#: Words of the other sets' file names that name a face of each style's kind (none for the
#: smileys, the tuning style: ``species`` leaves out only their art set).
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "smiley": (),
    "cat": ("cat",),
    "creature": (
        "alien",
        "ogre",
        "monkey",
        "monkeyface",
        "moon",
        "newmoonwithface",
        "jack",
        "jackolantern",
        "poo",
        "pile",
    ),
}


def _left_out(protocol: str, style: str, folder: str, stem: str) -> bool:
    """Whether the source ``folder/stem`` is left out of the gallery for clips of ``style``."""
    if folder == "human":
        return False
    if folder == "twemoji":
        return protocol != "style" or _STYLE_MEMBERS[style](stem)
    if protocol != "species":
        return False
    words = stem.split("-")
    return any(w in _KIND_WORDS[style] for w in words) or (
        style == "creature" and stem == "cat-face"
    )


def style_out_gallery(
    style: str,
    extractor: Any,
    root: Path,
    cache: dict[tuple[str, str], Any],
    *,
    repo: Path,
    protocol: str = "style",
) -> Any:
    """The default gallery, rebuilt under ``root`` without the sources ``protocol`` leaves out.

    The recipe is the shipped one (:mod:`faceshot._gallery_recipe`: every annotated source of
    ``gallery_src``, the emoji styles pooled in one domain, per-landmark prototypes), so the
    figures are those of the gallery users get, less what the clip must not see.

    Args:
        style: a key of :data:`STYLES`.
        extractor: the backbone's extractor.
        root: directory to build in.
        cache: ``{(folder, stem): (features, points)}`` reused across calls.
        repo: the faceshot checkout holding ``gallery_src``.
        protocol: a member of :data:`PROTOCOLS`.

    Raises:
        ValueError: unknown ``style`` or ``protocol``.
    """
    from faceshot_landmarks import add_domain
    from faceshot_retarget import load_landmarks

    from faceshot._gallery_recipe import PROTOTYPES, annotated_sources
    from faceshot._io import load_character

    if style not in STYLES:
        raise ValueError(f"style must be one of {sorted(STYLES)}; got {style!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}")
    kept: dict[str, list[tuple[str, str]]] = {}
    sources = annotated_sources(Path(repo) / "gallery_src")
    for src in sources:
        if _left_out(protocol, style, src.folder, src.stem):
            continue
        key = (src.folder, src.stem)
        if key not in cache:
            char = load_character(src.image, max_side=1 << 16)
            cache[key] = (
                extractor.extract(char.rgb),
                np.asarray(load_landmarks(src.pts).points[0]),
            )
        kept.setdefault(src.domain, []).append(key)
    gallery = None
    for domain, keys in kept.items():
        gallery = add_domain(
            root / f"without-{style}-{protocol}",
            domain,
            [cache[k][0] for k in keys],
            np.stack([cache[k][1] for k in keys]),
            prototypes=PROTOTYPES,
        )
    return gallery


def today_path(video: Path, extractor: Any, gallery: Any) -> NDArray[np.float64]:
    """The tracker before :func:`match_video` was rebuilt: gallery match on frame 0, then
    pyramidal Lucas-Kanade (:func:`track_points`)."""
    from faceshot_landmarks import iter_frames, match, track_points

    frames = iter_frames(video)
    first = next(frames)
    start = match(extractor.extract(first), gallery).points

    def chain() -> Iterable[NDArray[np.uint8]]:
        yield first
        yield from frames

    pts, _ = track_points(chain(), start, progress=False)
    return np.asarray(pts, dtype=np.float64)


def human_reference(
    motion: str,
    carphone: tuple[NDArray[np.float64], float],
    tmp: Path,
    *,
    renderer: Any = None,
    canvas: int = 512,
    frames: int | None = None,
    name: str = "takeo",
    repo: Path,
) -> dict[str, float]:
    """The human path on the same motion: a human photograph (``gallery_src/human``) rendered
    along it and tracked by :func:`detect_video` (dlib); its figures against the known sequence."""
    from faceshot_landmarks import detect_video, track_figures

    image, pts = load_source(name, "human", repo=repo)
    seq, fps = motion_sequence(motion, pts, carphone, frames)
    image, seq = place_on_canvas(image, seq, canvas)
    path = make_clip(image, seq, tmp / f"human-{name}-{motion}.mp4", fps=fps, renderer=renderer)
    rec = np.asarray(detect_video(path, progress=False).points)
    return track_figures(rec, seq)


def run_nonhuman(
    *,
    repo: Path,
    styles: Sequence[str] = ("smiley", "cat", "creature"),
    motions: Sequence[str] = MOTIONS,
    characters: int | None = None,
    frames: int | None = None,
    renderer: Any = None,
    extractor: Any = None,
    config: Any = None,
    canvas: int = 512,
    workdir: Path | None = None,
    log: Callable[[str], None] | None = None,
    human: bool = True,
    only: Sequence[str] | None = None,
    protocol: str = "style",
) -> dict[str, Any]:
    """Render the clips, track them with both paths, and collect the figures.

    Args:
        repo: the faceshot checkout whose ``gallery_src`` holds the characters.
        styles: keys of :data:`STYLES`.
        motions: members of :data:`MOTIONS`.
        characters: at most this many characters per style (``None``: all).
        frames: truncate every motion to this many frames (``None``: 120).
        renderer: the animator that renders the clips (default ``WarpAnimator``).
        extractor: feature extractor (default the embedded backbone).
        config: :class:`VideoMatchConfig` for ``match_video`` (default its defaults).
        canvas: clip side in pixels.
        workdir: where clips and galleries go (default a temporary directory, removed).
        log: called with one line per clip.
        human: also measure the human path on the same motions.
        only: restrict to these characters (code points).
        protocol: the gallery protocol, a member of :data:`PROTOCOLS`.

    Returns:
        ``{"clips": [{"character", "style", "motion", "frames", "today": {...}, "matcher":
        {...}}], "human": {motion: figures}, "points": {(character, motion): (truth, today,
        matcher, path)}}`` with figures from :func:`track_figures` plus ``"fps"``.
    """
    from faceshot_features import load_extractor
    from faceshot_landmarks import VideoMatchConfig, match_video, track_figures

    ext = extractor if extractor is not None else load_extractor("embedded")
    cfg = config if config is not None else VideoMatchConfig()
    carphone = carphone_landmarks()
    owned = workdir is None
    tmpdir = tempfile.TemporaryDirectory(prefix="faceshot-nonhuman-") if owned else None
    tmp = Path(tmpdir.name) if tmpdir is not None else Path(workdir)  # type: ignore[arg-type]
    tmp.mkdir(parents=True, exist_ok=True)
    cache: dict[tuple[str, str], Any] = {}
    clips, points = [], {}
    try:
        reference = {
            m: human_reference(
                m, carphone, tmp, renderer=renderer, canvas=canvas, frames=frames, repo=repo
            )
            for m in motions
            if human
        }
        for style in styles:
            gallery = style_out_gallery(style, ext, tmp, cache, repo=repo, protocol=protocol)
            for code in [c for c in STYLES[style] if only is None or c in only][:characters]:
                image, pts = load_source(code, repo=repo)
                for motion in motions:
                    seq, fps = motion_sequence(motion, pts, carphone, frames)
                    img, truth = place_on_canvas(image, seq, canvas)
                    path = make_clip(
                        img, truth, tmp / f"{code}-{motion}.mp4", fps=fps, renderer=renderer
                    )
                    t = time.perf_counter()
                    old = today_path(path, ext, gallery)
                    t_old = time.perf_counter() - t
                    t = time.perf_counter()
                    new = np.asarray(
                        match_video(path, ext, gallery, config=cfg, progress=False).points
                    )
                    t_new = time.perf_counter() - t
                    row = {
                        "character": code,
                        "style": style,
                        "motion": motion,
                        "frames": len(truth),
                        "today": {**track_figures(old, truth), "fps": len(truth) / t_old},
                        "matcher": {**track_figures(new, truth), "fps": len(truth) / t_new},
                    }
                    clips.append(row)
                    points[(code, motion)] = (truth, old, new, path)
                    if log is not None:
                        log(_clip_line(row))
        return {
            "clips": clips,
            "human": reference,
            "points": points,
            "workdir": str(tmp) if not owned else None,
        }
    finally:
        if tmpdir is not None and not os.environ.get("FACESHOT_KEEP_BENCH"):
            tmpdir.cleanup()


def _clip_line(row: dict[str, Any]) -> str:
    a, b = row["today"], row["matcher"]
    return (
        f"{row['style']:<8} {row['character']:<6} {row['motion']:<9} "
        f"error {a['error']:.3f} -> {b['error']:.3f} (frame 0 {a['error_first']:.3f} -> {b['error_first']:.3f})  motion {a['motion_error']:.3f} -> {b['motion_error']:.3f}  "
        f"mouth r {a['mouth_corr']:.2f} -> {b['mouth_corr']:.2f}  eye r {a['eye_corr']:.2f} -> {b['eye_corr']:.2f}  "
        f"jitter {a['jitter']:.4f} -> {b['jitter']:.4f} (known {b['jitter_known']:.4f})  "
        f"fps {a['fps']:.1f} -> {b['fps']:.1f}"
    )


def contact_sheet(
    video: Path,
    rows: Sequence[tuple[str, NDArray[np.float64], tuple[int, int, int]]],
    frames: Sequence[int],
    out: Path,
    *,
    tile: int = 280,
    columns: int = 4,
) -> Path:
    """A PNG of chosen frames, cropped to the face, with several landmark sequences drawn.

    Args:
        video: the clip.
        rows: ``(label, (T, 68, 2) points, RGB colour)``; the first one sets the crop.
        frames: frame indices (one tile each).
        out: PNG path.
        tile: tile side in pixels.
        columns: tiles per row.
    """
    import cv2
    from faceshot_landmarks import iter_frames

    wanted = set(frames)
    tiles = []
    for t, frame in enumerate(iter_frames(video)):
        if t not in wanted:
            continue
        ref = rows[0][1][min(t, len(rows[0][1]) - 1)]
        lo, hi = ref.min(axis=0), ref.max(axis=0)
        side = 1.3 * float((hi - lo).max())
        k = tile / side
        x0, y0 = (lo + hi) / 2 - side / 2
        affine = np.array([[k, 0.0, -k * x0], [0.0, k, -k * y0]])
        img = cv2.warpAffine(
            frame, affine, (tile, tile), flags=cv2.INTER_AREA, borderValue=(255, 255, 255)
        )
        for _, pts, colour in rows:
            p = pts[min(t, len(pts) - 1)] * k - [k * x0, k * y0]
            for x, y in p:
                cv2.circle(img, (round(x), round(y)), 2, colour, -1, cv2.LINE_AA)
        cv2.putText(img, str(t), (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    sheet = np.concatenate(
        [np.concatenate(tiles[i : i + columns], axis=1) for i in range(0, len(tiles), columns)],
        axis=0,
    )
    legend = np.full((22, sheet.shape[1], 3), 255, np.uint8)
    x = 4
    for label, _, colour in rows:
        cv2.circle(legend, (x + 5, 11), 5, colour, -1)
        cv2.putText(
            legend, label, (x + 14, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
        x += 20 + 9 * len(label)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate([legend, sheet], axis=0), cv2.COLOR_RGB2BGR))
    return out
