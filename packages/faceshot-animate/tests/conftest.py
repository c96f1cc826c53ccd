"""Shared fixtures: a synthetic textured face with known landmarks, and small videos."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from faceshot_retarget import template_face
from numpy.typing import NDArray

DATA = Path(__file__).parent / "data"
SIZE = 256
CENTRE = (128.0, 124.0)
FACE_WIDTH = 130.0


def face_landmarks() -> NDArray[np.float64]:
    """(68, 2) landmarks of the synthetic face (the template, mouth slightly open)."""
    return template_face(FACE_WIDTH, CENTRE)


def draw_face(lm: NDArray[np.float64], size: int = SIZE, seed: int = 0) -> NDArray[np.uint8]:
    """(size, size, 3) uint8: textured background, skin ellipse, dark pupils, red lips."""
    rng = np.random.default_rng(seed)
    noise = rng.random((size, size, 3)).astype(np.float32)
    img = cv2.GaussianBlur(noise, (0, 0), 2.0)
    img = (img - img.min()) / (np.ptp(img) + 1e-9)
    img = np.round(80 + 100 * img).astype(np.uint8)
    centre = lm[[0, 16, 8, 27]].mean(axis=0)
    axes = (int(0.62 * FACE_WIDTH), int(0.78 * FACE_WIDTH))
    skin = np.zeros((size, size), np.uint8)
    cv2.ellipse(skin, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, 255, -1)
    texture = (rng.random((size, size)) * 30).astype(np.float32)
    texture = cv2.GaussianBlur(texture, (0, 0), 1.5)
    for c, base in enumerate((225, 185, 150)):
        ch = img[:, :, c]
        ch[skin > 0] = np.clip(base - 15 + texture[skin > 0], 0, 255).astype(np.uint8)
    for eye in (slice(36, 42), slice(42, 48)):
        cv2.fillPoly(img, [np.round(lm[eye]).astype(np.int32)], (245, 245, 245))
        c = lm[eye].mean(axis=0)
        cv2.circle(img, (round(c[0]), round(c[1])), 5, (15, 15, 25), -1)
    for brow in (slice(17, 22), slice(22, 27)):
        cv2.polylines(img, [np.round(lm[brow]).astype(np.int32)], False, (70, 45, 30), 3)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (185, 45, 55))
    return img


@pytest.fixture
def face() -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    lm = face_landmarks()
    return draw_face(lm), lm


def write_test_video(
    path: Path,
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    fps: Fraction | int = 25,
    audio: str | None = None,
) -> Path:
    """Write a small H.264 video (moving gradient) with optional audio ('aac', 'pcm_s16le')."""
    import av

    w, h = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        a = None
        if audio is not None:
            a = c.add_stream(audio, rate=44100)
        for i in range(frames):
            x = np.linspace(0, 255, w)[None, :, None] + 10 * i
            arr = np.broadcast_to(x % 256, (h, w, 3)).astype(np.uint8)
            for p in v.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            ):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None:
            n = int(44100 * frames / float(fps))
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
            step = 1024
            for k, start in enumerate(range(0, n, step)):
                chunk = np.ascontiguousarray(np.stack([tone[start : start + step]] * 2))
                if audio.startswith("pcm_s16"):
                    packed = np.round(chunk.T.reshape(1, -1) * 32767).astype(np.int16)
                    af = av.AudioFrame.from_ndarray(packed, format="s16", layout="stereo")
                else:
                    af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate = 44100
                af.pts = k * step
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


@pytest.fixture(scope="session")
def synth():  # type: ignore[no-untyped-def]
    """Helpers for tests (pytest's importlib mode cannot import conftest directly)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        SIZE=SIZE,
        FACE_WIDTH=FACE_WIDTH,
        DATA=DATA,
        draw_face=draw_face,
        face_landmarks=face_landmarks,
        write_test_video=write_test_video,
    )
