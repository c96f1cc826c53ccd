"""faceshot-landmarks: 68 iBUG landmarks on anything (FaceShot, ICLR 2025, Eq. 3-4).

* Driving landmarks: :func:`detect_driving` for human videos (every face found and grouped
  into people by dlib's face descriptor, shot cuts, one person tracked: :class:`DrivingLandmarks`;
  :func:`detect_video` returns only its landmarks), :func:`match_video` (the matcher on every
  frame, fused with optical flow through a shape model; :class:`VideoMatchConfig`) for others;
  :func:`track_points` (Lucas-Kanade).
* Driving-benchmark figures: :func:`track_figures`, :func:`mouth_opening`,
  :func:`eye_opening`, :func:`face_widths`, :func:`jitter`.
* Appearance gallery: :func:`add_domain`, :func:`load_gallery`, :class:`Gallery` (FAISS domain
  retrieval per part).
* Matcher: :func:`match` and its pure parts :func:`reference_vectors` (Eq. 4),
  :func:`similarity_map`, :func:`cosine_argmax`, :func:`refine_subpixel`, :class:`ShapePrior`.
* :func:`nme` (IOD-normalised); :func:`expression_error` (FaceShot §4.1, LK-tracked grids:
  :func:`track_grid`).

Never imports torch: features come in as NumPy arrays through the duck-typed
:class:`FeatureMap` protocol. :class:`ClassicalExtractor` is a classical (non-learned) dense
descriptor, a labelled baseline so everything works without a learned backbone.
"""

from importlib import metadata as _metadata

from faceshot_landmarks._classical import CLASSICAL_BACKBONE, ClassicalExtractor, check_image
from faceshot_landmarks._cuts import (
    CutConfig,
    adaptive_threshold,
    cut_candidates,
    frame_signature,
    signature_distance,
)
from faceshot_landmarks._dataset import IMAGE_SUFFIXES, annotated_images, read_image
from faceshot_landmarks._detect import (
    DetectConfig,
    DlibLandmarker,
    detect_image,
    detect_video,
    fill_gaps,
    predictor_path,
)
from faceshot_landmarks._drawn_marks import (
    INNER_CORNER_INSET,
    INNER_LIP_COLUMNS,
    INNER_LIP_INSET,
    OPEN_MOUTH_THICKNESS,
    EyeConfig,
    MouthConfig,
    column_scan,
    contour_points,
    drawn_eye,
    drawn_mouth,
    eyes_on_drawing,
    mouth_from_mask,
    mouth_is_open,
    mouth_on_drawing,
)
from faceshot_landmarks._driving import (
    DrivingLandmarks,
    FaceDetection,
    FaceScan,
    FaceTrack,
    choose_face,
    detect_driving,
    scan_faces,
    track_person,
)
from faceshot_landmarks._expression import expression_error, track_grid
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
    landmark_features,
    landmark_prototypes,
    load_gallery,
)
from faceshot_landmarks._identity import (
    CHIP_SIZE,
    FaceDescriber,
    cluster_tracklets,
    descriptor_path,
)
from faceshot_landmarks._locate import (
    CHARACTER_MATCHER,
    MIN_FACE_SCORE,
    FaceCandidate,
    LocateConfig,
    blank_contrast,
    crop_square,
    dlib_candidates,
    dlib_points,
    flat_fraction,
    foreground_candidates,
    locate_and_match,
    read_drawn_marks,
)
from faceshot_landmarks._matcher import (
    CHECKED_PARTS,
    WEAK_PART_MARGIN,
    MatcherConfig,
    MatchResult,
    cosine_argmax,
    match,
    match_flip_consistent,
    match_references,
    reference_vectors,
    refine_peaks,
    refine_subpixel,
    shape_hypotheses,
    shape_search,
    similarity_map,
    standardise,
)
from faceshot_landmarks._metrics import nme, point_errors
from faceshot_landmarks._outline import (
    BrowConfig,
    OutlineConfig,
    brow_stroke,
    brows_where_undrawn,
    jaw_on_outline,
    resample_polyline,
    undrawn_brows,
)
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
    FaceSelectionError,
    FaceshotLandmarksError,
    FeatureMapError,
    GalleryError,
    MatchingError,
    NoFaceError,
    VideoError,
)

#: The installed distribution's version (its pyproject.toml, read by importlib.metadata).
__version__ = _metadata.version("faceshot-landmarks")

__all__ = [
    "CHARACTER_MATCHER",
    "CHECKED_PARTS",
    "CHIP_SIZE",
    "CLASSICAL_BACKBONE",
    "FORMAT",
    "FORMAT_VERSION",
    "IMAGE_SUFFIXES",
    "INNER_CORNER_INSET",
    "INNER_LIP_COLUMNS",
    "INNER_LIP_INSET",
    "MIN_FACE_SCORE",
    "OPEN_MOUTH_THICKNESS",
    "WEAK_PART_MARGIN",
    "BackendUnavailableError",
    "BrowConfig",
    "ClassicalExtractor",
    "CutConfig",
    "DenseFeatures",
    "DetectConfig",
    "DlibLandmarker",
    "DomainData",
    "DrivingLandmarks",
    "Extractor",
    "EyeConfig",
    "FaceCandidate",
    "FaceDescriber",
    "FaceDetection",
    "FaceScan",
    "FaceSelectionError",
    "FaceTrack",
    "FaceshotLandmarksError",
    "FeatureMap",
    "FeatureMapError",
    "Gallery",
    "GalleryError",
    "LocateConfig",
    "MatchResult",
    "MatcherConfig",
    "MatchingError",
    "MouthConfig",
    "NoFaceError",
    "OutlineConfig",
    "PriorFit",
    "ShapePrior",
    "TrackConfig",
    "VideoError",
    "VideoMatchConfig",
    "__version__",
    "adaptive_threshold",
    "add_domain",
    "annotated_images",
    "blank_contrast",
    "brow_stroke",
    "brows_where_undrawn",
    "cells_to_pixels",
    "check_feature_map",
    "check_image",
    "choose_face",
    "cluster_tracklets",
    "column_scan",
    "contour_points",
    "cosine_argmax",
    "crop_square",
    "cut_candidates",
    "descriptor_path",
    "detect_driving",
    "detect_image",
    "detect_video",
    "dlib_candidates",
    "dlib_points",
    "draw_points",
    "drawn_eye",
    "drawn_mouth",
    "expression_error",
    "eye_opening",
    "eyes_on_drawing",
    "face_widths",
    "fill_gaps",
    "flat_fraction",
    "foreground_candidates",
    "frame_signature",
    "import_faiss",
    "iter_frames",
    "jaw_on_outline",
    "jitter",
    "landmark_features",
    "landmark_prototypes",
    "load_gallery",
    "locate_and_match",
    "match",
    "match_flip_consistent",
    "match_references",
    "match_video",
    "mouth_from_mask",
    "mouth_is_open",
    "mouth_on_drawing",
    "mouth_opening",
    "nme",
    "normalize_features",
    "pixels_to_cells",
    "point_errors",
    "predictor_path",
    "probe_video",
    "procrustes_align",
    "read_drawn_marks",
    "read_image",
    "reference_vectors",
    "refine_peaks",
    "refine_subpixel",
    "resample_polyline",
    "sample_features",
    "scan_faces",
    "shape_hypotheses",
    "shape_search",
    "signature_distance",
    "similarity_fit",
    "similarity_map",
    "standardise",
    "track_figures",
    "track_grid",
    "track_person",
    "track_points",
    "undrawn_brows",
    "write_preview",
]
