"""The ``faceshot ui`` web app (Gradio Blocks, served on 127.0.0.1 only).

Flow: upload a character (PNG/JPEG/SVG) and a driving video -> "Find landmarks" shows the
matched 68 points over the character -> correct points (pick a point index, then click on the
image where it belongs: Gradio images have no drag events, so click-to-place is the drag
substitute; the picked point is drawn red) -> "Render" -> the animated video plays in the page
and can be downloaded.

Safety (start it with :func:`launch_app`, which ``faceshot ui`` uses):

* served on 127.0.0.1 only; every HTTP and websocket request must carry a loopback ``Host``
  (127.0.0.1, localhost, [::1]; against DNS rebinding) and, when it has an ``Origin``, a
  loopback origin on the same port: pages of other sites (and ``null`` origins) get 403;
* uploads are limited to :data:`DEFAULT_MAX_UPLOAD_MB` MB each (``faceshot ui
  --max-upload-mb``, ``launch_app(max_upload_mb=...)``); larger ones get 413;
* uploads go to an ``uploads`` folder inside the app's work folder (``GRADIO_TEMP_DIR`` points
  there while the app is built and served, and is restored when it stops), not to the shared
  ``/tmp/gradio``;
  the uploads and rendered videos of a session are deleted when its tab is closed, and every
  file the app made (uploads, Gradio's scratch files, the ``faceshot-ui-*`` work folder)
  when the server stops;
* a user error (unreadable image, no face, ...) is shown in the page and logged as one line,
  without a traceback.
"""

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "LoopbackOnly", "build_app", "draw_landmarks", "launch_app"]

#: Default upload size limit per file, megabytes (a minute of 1080p video is ~100 MB).
DEFAULT_MAX_UPLOAD_MB = 200
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
_LOG = logging.getLogger("faceshot.ui")

_CHARACTER_TYPES = [".png", ".jpg", ".jpeg", ".svg", ".webp", ".bmp"]


def draw_landmarks(
    image: NDArray[np.uint8], points: NDArray[np.float64], selected: "int | None" = None
) -> NDArray[np.uint8]:
    """RGB copy of ``image`` with the 68 points drawn (green; ``selected`` red)."""
    from faceshot_animate import composite_over
    from faceshot_landmarks import draw_points

    rgb = np.ascontiguousarray(composite_over(image)[..., :3])
    visible = np.ones(len(points), bool)
    if selected is not None and 0 <= selected < len(points):
        visible[selected] = False
    radius = max(2, round(max(rgb.shape[:2]) / 200))
    return draw_points(rgb, points, visible, radius=radius)


