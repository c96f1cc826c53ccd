"""Small geometric helpers shared by the rig, the renderer and the quality figures.

Convention: points are (..., 2) float64 pixel (x, y), origin at the top-left pixel centre
(OpenCV's drawing convention too), +y down; image sizes are (H, W); masks are (H, W).
"""

from __future__ import annotations

import cv2
import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = [
    "fill_polygon",
    "head_oval",
    "mask_to_polygon",
    "polygon_rings",
]

#: Fixed-point fraction bits handed to OpenCV's drawing functions (sub-pixel vertices).
SHIFT = 4
_ONE = 1 << SHIFT


def head_oval(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """A landmark-only outline of the whole head: the jaw plus its mirror image above.

    The jaw (points 0-16) is reflected across the jaw chord (the line through points 0 and
    16), giving an oval as high as twice the chord-to-chin distance: forehead and hair of
    an upright head, derived from the landmarks alone (no segmentation).

    Args:
        landmarks: (68, 2) float64 pixel (x, y).

    Returns:
        (32, 2) float64 closed polygon (jaw 0..16, then the reflected jaw 15..1), pixels.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    a, b = lm[0], lm[16]
    axis = b - a
    norm = float(np.hypot(axis[0], axis[1]))
    u = axis / norm if norm > 1e-9 else np.array([1.0, 0.0])
    jaw = lm[0:17]
    rel = jaw - a
    along = rel @ u
    across = rel @ np.array([-u[1], u[0]])
    mirrored = a + along[:, None] * u - across[:, None] * np.array([-u[1], u[0]])
    return np.concatenate([jaw, mirrored[15:0:-1]])


def polygon_rings(
    geom: shapely.Geometry,
) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """(exteriors, holes) of the polygons of a shapely geometry, each (n, 2) float64."""
    outer: list[NDArray[np.float64]] = []
    holes: list[NDArray[np.float64]] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, shapely.Polygon) and not g.is_empty:
            outer.append(np.asarray(g.exterior.coords, dtype=np.float64))
            holes.extend(np.asarray(r.coords, dtype=np.float64) for r in g.interiors)
    return outer, holes


def fill_polygon(
    mask: NDArray[np.generic],
    geom: shapely.Geometry | NDArray[np.float64],
    value: float | tuple[float, ...] = 1,
    *,
    offset: tuple[float, float] = (0.0, 0.0),
    antialias: bool = False,
) -> None:
    """Rasterise a polygon (shapely geometry or (n, 2) vertex array) into ``mask`` in place.

    Args:
        mask: (h, w) or (h, w, C) array, drawn into.
        geom: polygon(s) in pixel (x, y); holes of shapely polygons are cut out.
        value: fill value (scalar or per channel).
        offset: (x0, y0) of ``mask``'s top-left pixel in the polygon's coordinates.
        antialias: OpenCV's anti-aliased edges (uint8 masks only).
    """
    if isinstance(geom, np.ndarray):
        outer: list[NDArray[np.float64]] = [np.asarray(geom, dtype=np.float64)]
        holes: list[NDArray[np.float64]] = []
    else:
        outer, holes = polygon_rings(geom)
    if not outer:
        return
    line = cv2.LINE_AA if antialias else cv2.LINE_8
    o = np.asarray(offset, dtype=np.float64)
    rings = [np.round((r - o) * _ONE).astype(np.int32) for r in outer]
    cv2.fillPoly(mask, rings, value, line, SHIFT)  # type: ignore[arg-type]
    if holes:
        zero = 0 if np.isscalar(value) else tuple(0 for _ in value)  # type: ignore[union-attr]
        rings = [np.round((r - o) * _ONE).astype(np.int32) for r in holes]
        cv2.fillPoly(mask, rings, zero, line, SHIFT)  # type: ignore[arg-type]


def mask_to_polygon(
    mask: NDArray[np.generic], *, offset: tuple[float, float] = (0.0, 0.0)
) -> shapely.Geometry:
    """The outlines of a binary mask as a valid shapely (Multi)Polygon, pixel (x, y).

    Contours run through the centres of the boundary pixels (OpenCV's ``findContours``),
    so the polygon is half a pixel inside the mask's edge; holes are kept.
    """
    m = (np.asarray(mask) > 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return shapely.Polygon()
    polys = []
    h = hierarchy[0]
    for i, c in enumerate(contours):
        if h[i][3] != -1 or len(c) < 3:
            continue
        ring = c.reshape(-1, 2).astype(np.float64) + offset
        holes = []
        j = h[i][2]
        while j != -1:
            if len(contours[j]) >= 3:
                holes.append(contours[j].reshape(-1, 2).astype(np.float64) + offset)
            j = h[j][0]
        polys.append(shapely.Polygon(ring, holes))
    geom = (
        shapely.make_valid(shapely.MultiPolygon(polys))
        if len(polys) > 1
        else shapely.make_valid(polys[0])
        if polys
        else shapely.Polygon()
    )
    return geom
