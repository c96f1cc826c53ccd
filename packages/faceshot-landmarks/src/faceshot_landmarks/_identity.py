"""Who is who: dlib's face descriptor and the grouping of face tracklets into people.

* :class:`FaceDescriber` wraps dlib's face-recognition ResNet
  (``dlib_face_recognition_resnet_model_v1.dat``, shipped by ``face_recognition_models``):
  a 150x150 aligned face chip -> a 128-d descriptor; two faces of one person are closer than
  0.6 (Euclidean), the threshold dlib documents (99.38 % on LFW).
* :func:`cluster_tracklets` groups tracklets (runs of detections of one face inside one shot)
  into people: average-linkage agglomerative clustering of their mean descriptors, merging
  only below the threshold and never two tracklets seen in the same frame.

Licence: the model file is Davis King's dlib model, redistributed by the
``face_recognition_models`` package (MIT licence); it is used here only to tell the people of
one driving video apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._extras import dlib_model_file, require_dlib

__all__ = ["CHIP_SIZE", "FaceDescriber", "cluster_tracklets", "descriptor_path", "face_chip"]

_MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"

#: Side in pixels of the aligned face chip the descriptor network reads.
CHIP_SIZE = 150


def descriptor_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Locate dlib's face-recognition ResNet file.

    Args:
        path: an explicit model file; ``None`` finds the one inside the installed
            ``face_recognition_models`` package without importing it.

    Raises:
        BackendUnavailableError: the file cannot be found.
    """
    return dlib_model_file(
        _MODEL_FILE, "dlib face-recognition model", f"dlib's face descriptor ({_MODEL_FILE})", path
    )


def face_chip(image: NDArray[np.uint8], points: ArrayLike) -> NDArray[np.uint8]:
    """The aligned (150, 150, 3) uint8 face chip dlib's descriptor network reads (about 2 ms).

    Args:
        image: (H, W, 3) uint8 RGB.
        points: (68, 2) float pixel landmarks of the face (dlib's alignment uses them).
    """
    require_dlib("face_chip (dlib)")
    import dlib

    pts = np.asarray(points, np.float64).reshape(68, 2)
    lo, hi = np.floor(pts.min(axis=0)), np.ceil(pts.max(axis=0))
    rect = dlib.rectangle(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
    parts = dlib.points([dlib.point(round(x), round(y)) for x, y in pts.tolist()])
    shape = dlib.full_object_detection(rect, parts)
    chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, size=CHIP_SIZE, padding=0.25)
    return np.asarray(chip, dtype=np.uint8)


class FaceDescriber:
    """dlib's 128-d face descriptor (ResNet, about 70 ms per face on one CPU core).

    Args:
        model: the model file (``None``: :func:`descriptor_path`).
    """

    def __init__(self, model: str | os.PathLike[str] | None = None) -> None:
        require_dlib("FaceDescriber (dlib's face descriptor)")
        import dlib

        self._dlib = dlib
        self._net = dlib.face_recognition_model_v1(str(descriptor_path(model)))

    def chip(self, image: NDArray[np.uint8], points: ArrayLike) -> NDArray[np.uint8]:
        """The aligned face chip of :func:`face_chip`."""
        return face_chip(image, points)

    def describe(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float64]:
        """Descriptors of face chips.

        Args:
            chips: (150, 150, 3) uint8 RGB chips from :meth:`chip`.

        Returns:
            (n, 128) float64 (``(0, 128)`` for no chips).
        """
        if not chips:
            return np.zeros((0, 128))
        out = self._net.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(d) for d in out], dtype=np.float64).reshape(len(chips), 128)


def cluster_tracklets(
    descriptors: ArrayLike, cannot_link: ArrayLike, *, threshold: float = 0.6
) -> NDArray[np.intp]:
    """Group tracklets into people by their descriptors (average linkage, cannot-link aware).

    Args:
        descriptors: (n, 128) float, one mean descriptor per tracklet.
        cannot_link: (n, n) bool, symmetric: True where two tracklets are seen in the same
            frame (two faces at once are two people, however alike).
        threshold: merge two groups while their average pairwise descriptor distance is below
            this (dlib's 0.6).

    Returns:
        (n,) intp labels 0..k-1, numbered by first tracklet (tracklet 0 is in group 0).

    Convention:
        Deterministic: the closest allowed pair is merged first (ties: lowest indices).
    """
    d = np.asarray(descriptors, np.float64)
    n = len(d)
    if n == 0:
        return np.zeros(0, np.intp)
    forbid = np.asarray(cannot_link, bool).reshape(n, n)
    dist = np.linalg.norm(d[:, None] - d[None], axis=2)
    size = np.ones(n)
    alive = np.ones(n, bool)
    label = np.arange(n)
    total = dist.copy()  # sum of pairwise distances between groups (average = total / (na nb))
    blocked = forbid | forbid.T
    while True:
        avg = total / np.outer(size, size)
        allowed = alive[:, None] & alive[None] & ~blocked & ~np.eye(n, dtype=bool)
        avg = np.where(allowed, avg, np.inf)
        flat = int(np.argmin(avg))
        i, j = divmod(flat, n)
        if not avg[i, j] < threshold:
            break
        i, j = min(i, j), max(i, j)
        total[i] += total[j]
        total[:, i] += total[:, j]
        total[i, i] = 0.0
        size[i] += size[j]
        blocked[i] |= blocked[j]
        blocked[:, i] |= blocked[:, j]
        alive[j] = False
        label[label == j] = i
    _, out = np.unique(label, return_inverse=True)
    return np.asarray(out, dtype=np.intp)