def _split_host(value: str) -> tuple[str, str]:
    """``"127.0.0.1:7860"`` -> (``"127.0.0.1"``, ``"7860"``); IPv6 in brackets kept."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1], value[end + 2 :] if end >= 0 else ""
    host, _, port = value.partition(":")
    return host, port


class LoopbackOnly:
    """ASGI middleware: only pages served from this machine may call the app.

    Refuses (403) any HTTP or websocket request whose ``Host`` is not a loopback name
    (DNS rebinding: a foreign site resolving its name to 127.0.0.1), and any request with an
    ``Origin`` that is not ``http(s)://<loopback>:<the same port>`` (a foreign page posting
    a multipart upload, or ``null`` from a sandboxed frame or a local file).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        problem = self.problem(headers.get("host"), headers.get("origin"))
        if problem is None:
            await self.app(scope, receive, send)
            return
        _LOG.warning(
            "faceshot ui: refused %s %s: %s",
            scope.get("method", "WS"),
            scope.get("path", ""),
            problem,
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = f"forbidden: {problem}\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def problem(host: str | None, origin: str | None) -> str | None:
        """Why a request with these headers is refused, or ``None``."""
        if not host:
            return "no Host header"
        host_name, host_port = _split_host(host)
        if host_name not in _LOOPBACK:
            return f"Host {host!r} is not this machine's loopback address"
        if origin is None:
            return None
        scheme, sep, rest = origin.strip().lower().partition("://")
        if not sep or scheme not in ("http", "https"):
            return f"Origin {origin!r} is not a page of this app"
        origin_name, origin_port = _split_host(rest.split("/", 1)[0])
        if origin_name not in _LOOPBACK or origin_port != host_port:
            return f"Origin {origin!r} is not a page of this app"
        return None


def _is_user_error(exc: BaseException) -> bool:
    """Errors caused by the inputs (shown in the page, one log line, no traceback)."""
    if isinstance(exc, (ValueError, OSError)):
        return True
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(
        names
        & {
            "FaceshotError",
            "FaceshotLandmarksError",
            "FaceshotAnimateError",
            "FaceshotFeaturesError",
            "FaceshotRetargetError",
        }
    )


@contextmanager
def _upload_folder(path: Path) -> Iterator[None]:
    """Point Gradio's upload folder (``GRADIO_TEMP_DIR``, read when components and the server
    app are created) at ``path`` for the duration of the block, then restore it."""
    old = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = old


def _remove(path: "str | Path", uploads: "Path | None" = None) -> None:
    """Delete a file or folder the app made; an emptied upload folder of Gradio's goes too."""
    p = Path(path)
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
        parent = p.parent
        if uploads is not None and parent != uploads and parent.parent == uploads:
            try:
                parent.rmdir()  # only when empty
            except OSError:
                pass


def build_app(fs: Any = None, *, workdir: "str | Path | None" = None) -> Any:
    """The Gradio Blocks app (this module avoids postponed annotations: Gradio reads the
    ``gr.SelectData`` and ``gr.Request`` annotations of the handlers at run time).

    Start it with :func:`launch_app` (loopback only, upload limit, Host/Origin check, clean-up).

    Args:
        fs: a :class:`faceshot.FaceShot` (default: ``FaceShot(progress=False)``).
        workdir: where uploads (``uploads/``) and rendered videos are written (default: a
            new ``faceshot-ui-*`` temporary directory, deleted when the server stops; a given
            one is kept, only the files the app made in it are deleted).

    Returns:
        The ``gradio.Blocks``, with ``faceshot_outdir`` (the work folder) and
        ``faceshot_cleanup()`` (delete every file the app made; idempotent).
    """
    from faceshot_retarget import require_extra

    require_extra(("gradio",), extra="faceshot[ui]", what="the web UI (faceshot ui)")
    import gradio as gr

    from faceshot import FaceShot

    fs = fs if fs is not None else FaceShot(progress=False)
    own_dir = workdir is None
    outdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="faceshot-ui-"))
    sessions: dict[str, set[str]] = {}
    lock = threading.Lock()

    def _track(request: Any, *paths: "str | Path | None") -> None:
        key = getattr(request, "session_hash", None) or "-"
        with lock:
            bucket = sessions.setdefault(key, set())
            bucket.update(str(p) for p in paths if p)

    uploads = (outdir / "uploads").resolve()
    uploads.mkdir(exist_ok=True)

    def end_session(request: gr.Request) -> None:
        key = getattr(request, "session_hash", None) or "-"
        with lock:
            paths = sessions.pop(key, set())
        for p in paths:
            _remove(p, uploads)

    def cleanup() -> None:
        with lock:
            paths = set().union(*sessions.values()) if sessions else set()
            sessions.clear()
        for temp_set in getattr(app, "temp_file_sets", []):  # every upload Gradio took for this app
            paths.update(str(p) for p in list(temp_set))
        for p in paths:
            _remove(p, uploads)
        shutil.rmtree(uploads, ignore_errors=True)
        if own_dir:
            shutil.rmtree(outdir, ignore_errors=True)
        restore = getattr(app, "faceshot_restore_uploads", None)
        if restore is not None:
            restore()

    def _fail(exc: Exception) -> Any:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if _is_user_error(exc):
            _LOG.warning("faceshot ui: %s", msg)
            return gr.Error(msg, print_exception=False)
        return gr.Error(msg)

    def _path(upload: Any) -> str | None:
        if upload is None:
            return None
        return str(getattr(upload, "name", upload))

    def find_landmarks(upload: Any, request: gr.Request) -> tuple[Any, Any, Any, str]:
        path = _path(upload)
        _track(request, path)
        if path is None:
            raise gr.Error("upload a character image first", print_exception=False)
        try:
            character = fs.load(path)
            points = np.asarray(fs.match(character).points, dtype=np.float64)
        except Exception as exc:
            raise _fail(exc) from None
        state = {"image": character.image, "points": points}
        return (
            draw_landmarks(character.image, points),
            state,
            gr.update(value=0),
            "68 points matched; pick an index and click to move it",
        )

    def pick(state: Any, index: Any) -> tuple[Any, str]:
        if not state:
            return None, "find the landmarks first"
        i = int(np.clip(int(index or 0), 0, 67))
        x, y = state["points"][i]
        return draw_landmarks(
            state["image"], state["points"], i
        ), f"point {i} picked at ({x:.0f}, {y:.0f}); click where it belongs"

    def place(state: Any, index: Any, evt: gr.SelectData) -> tuple[Any, Any, str]:
        if not state:
            raise gr.Error("find the landmarks first", print_exception=False)
        i = int(np.clip(int(index or 0), 0, 67))
        x, y = (float(v) for v in evt.index)
        points = np.array(state["points"], copy=True)
        points[i] = (x, y)
        new = {"image": state["image"], "points": points}
        return (
            draw_landmarks(state["image"], points, i),
            new,
            f"point {i} moved to ({x:.0f}, {y:.0f})",
        )

    def render(upload: Any, video: Any, state: Any, request: gr.Request) -> tuple[str, str, str]:
        path, driving = _path(upload), _path(video)
        _track(request, path, driving)
        if path is None or driving is None:
            raise gr.Error("upload a character image and a driving video", print_exception=False)
        session_dir = Path(tempfile.mkdtemp(dir=outdir))
        _track(request, session_dir)
        out = session_dir / "faceshot.mp4"
        try:
            if state:
                result = fs.animate(state["image"], driving, out, landmarks=state["points"])
            else:
                result = fs.animate(path, driving, out)
        except Exception as exc:
            raise _fail(exc) from None
        total = result.wall
        return str(out), str(out), f"{result.frames} frames at {result.fps:g} fps in {total:.1f} s"

    with _upload_folder(uploads), gr.Blocks(title="FaceShot", delete_cache=(600, 3600)) as app:
        gr.Markdown(
            "# FaceShot\nBring any character to life with a driving video (CPU, no weights)."
        )
        state = gr.State(None)
        with gr.Row():
            with gr.Column():
                character = gr.File(
                    label="Character image (PNG, JPEG, SVG)",
                    file_types=_CHARACTER_TYPES,
                    elem_id="character",
                )
                driving = gr.Video(
                    label="Driving video (a human face)", sources=["upload"], elem_id="driving"
                )
                find = gr.Button("Find landmarks", elem_id="find")
                render_btn = gr.Button("Render", variant="primary", elem_id="render")
                status = gr.Textbox(label="Status", interactive=False, elem_id="status")
            with gr.Column():
                marked = gr.Image(
                    label="Landmarks (click to move the picked point)",
                    interactive=False,
                    elem_id="landmarks",
                )
                index = gr.Number(
                    label="Point to move (0-67, iBUG order)",
                    value=0,
                    minimum=0,
                    maximum=67,
                    precision=0,
                    elem_id="index",
                )
                result = gr.Video(label="Result", interactive=False, elem_id="result")
                download = gr.File(label="Download", interactive=False, elem_id="download")
        find.click(find_landmarks, inputs=character, outputs=[marked, state, index, status])
        index.change(pick, inputs=[state, index], outputs=[marked, status])
        marked.select(place, inputs=[state, index], outputs=[marked, state, status])
        render_btn.click(
            render, inputs=[character, driving, state], outputs=[result, download, status]
        )
        character.change(lambda _: (None, None), inputs=character, outputs=[state, marked])
        app.unload(end_session)
    app.faceshot_outdir = outdir  # type: ignore[attr-defined, unused-ignore]
    app.faceshot_uploads = uploads  # type: ignore[attr-defined, unused-ignore]
    app.faceshot_cleanup = cleanup  # type: ignore[attr-defined, unused-ignore]
    return app


