"""Resource bounds (issue #13): every bound refuses its input in under 5 s and under 500 MB.

Each case runs in a fresh Python process that imports what it needs first, then times the
refused call and reads the peak resident memory (``ru_maxrss``) before and after it, and the
peak of any child process it waited for (the SVG renderer runs in one). So the figures are
the cost of the refusal itself, not of interpreter start-up on a loaded machine.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

SECONDS = 5.0
EXTRA_MB = 500.0

_RUNNER = """
import json, resource, sys, time
{setup}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
{call}
    error = None
except BaseException as exc:
    error = f"{{type(exc).__name__}}: {{exc}}"
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"seconds": seconds, "extra_mb": (after - before) / 1024, "child_mb": children / 1024, "error": error}}))
"""


def measure(setup: str, call: str) -> dict[str, object]:
    """Run ``call`` after ``setup`` in a new interpreter; seconds, extra MB, child MB, error."""
    return measure_many(setup, [call])[0]


def measure_many(setup: str, calls: list[str]) -> list[dict[str, object]]:
    """:func:`measure` for several calls in one interpreter, one after the other (each
    call's extra memory is its rise of the peak over the peak before it)."""
    body = "\n".join(
        _RUNNER.format(setup="", call=textwrap.indent(textwrap.dedent(c), "    ")) for c in calls
    )
    code = textwrap.dedent(setup) + "\n" + body
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()[-len(calls) :]
    return [json.loads(line) for line in lines]


def assert_refused_within_bounds(result: dict[str, object], *words: str) -> None:
    error = str(result["error"])
    assert result["error"] is not None, "the call was accepted"
    assert "Traceback" not in error and "\n" not in error
    for word in words:
        assert word in error, error
    assert float(result["seconds"]) < SECONDS, result  # type: ignore[arg-type]
    assert float(result["extra_mb"]) < EXTRA_MB, result  # type: ignore[arg-type]
    assert float(result["child_mb"]) < EXTRA_MB, result  # type: ignore[arg-type]


def _huge_png(path: Path, side: int = 20000) -> None:
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(bytes(side + 1)) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bounds")
    f: dict[str, Path] = {}
    f["bomb"] = d / "bomb.svg"
    with gzip.open(f["bomb"], "wb", compresslevel=6) as gz:  # ~50 KB of gzip holding 48 MB of SVG
        gz.write(b"<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'>")
        chunk = b"<rect width='1' height='1' fill='red'/>" * (1 << 16)
        for _ in range((48 << 20) // len(chunk)):
            gz.write(chunk)
        gz.write(b"</svg>")
    f["declared"] = d / "declared.svg"
    f["declared"].write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='30000' height='30000'><circle cx='15000' cy='15000' r='9000'/></svg>"
    )
    f["slow"] = d / "slow.svg"  # ~10 MB of path data: many seconds of parsing and drawing
    steps = " ".join(f"l{(i % 7) - 3} {(i % 5) - 2}" for i in range(600_000))
    f["slow"].write_text(
        f"<svg xmlns='http://www.w3.org/2000/svg' width='512' height='512'><path d='M256 256 {steps}' stroke='black' fill='none'/></svg>"
    )
    f["huge"] = d / "huge.png"
    _huge_png(f["huge"])
    f["fifo"] = d / "fifo.npy"
    os.mkfifo(f["fifo"])
    f["zero"] = d / "zero.npy"
    os.symlink("/dev/zero", f["zero"])
    f["big"] = d / "big.npy"
    with open(f["big"], "wb") as fh:
        fh.truncate(200 << 20)
    f["header"] = d / "header.npy"
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 68, 2), }"
    hdr += " " * (117 - len(hdr)) + "\n"
    f["header"].write_bytes(
        b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode() + bytes(64)
    )
    f["deep"] = d / "deep.json"
    f["deep"].write_text("[" * 1_000_000 + "]" * 1_000_000)
    return f


def test_svg_compression_bomb(files: dict[str, Path]) -> None:
    r = measure("from faceshot import load_character", f"load_character({str(files['bomb'])!r})")
    assert_refused_within_bounds(
        r, "CharacterImageError", "bomb.svg", "inflates to more than 32 MiB"
    )


def test_svg_declared_size(files: dict[str, Path]) -> None:
    r = measure(
        "from faceshot import load_character", f"load_character({str(files['declared'])!r})"
    )
    assert_refused_within_bounds(r, "CharacterImageError", "declared.svg", "30000x30000", "89.5 MP")


def test_svg_render_time_limit(files: dict[str, Path]) -> None:
    setup = "import faceshot._io as io; io.SVG_TIMEOUT = 1.0"  # documented default: 30 s
    r = measure(setup, f"io.load_character({str(files['slow'])!r})")
    assert_refused_within_bounds(r, "CharacterImageError", "slow.svg", "took more than 1 s")


def test_raster_pixel_limit(files: dict[str, Path]) -> None:
    """Every image loader refuses a 20000x20000 PNG (0.4 MB on disk) from its header."""
    setup = (
        "from faceshot import load_character\n"
        "from faceshot_animate import load_image as animate_load\n"
        "from faceshot_features import load_image as features_load\n"
        "from faceshot_landmarks import read_image\n"
    )
    calls = {
        "load_character": "CharacterImageError",
        "animate_load": "ImageError",
        "features_load": "ImageError",
        "read_image": "FeatureMapError",
    }
    path = repr(str(files["huge"]))
    results = measure_many(setup, [f"{fn}({path})" for fn in calls])
    for error, r in zip(calls.values(), results, strict=True):
        assert_refused_within_bounds(r, error, "huge.png", "decompression-bomb")


