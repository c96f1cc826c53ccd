"""faceshot: bring any character to life from a driving video (FaceShot, ICLR 2025).

The meta-package wires the members together; it holds no maths:

* :class:`FaceShot` -- the pipeline (``.match``, ``.drive``, ``.retarget``, ``.render``,
  ``.animate``), each stage usable alone;
* :func:`batch` -- many characters x many driving videos with shared work, resumable, on a
  local process pool or on Ray (``faceshot[cluster]``);
* :func:`load_character` -- PNG/JPEG/SVG character images with size checks;
* :func:`default_gallery_path` -- the appearance gallery shipped in ``faceshot/data``;
* the ``faceshot`` command line (:mod:`faceshot.cli`) and the Gradio UI (``faceshot ui``).

Heavy libraries (torch, dlib, cv2) are imported when a stage first runs.
"""

from importlib import metadata as _metadata

from faceshot._api import BACKBONES, MOTIONS, AnimateResult, FaceShot
from faceshot._batch import BatchInterrupted, BatchResults, JobResult, batch
from faceshot._batch_jobs import Job
from faceshot._io import (
    Character,
    check_output_path,
    default_gallery_path,
    give_room,
    load_character,
)
from faceshot.errors import (
    BatchError,
    CharacterImageError,
    DrivingVideoError,
    FaceshotError,
    OutputPathError,
    WeightsUnavailableError,
)

#: The installed distribution's version (its pyproject.toml, read by importlib.metadata).
__version__ = _metadata.version("faceshot")
__all__ = [
    "BACKBONES",
    "MOTIONS",
    "AnimateResult",
    "BatchError",
    "BatchInterrupted",
    "BatchResults",
    "Character",
    "CharacterImageError",
    "DrivingVideoError",
    "FaceShot",
    "FaceshotError",
    "Job",
    "JobResult",
    "OutputPathError",
    "WeightsUnavailableError",
    "__version__",
    "batch",
    "check_output_path",
    "default_gallery_path",
    "give_room",
    "load_character",
]