def launch_app(
    app: Any,
    *,
    port: int = 7860,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    block: bool = True,
    quiet: bool = False,
) -> Any:
    """Serve an app from :func:`build_app` on 127.0.0.1 with the safety settings.

    Args:
        app: the Blocks from :func:`build_app`.
        port: TCP port on 127.0.0.1.
        max_upload_mb: largest upload accepted, megabytes (larger: HTTP 413).
        block: serve until interrupted (Ctrl-C, SIGTERM), then stop and delete every file
            the app made; ``False``: return at once (call ``app.close()`` and
            ``app.faceshot_cleanup()`` to stop).
        quiet: no start-up banner.

    Returns:
        What ``gradio.Blocks.launch`` returns.
    """
    from starlette.middleware import Middleware

    if not 0 < float(max_upload_mb) <= 1 << 20:
        raise ValueError(f"`max_upload_mb` must be in (0, 1048576]; got {max_upload_mb!r}")
    cleanup = app.faceshot_cleanup

    @asynccontextmanager
    async def lifespan(_: Any) -> Any:
        try:
            yield
        finally:
            cleanup()  # the server stops: uploads and the work folder go

    # Gradio reads its upload folder when the server app is made and again per request:
    # point it at this app's folder while the app is served (cleanup restores it).
    old = os.environ.get("GRADIO_TEMP_DIR")

    def restore() -> None:
        if old is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = old

    app.faceshot_restore_uploads = restore
    os.environ["GRADIO_TEMP_DIR"] = str(app.faceshot_uploads)
    try:
        return app.launch(
            server_name="127.0.0.1",
            server_port=int(port),
            share=False,
            prevent_thread_lock=not block,
            allowed_paths=[str(app.faceshot_outdir)],
            max_file_size=int(float(max_upload_mb) * (1 << 20)),
            app_kwargs={"middleware": [Middleware(LoopbackOnly)], "lifespan": lifespan},
            quiet=quiet,
        )
    finally:
        if block:
            app.close(verbose=False)
            cleanup()
