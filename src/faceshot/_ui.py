"""The ``faceshot ui`` web app (Gradio Blocks, served on 127.0.0.1 only).

Flow: upload a character (PNG/JPEG/SVG) and a driving video -> "Find landmarks" shows the
matched 68 points over the character -> correct points (pick a point index, then click on the
image where it belongs: Gradio images have no drag events, so click-to-place is the drag
substitute; the picked point is drawn red) -> "Render" -> the animated video plays in the page
and can be downloaded.
"""

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["build_app", "draw_landmarks"]

_CHARACTER_TYPES = [".png", ".jpg", ".jpeg", ".svg", ".webp", ".bmp"]


def draw_landmarks(image: NDArray[np.uint8], points: NDArray[np.float64], selected: "int | None" = None) -> NDArray[np.uint8]:
    """RGB copy of ``image`` with the 68 points drawn (green; ``selected`` red)."""
    from faceshot_animate import composite_over
    from faceshot_landmarks import draw_points

    rgb = np.ascontiguousarray(composite_over(image)[..., :3])
    visible = np.ones(len(points), bool)
    if selected is not None and 0 <= selected < len(points):
        visible[selected] = False
    radius = max(2, round(max(rgb.shape[:2]) / 200))
    return draw_points(rgb, points, visible, radius=radius)


def build_app(fs: Any = None, *, workdir: "str | Path | None" = None) -> Any:
    """The Gradio Blocks app (this module avoids postponed annotations: Gradio reads the
    ``gr.SelectData`` annotation of the click handler at run time).

    Args:
        fs: a :class:`faceshot.FaceShot` (default: ``FaceShot(progress=False)``).
        workdir: where rendered videos are written (default: a new temporary directory).
    """
    import gradio as gr

    from faceshot import FaceShot

    fs = fs if fs is not None else FaceShot(progress=False)
    outdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="faceshot-ui-"))

    def _path(upload: Any) -> str | None:
        if upload is None:
            return None
        return str(getattr(upload, "name", upload))

    def find_landmarks(upload: Any) -> tuple[Any, Any, Any, str]:
        path = _path(upload)
        if path is None:
            raise gr.Error("upload a character image first")
        try:
            character = fs.load(path)
            points = np.asarray(fs.match(character).points, dtype=np.float64)
        except Exception as exc:
            raise gr.Error(" ".join(str(exc).split())) from None
        state = {"image": character.image, "points": points}
        return draw_landmarks(character.image, points), state, gr.update(value=0), "68 points matched; pick an index and click to move it"

    def pick(state: Any, index: Any) -> tuple[Any, str]:
        if not state:
            return None, "find the landmarks first"
        i = int(index or 0)
        x, y = state["points"][i]
        return draw_landmarks(state["image"], state["points"], i), f"point {i} picked at ({x:.0f}, {y:.0f}); click where it belongs"

    def place(state: Any, index: Any, evt: gr.SelectData) -> tuple[Any, Any, str]:
        if not state:
            raise gr.Error("find the landmarks first")
        i = int(index or 0)
        x, y = (float(v) for v in evt.index)
        points = np.array(state["points"], copy=True)
        points[i] = (x, y)
        new = {"image": state["image"], "points": points}
        return draw_landmarks(state["image"], points, i), new, f"point {i} moved to ({x:.0f}, {y:.0f})"

    def render(upload: Any, video: Any, state: Any) -> tuple[str, str, str]:
        path, driving = _path(upload), _path(video)
        if path is None or driving is None:
            raise gr.Error("upload a character image and a driving video")
        out = Path(tempfile.mkdtemp(dir=outdir)) / "faceshot.mp4"
        try:
            if state:
                result = fs.animate(state["image"], driving, out, landmarks=state["points"])
            else:
                result = fs.animate(path, driving, out)
        except Exception as exc:
            raise gr.Error(" ".join(str(exc).split())) from None
        total = result.wall
        return str(out), str(out), f"{result.frames} frames at {result.fps:g} fps in {total:.1f} s"

    with gr.Blocks(title="FaceShot") as app:
        gr.Markdown("# FaceShot\nBring any character to life with a driving video (CPU, no weights).")
        state = gr.State(None)
        with gr.Row():
            with gr.Column():
                character = gr.File(label="Character image (PNG, JPEG, SVG)", file_types=_CHARACTER_TYPES, elem_id="character")
                driving = gr.Video(label="Driving video (a human face)", sources=["upload"], elem_id="driving")
                find = gr.Button("Find landmarks", elem_id="find")
                render_btn = gr.Button("Render", variant="primary", elem_id="render")
                status = gr.Textbox(label="Status", interactive=False, elem_id="status")
            with gr.Column():
                marked = gr.Image(label="Landmarks (click to move the picked point)", interactive=False, elem_id="landmarks")
                index = gr.Number(label="Point to move (0-67, iBUG order)", value=0, minimum=0, maximum=67, precision=0, elem_id="index")
                result = gr.Video(label="Result", interactive=False, elem_id="result")
                download = gr.File(label="Download", interactive=False, elem_id="download")
        find.click(find_landmarks, inputs=character, outputs=[marked, state, index, status])
        index.change(pick, inputs=[state, index], outputs=[marked, status])
        marked.select(place, inputs=[state, index], outputs=[marked, state, status])
        render_btn.click(render, inputs=[character, driving, state], outputs=[result, download, status])
        character.change(lambda _: (None, None), inputs=character, outputs=[state, marked])
    app.faceshot_outdir = outdir  # type: ignore[attr-defined]
    return app
