"""faceshot-animate: landmark-driven animators and H.264 video IO.

* :class:`WarpAnimator` -- CPU, weight-free piecewise-affine mesh warp with mouth cavity
  (faceshot's embedded default; > 60 fps at 512x512 on 2 cores).
* :class:`MofaAnimator` -- GPU, MOFA-Video-style SVD landmark ControlNet; imported lazily
  from :mod:`faceshot_animate.mofa` on first access, so ``import faceshot_animate`` never
  imports torch or diffusers.
* Video IO (PyAV): :func:`probe_video`, :func:`read_video`, :class:`VideoWriter`,
  :func:`write_video`.
* Export for other landmark-driven models: :func:`render_pose_image`,
  :func:`export_sequence`.

Every animator follows the :class:`Animator` protocol.
"""

from typing import TYPE_CHECKING, Any

from faceshot_animate._image import as_uint8_image, composite_over, load_image
from faceshot_animate._panels import side_by_side
from faceshot_animate._pose import (
    EXPORT_FORMATS,
    POSE_PARTS,
    export_sequence,
    render_pose_image,
    scale_landmarks,
)
from faceshot_animate._protocol import Animator
from faceshot_animate._video import VideoInfo, VideoWriter, probe_video, read_video, write_video
from faceshot_animate._warp import WarpAnimator, WarpConfig, inner_mouth_area
from faceshot_animate.errors import (
    AnimateInputError,
    ExportError,
    FaceshotAnimateError,
    ImageError,
    VideoError,
)

if TYPE_CHECKING:  # pragma: no cover
    from faceshot_animate.mofa import MofaAnimator

__version__ = "0.1.0"

__all__ = [
    "EXPORT_FORMATS",
    "POSE_PARTS",
    "AnimateInputError",
    "Animator",
    "ExportError",
    "FaceshotAnimateError",
    "ImageError",
    "MofaAnimator",
    "VideoError",
    "VideoInfo",
    "VideoWriter",
    "WarpAnimator",
    "WarpConfig",
    "__version__",
    "as_uint8_image",
    "composite_over",
    "export_sequence",
    "inner_mouth_area",
    "load_image",
    "probe_video",
    "read_video",
    "render_pose_image",
    "scale_landmarks",
    "side_by_side",
    "write_video",
]


def __getattr__(name: str) -> Any:
    """Lazy attributes: ``MofaAnimator`` imports :mod:`faceshot_animate.mofa` (torch) on use."""
    if name == "MofaAnimator":
        from faceshot_animate.mofa import MofaAnimator

        return MofaAnimator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
