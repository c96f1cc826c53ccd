"""faceshot-animate: landmark-driven animators and H.264 video IO.

* :class:`RigAnimator` -- CPU, weight-free, part-aware renderer (faceshot's default): a rig
  built once per character (head region, feature layers, the character's own colours),
  the head moved by a similarity, features deformed smoothly (moving least squares) inside
  it, mouth cavity and lids drawn in the character's palette.
* :class:`WarpAnimator` -- CPU, weight-free piecewise-affine mesh warp with mouth cavity
  (the first renderer, kept as the baseline).
* :class:`MofaAnimator` -- GPU, MOFA-Video-style SVD landmark ControlNet; imported lazily
  from :mod:`faceshot_animate.mofa` on first access, so ``import faceshot_animate`` never
  imports torch or diffusers.
* Video IO (PyAV): :func:`probe_video`, :func:`read_video`, :class:`VideoWriter`,
  :func:`write_video`.
* Export for other landmark-driven models: :func:`render_pose_image`,
  :func:`export_sequence`.
* Structure figures of animations (pure functions): :func:`structure_figures`,
  :func:`silhouette_rigidity`, :func:`silhouette_mask`, :func:`palette_share`, :func:`background_change`,
  :func:`mouth_opening`, :func:`mouth_darkness`, ...

Every animator follows the :class:`Animator` protocol.
"""

from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

from faceshot_animate._image import as_uint8_image, composite_over, load_image
from faceshot_animate._panels import preview_frame, side_by_side
from faceshot_animate._pose import (
    EXPORT_FORMATS,
    POSE_PARTS,
    export_sequence,
    render_pose_image,
    scale_landmarks,
)
from faceshot_animate._protocol import Animator
from faceshot_animate._quality import (
    background_change,
    border_touch,
    foreground_mask,
    interior_change,
    kmeans_palette,
    mouth_darkness,
    mouth_opening,
    palette_share,
    pearson,
    silhouette_mask,
    silhouette_rigidity,
    structure_figures,
)
from faceshot_animate._rig import Rig, build_rig, head_extent
from faceshot_animate._rig_animator import RigAnimator, RigConfig
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

#: The installed distribution's version (its pyproject.toml, read by importlib.metadata).
__version__ = _metadata.version("faceshot-animate")

__all__ = [
    "EXPORT_FORMATS",
    "POSE_PARTS",
    "AnimateInputError",
    "Animator",
    "ExportError",
    "FaceshotAnimateError",
    "ImageError",
    "MofaAnimator",
    "Rig",
    "RigAnimator",
    "RigConfig",
    "VideoError",
    "VideoInfo",
    "VideoWriter",
    "WarpAnimator",
    "WarpConfig",
    "__version__",
    "as_uint8_image",
    "background_change",
    "border_touch",
    "build_rig",
    "composite_over",
    "export_sequence",
    "foreground_mask",
    "head_extent",
    "inner_mouth_area",
    "interior_change",
    "kmeans_palette",
    "load_image",
    "mouth_darkness",
    "mouth_opening",
    "palette_share",
    "pearson",
    "preview_frame",
    "probe_video",
    "read_video",
    "render_pose_image",
    "scale_landmarks",
    "side_by_side",
    "silhouette_mask",
    "silhouette_rigidity",
    "structure_figures",
    "write_video",
]


def __getattr__(name: str) -> Any:
    """Lazy attributes: ``MofaAnimator`` imports :mod:`faceshot_animate.mofa` (torch) on use."""
    if name == "MofaAnimator":
        from faceshot_animate.mofa import MofaAnimator

        return MofaAnimator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
