"""faceshot-landmarks: 68 iBUG landmarks on anything (FaceShot, ICLR 2025, Eq. 3-4).

* Driving landmarks: :func:`detect_video` (dlib detection + shape-predictor tracking) for
  human videos, :func:`match_video` (the matcher on every frame, fused with optical flow through a
  shape model; :class:`VideoMatchConfig`) for others; :func:`track_points` (Lucas-Kanade).
* Driving-benchmark figures: :func:`track_figures`, :func:`mouth_opening`,
  :func:`eye_opening`, :func:`face_widths`, :func:`jitter`.
* Appearance gallery: :func:`add_domain`, :func:`load_gallery`, :class:`Gallery` (FAISS domain
  retrieval per part).
* Matcher: :func:`match` and its pure parts :func:`reference_vectors` (Eq. 4),
  :func:`similarity_map`, :func:`cosine_argmax`, :func:`refine_subpixel`, :class:`ShapePrior`.
* :func:`nme` (IOD-normalised).

Never imports torch: features come in as NumPy arrays through the duck-typed
:class:`FeatureMap` protocol. :class:`ClassicalExtractor` is a classical (non-learned) dense
descriptor, a labelled baseline so everything works without a learned backbone.
"""

from faceshot_landmarks._classical import CLASSICAL_BACKBONE, ClassicalExtractor, check_image
from faceshot_landmarks._dataset import IMAGE_SUFFIXES, annotated_images, read_image
from faceshot_landmarks._detect import (
    DetectConfig,
    DlibLandmarker,
    detect_image,
    detect_video,
    fill_gaps,
    predictor_path,
)
from faceshot_landmarks._features import (
    DenseFeatures,
    Extractor,
    FeatureMap,
    cells_to_pixels,
    check_feature_map,
    normalize_features,
    pixels_to_cells,
    sample_features,
)
from faceshot_landmarks._gallery import (
    FORMAT,
    FORMAT_VERSION,
    DomainData,
    Gallery,
    add_domain,
    import_faiss,
    load_gallery,
)
from faceshot_landmarks._matcher import (
    MatcherConfig,
    MatchResult,
    cosine_argmax,
    match,
    match_references,
    reference_vectors,
    refine_peaks,
    refine_subpixel,
    similarity_map,
)
from faceshot_landmarks._metrics import nme, point_errors
from faceshot_landmarks._shape import PriorFit, ShapePrior, procrustes_align, similarity_fit
from faceshot_landmarks._track_metrics import (
    eye_opening,
    face_widths,
    jitter,
    mouth_opening,
    track_figures,
)
from faceshot_landmarks._video import draw_points, iter_frames, probe_video, write_preview
from faceshot_landmarks._video_match import TrackConfig, VideoMatchConfig, match_video, track_points
from faceshot_landmarks.errors import (
    BackendUnavailableError,
    FaceshotLandmarksError,
    FeatureMapError,
    GalleryError,
    MatchingError,
    NoFaceError,
    VideoError,
)

__version__ = "0.1.0"

__all__ = [
    "CLASSICAL_BACKBONE",
    "FORMAT",
    "FORMAT_VERSION",
    "IMAGE_SUFFIXES",
    "BackendUnavailableError",
    "ClassicalExtractor",
    "DenseFeatures",
    "DetectConfig",
    "DlibLandmarker",
    "DomainData",
    "Extractor",
    "FaceshotLandmarksError",
    "FeatureMap",
    "FeatureMapError",
    "Gallery",
    "GalleryError",
    "MatchResult",
    "MatcherConfig",
    "MatchingError",
    "NoFaceError",
    "PriorFit",
    "ShapePrior",
    "TrackConfig",
    "VideoError",
    "VideoMatchConfig",
    "__version__",
    "add_domain",
    "annotated_images",
    "cells_to_pixels",
    "check_feature_map",
    "check_image",
    "cosine_argmax",
    "detect_image",
    "detect_video",
    "draw_points",
    "eye_opening",
    "face_widths",
    "fill_gaps",
    "import_faiss",
    "iter_frames",
    "jitter",
    "load_gallery",
    "match",
    "match_references",
    "match_video",
    "mouth_opening",
    "nme",
    "normalize_features",
    "pixels_to_cells",
    "point_errors",
    "predictor_path",
    "probe_video",
    "procrustes_align",
    "read_image",
    "reference_vectors",
    "refine_peaks",
    "refine_subpixel",
    "sample_features",
    "similarity_fit",
    "similarity_map",
    "track_figures",
    "track_points",
    "write_preview",
]
