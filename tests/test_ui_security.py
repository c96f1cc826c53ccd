"""``faceshot ui`` safety over plain HTTP on the loopback interface (issue #13).

Host/Origin check (DNS rebinding, cross-site uploads), the upload size limit, clean-up of a
session's uploads and renders when its page closes and of everything when the server stops,
and user errors logged as one line without a traceback.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from faceshot._ui import LoopbackOnly

LIMIT_MB = 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def request(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        method: str | None = None,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.base + path, data=data, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()

    def upload(
        self, name: str, content: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        boundary = "----faceshot-test"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        h = {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})}
        return self.request("/gradio_api/upload", h, body, "POST")


@pytest.fixture(scope="module")
def server() -> Any:
    from faceshot._ui import build_app, launch_app

    app = build_app()  # its own faceshot-ui-* work folder
    port = _free_port()
    launch_app(app, port=port, max_upload_mb=LIMIT_MB, block=False, quiet=True)
    srv = Server(app, port)
    try:
        yield srv
    finally:
        app.close(verbose=False)
        app.faceshot_cleanup()


def test_loopback_host_and_same_origin_are_served(server: Server) -> None:
    assert server.request("/")[0] == 200
    assert server.request("/", {"Host": f"localhost:{server.port}"})[0] == 200
    assert server.request("/config", {"Origin": f"http://localhost:{server.port}"})[0] == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},  # DNS rebinding: a foreign name resolving to 127.0.0.1
        {"Host": "attacker.test:7860"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},  # another local app's page
    ],
    ids=["host", "host-port", "origin", "origin-null", "origin-other-port"],
)
def test_foreign_host_or_origin_is_refused(server: Server, headers: dict[str, str]) -> None:
    status, body = server.request("/config", headers)
    assert status == 403, body
    status, body = server.upload("c.png", b"x" * 100, headers)
    assert status == 403, body


def test_upload_size_limit(server: Server) -> None:
    status, body = server.upload("small.png", b"x" * 1000)
    assert status == 200, body
    path = Path(json.loads(body)[0])
    assert path.is_file()
    status, body = server.upload("big.png", b"x" * (LIMIT_MB * 2 << 20))
    assert status == 413, body
    assert b"maximum allowed size" in body


def _run(server: Server, fn_index: int, data: list[Any], session: str) -> dict[str, Any]:
    body = json.dumps(
        {
            "data": data,
            "event_data": None,
            "fn_index": fn_index,
            "trigger_id": None,
            "session_hash": session,
        }
    ).encode()
    status, out = server.request(
        "/gradio_api/queue/join", {"Content-Type": "application/json"}, body, "POST"
    )
    assert status == 200, out
    with urllib.request.urlopen(
        f"{server.base}/gradio_api/queue/data?session_hash={session}", timeout=120
    ) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:") and "process_completed" in line:
                return dict(json.loads(line[5:]))
    raise AssertionError("no process_completed event")


def _file(path: str, name: str) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}


def test_user_error_is_one_log_line_and_the_session_is_cleaned_up(
    server: Server,
    demo_character: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = json.loads(server.request("/config")[1])
    render = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "render")
    status, body = server.upload("c.png", demo_character.read_bytes())
    assert status == 200, body
    character = json.loads(body)[0]
    status, body = server.upload("v.mp4", b"this is not a video" * 50)
    assert status == 200, body
    video = json.loads(body)[0]
    capfd.readouterr()
    result = _run(
        server, render, [_file(character, "c.png"), _file(video, "v.mp4"), None], "session-a"
    )
    assert result["success"] is False
    assert "cannot read video" in result["output"]["error"]
    time.sleep(0.5)
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out
    lines = [r.getMessage() for r in caplog.records if r.name == "faceshot.ui"]
    assert sum("cannot read video" in ln for ln in lines) == 1, lines
    assert all("\n" not in ln and not any(r.exc_info for r in caplog.records) for ln in lines)
    assert Path(character).exists() and Path(video).exists()
    assert Path(character).is_relative_to(server.app.faceshot_uploads)  # not the shared /tmp/gradio
    sessions = [p for p in server.app.faceshot_outdir.iterdir() if p.name != "uploads"]
    assert sessions, "the render made a session folder"
    # The page closes: its heartbeat connection ends and the session's files are deleted.
    beat = urllib.request.urlopen(f"{server.base}/gradio_api/heartbeat/session-a", timeout=30)
    assert beat.readline().startswith(b"data:")
    beat.close()
    t0 = time.monotonic()
    while (
        Path(character).exists() or Path(video).exists() or any(p.exists() for p in sessions)
    ) and time.monotonic() - t0 < 20:
        time.sleep(0.1)
    assert not Path(character).exists() and not Path(video).exists()
    assert not any(p.exists() for p in sessions)


def test_stopping_the_server_deletes_everything_it_made(demo_character: Path) -> None:
    from faceshot._ui import build_app, launch_app

    app = build_app()
    workdir = Path(app.faceshot_outdir)
    assert workdir.name.startswith("faceshot-ui-") and workdir.is_dir()
    srv = Server(app, _free_port())
    launch_app(app, port=srv.port, block=False, quiet=True)
    status, body = srv.upload("c.png", demo_character.read_bytes())
    upload = Path(json.loads(body)[0])
    assert status == 200 and upload.is_file()
    assert upload.is_relative_to(workdir / "uploads")  # not the shared /tmp/gradio
    app.close(verbose=False)
    app.faceshot_cleanup()
    assert not workdir.exists()
    assert not upload.exists() and not upload.parent.exists()


def test_loopback_rules() -> None:
    ok = LoopbackOnly.problem
    assert ok("127.0.0.1:7860", None) is None
    assert ok("localhost:7860", "http://127.0.0.1:7860") is None
    assert ok("[::1]:7860", "http://[::1]:7860") is None
    assert "Host" in str(ok("example.com", None))
    assert "Host" in str(ok(None, None))
    assert "Origin" in str(ok("127.0.0.1:7860", "https://127.0.0.1.evil.example:7860"))
    assert "Origin" in str(ok("127.0.0.1:7860", "file://"))
