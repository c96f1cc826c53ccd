"""``faceshot ui`` driven in headless Chromium (Debian's /usr/bin/chromium + playwright).

Upload the test character and driving clip, find and move a landmark, render, and check
that the page shows a playable video that decodes with PyAV.
"""

from __future__ import annotations

import io
import os
import socket
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from faceshot import FaceShot
    from faceshot._ui import build_app, launch_app

    app = build_app(FaceShot(progress=False), workdir=tmp_path_factory.mktemp("ui"))
    port = _free_port()
    launch_app(app, port=port, block=False, quiet=True)  # as `faceshot ui` serves it
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        app.faceshot_cleanup()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_upload_correct_render_download(
    app_url: str, browser, demo_character: Path, demo_driving: Path
) -> None:  # type: ignore[no-untyped-def]
    import av

    page = browser.new_page()
    page.set_default_timeout(120_000)
    page.goto(app_url)
    page.locator("#character input[type=file]").set_input_files(str(demo_character))
    page.locator("#driving input[type=file]").set_input_files(str(demo_driving))
    page.wait_for_selector("#driving video")

    page.click("#find")
    img = page.wait_for_selector("#landmarks img")
    assert img is not None
    page.wait_for_function("document.querySelector('#status textarea').value.includes('68 points')")
    box = img.bounding_box()
    assert box is not None
    page.locator("#index input").fill("30")
    page.locator("#index input").press("Enter")
    page.wait_for_function(
        "document.querySelector('#status textarea').value.includes('point 30 picked')"
    )
    moved = "document.querySelector('#status textarea').value.includes('point 30 moved')"
    for _ in range(6):  # the picked image is re-drawn asynchronously: retry until a click lands
        page.wait_for_timeout(1000)
        page.locator("#landmarks img").click(position={"x": 80, "y": 96})
        try:
            page.wait_for_function(moved, timeout=5000)
            break
        except Exception:
            continue
    page.wait_for_function(moved, timeout=5000)

    page.click("#render")
    video = page.wait_for_selector("#result video[src]")
    src = video.get_attribute("src")
    assert src
    url = src if src.startswith("http") else app_url.rstrip("/") + "/" + src.lstrip("/")
    data = urllib.request.urlopen(url, timeout=60).read()
    with av.open(io.BytesIO(data)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 30
    status = page.locator("#status textarea").input_value()
    assert "30 frames" in status
    download = page.wait_for_selector("#download a")
    assert download is not None
    page.close()