def test_landmark_file_limits(files: dict[str, Path]) -> None:
    """FIFO and /dev/zero refused before opening; size cap; .npy header checked against the
    file size before allocation; JSON nesting refused with the file's name."""
    cases = {
        "fifo": ("FIFO (named pipe)",),
        "zero": ("character device",),
        "big": ("200.0 MiB", "128.0 MiB limit"),
        "header": ("header promises",),
        "deep": ("nested too deeply",),
    }
    results = measure_many(
        "from faceshot_retarget import load_landmarks",
        [f"load_landmarks({str(files[n])!r})" for n in cases],
    )
    for (name, words), r in zip(cases.items(), results, strict=True):
        assert_refused_within_bounds(r, "LandmarkFileError", files[name].name, *words)


_WARP_SETUP = """
import numpy as np
from faceshot_animate import WarpAnimator
from faceshot_retarget import template_face
image = np.full((512, 512, 3), 200, np.uint8)
image[200:300, 150:350] = (90, 40, 40)
ref = template_face(300.0, (256.0, 256.0))
L = np.repeat(ref[None], 3, axis=0)
"""


def test_warp_refuses_points_far_outside_the_canvas() -> None:
    setup = _WARP_SETUP + "L[1, 57] = (256.0, 1e6)\n"
    r = measure(setup, "next(WarpAnimator().animate(image, L))")
    assert_refused_within_bounds(r, "AnimateInputError", "frame 1, point 57", "far outside")


def test_warp_mouth_cavity_is_bounded_for_the_widest_allowed_opening() -> None:
    """Lips opened to the canvas edges (the largest cavity the bound allows) still render
    3 frames fast: the cavity blur is capped at 1/32 of the long side."""
    setup = (
        _WARP_SETUP
        + "L[1:, 60:68, 1] = np.where(np.arange(60, 68) < 65, -500.0, 1000.0)\nL[1:, 60:68, 0] = np.linspace(-500, 1000, 8)\n"
    )
    r = measure(
        setup,
        "frames = list(WarpAnimator().animate(image, L)); assert len(frames) == 3; raise ValueError('rendered')",
    )
    assert r["error"] == "ValueError: rendered", r
    assert float(r["seconds"]) < SECONDS and float(r["extra_mb"]) < EXTRA_MB, r  # type: ignore[arg-type]


_OPTIONS = {
    "--expression-scale": (
        ["animate", "c.png", "d.mp4", "-o", "o.mp4", "--expression-scale", "1e6"],
        "[0, 10]",
    ),
    "--max-side": (["animate", "c.png", "d.mp4", "-o", "o.mp4", "--max-side", "0"], "[32, 8192]"),
    "--size": (["render", "c.png", "L.npy", "-o", "o.mp4", "--size", "100000x100000"], "8192"),
    "--fps": (["render", "c.png", "L.npy", "-o", "o.mp4", "--fps", "1e-9"], "[1, 240]"),
    "--translation-scale": (
        [
            "retarget",
            "--driving",
            "d.npy",
            "--target",
            "t.pts",
            "-o",
            "o.npy",
            "--translation-scale",
            "1e308",
        ],
        "[0, 10]",
    ),
    "--thickness": (
        ["export", "L.npy", "--format", "pose-png", "-o", "p", "--thickness", "100000"],
        "[1, 64]",
    ),
}


def test_numeric_options_are_checked_against_their_ranges(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Out-of-range numbers are one-line usage errors (exit 2) before any file is read."""
    results = measure_many(
        "from faceshot.cli import main", [f"main({argv!r})" for argv, _ in _OPTIONS.values()]
    )
    for r in results:
        assert r["error"] == "SystemExit: 2", r
        assert float(r["seconds"]) < SECONDS and float(r["extra_mb"]) < EXTRA_MB, r  # type: ignore[arg-type]
    from faceshot.cli import main

    for option, (argv, expected) in _OPTIONS.items():
        with pytest.raises(SystemExit):
            main(argv)
        err = capfd.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and option in err and expected in err, err


def test_driving_video_frame_size_is_bounded() -> None:
    from faceshot import DrivingVideoError
    from faceshot._io import check_driving_video

    with pytest.raises(DrivingVideoError, match="10000x10 pixels; need at least 32x32"):
        check_driving_video("wide.mp4", (10000, 10))
    with pytest.raises(DrivingVideoError, match=r"20000x20000 .* above the 89\.5 MP limit"):
        check_driving_video("huge.mp4", (20000, 20000))
    check_driving_video("ok.mp4", (176, 144))


def test_the_exported_limits_are_the_documented_ones() -> None:
    from faceshot_retarget import MAX_IMAGE_PIXELS, MAX_LANDMARK_FILE_BYTES

    import faceshot._io as io

    assert MAX_IMAGE_PIXELS == 89_478_485  # Pillow's default, applied explicitly
    assert MAX_LANDMARK_FILE_BYTES == 128 << 20
    assert io.MAX_SVG_BYTES == 32 << 20 and io.SVG_TIMEOUT == 30.0 and io.SVG_MEMORY == 2 << 30
    assert np.isfinite(io.SVG_TIMEOUT)
