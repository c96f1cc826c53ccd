"""The appearance gallery: a versioned on-disk store of per-domain reference features.

Layout of a gallery directory::

    GALLERY/
      manifest.json                      # format, format_version, backbone, backbone_config,
                                         # channels, parts, domains {name: {...}}, checksums
      domains/<name>/references.npy      # (68, C) float32, Eq. 4 k-mean, L2-normalised rows
      domains/<name>/parts.npy           # (5, C) float32 part embeddings (domain retrieval)
      domains/<name>/annotations.npz     # points (k, 68, 2) float64 normalised by (W, H),
                                         # image_sizes (k, 2) int64 (H, W)
      domains/<name>/prototypes.npy      # optional: (M, 68, C) float16 per-landmark prototypes
                                         # (spherical k-means of the k images' features)

Normalised annotation coordinates are ``(x / W, y / H)`` of the 0-based pixel convention.
Appending a domain writes only that domain's files and the manifest, all together or none
(:class:`faceshot_retarget.AtomicOutputs`); other domains are not recomputed. Loading verifies the format, version, every file's SHA-256
and array shapes, and :meth:`Gallery.check_compatible` rejects features from another backbone.

Domain retrieval (per paper part): a domain-independent first pass locates every landmark in
the target with the all-domain mean references; the query for part P is the normalised mean of
the target features at P's located landmarks. The nearest domain by inner product over the
domains' part embeddings (the normalised mean of the part's reference vectors) is found with a
FAISS ``IndexFlatIP`` (moved to the GPUs when ``faiss.get_num_gpus() > 0``). FAISS is imported
lazily and only when there is more than one domain to choose from.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import AtomicOutputs, as_points
from faceshot_retarget.ibug68 import NUM_POINTS, PARTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._arrays import readonly_copy
from faceshot_landmarks._features import (
    check_feature_map,
    normalize_features,
    pixels_to_cells,
    sample_features,
)
from faceshot_landmarks._matcher import reference_vectors, similarity_map
from faceshot_landmarks._shape import ShapePrior
from faceshot_landmarks.errors import BackendUnavailableError, FaceshotLandmarksError, GalleryError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "DomainData",
    "Gallery",
    "add_domain",
    "import_faiss",
    "landmark_features",
    "landmark_prototypes",
    "load_gallery",
]

FORMAT = "faceshot-gallery"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_MANIFEST_BYTES = 16 << 20
_PART_RANGES = {name: [s.start, s.stop] for name, s in PARTS.items()}
_PART_SLICES = list(PARTS.values())


def import_faiss() -> Any:
    """Import FAISS lazily.

    Raises:
        BackendUnavailableError: neither faiss-cpu nor faiss-gpu is installed.
    """
    try:
        import faiss
    except ImportError:
        raise BackendUnavailableError(
            'FAISS is not installed; install an extra: pip install "faceshot-landmarks[cpu]" '
            '(or "faceshot-landmarks[gpu]")'
        ) from None
    return faiss


@attrs.frozen
class DomainData:
    """One domain of a gallery.

    Attributes:
        references: (68, C) float32 L2-normalised Eq. 4 reference vectors.
        parts: (5, C) float32 L2-normalised part embeddings (``PARTS`` order).
        annotations: (k, 68, 2) float64 normalised (x / W, y / H) source annotations.
        image_sizes: (k, 2) int64 (H, W) of the source images.
        prototypes: (M, 68, C) float32 L2-normalised per-landmark prototypes (the centres of a
            spherical k-means of the k images' features at each landmark), or ``None``. Each
            landmark's evidence is then the best prototype's cosine: a grin, a frown and an
            open mouth each keep their own appearance instead of being averaged into one.
    """

    references: NDArray[np.float32] = attrs.field(converter=readonly_copy, eq=False)
    parts: NDArray[np.float32] = attrs.field(converter=readonly_copy, eq=False)
    annotations: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    image_sizes: NDArray[np.int64] = attrs.field(converter=readonly_copy, eq=False)
    prototypes: NDArray[np.float32] | None = attrs.field(
        default=None, converter=attrs.converters.optional(readonly_copy), eq=False
    )

    @property
    def k(self) -> int:
        """Number of source images."""
        return int(self.annotations.shape[0])

    def pixel_annotations(self) -> NDArray[np.float64]:
        """(k, 68, 2) float64 annotations in the source images' pixels."""
        wh = self.image_sizes[:, ::-1].astype(np.float64)
        return np.asarray(self.annotations * wh[:, None, :], dtype=np.float64)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npy_bytes(array: NDArray[Any]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npz_bytes(**arrays: NDArray[Any]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


@attrs.frozen
class Gallery:
    """A loaded appearance gallery (see the module docs for the format).

    Attributes:
        path: the gallery directory.
        backbone: feature backbone id the references were computed with.
        backbone_config: that extractor's configuration.
        channels: C.
        domains: ``{name: DomainData}`` in manifest order.
    """

    path: Path
    backbone: str
    backbone_config: dict[str, Any]
    channels: int
    domains: Mapping[str, DomainData]
    #: Shape priors already built, by (domains, keyword arguments): the Procrustes + PCA of a
    #: few hundred annotations costs 0.1-1 CPU-s, which every :func:`match` call paid again
    #: (the gallery is immutable, so the prior of a set of domains never changes).
    _priors: dict[tuple[Any, ...], ShapePrior] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    @property
    def names(self) -> tuple[str, ...]:
        """Domain names."""
        return tuple(self.domains)

    def check_compatible(self, features: Any) -> None:
        """Raise :class:`GalleryError` if ``features`` come from another backbone or config.

        Args:
            features: feature-like with ``.array`` and ``.backbone`` (``.config`` optional).
        """
        backbone = getattr(features, "backbone", None)
        if backbone is None:
            raise GalleryError(
                f"gallery {str(self.path)!r}: features carry no .backbone; expected {self.backbone!r}"
            )
        if backbone != self.backbone:
            raise GalleryError(
                f"gallery {str(self.path)!r} was built with backbone {self.backbone!r}; "
                f"the features come from {backbone!r}"
            )
        config = getattr(features, "config", None)
        if config is not None and _jsonable(config) != self.backbone_config:
            raise GalleryError(
                f"gallery {str(self.path)!r}: backbone config differs: gallery {self.backbone_config} "
                f"vs features {_jsonable(config)}"
            )
        c = int(np.shape(features.array)[0])
        if c != self.channels:
            raise GalleryError(
                f"gallery {str(self.path)!r} has {self.channels} channels; features have {c}"
            )

    def references_for(self, domains: Sequence[str]) -> NDArray[np.float32]:
        """(68, C) float32 references taking each part from the named domain (``PARTS`` order)."""
        if len(domains) != len(PARTS):
            raise ValueError(
                f"`domains` must name one domain per part ({len(PARTS)}); got {len(domains)}"
            )
        out = np.empty((NUM_POINTS, self.channels), np.float32)
        for sl, name in zip(_PART_SLICES, domains, strict=True):
            if name not in self.domains:
                raise ValueError(f"unknown domain {name!r}; gallery has {list(self.domains)}")
            out[sl] = self.domains[name].references[sl]
        return out

    @property
    def has_prototypes(self) -> bool:
        """Whether any domain stores per-landmark prototypes."""
        return any(d.prototypes is not None for d in self.domains.values())

    def prototypes_for(self, domains: Sequence[str]) -> NDArray[np.float32]:
        """(M, 68, C) float32 prototypes taking each part from the named domain (``PARTS``
        order); M is the largest prototype count among them (a domain with fewer repeats its
        first, one without prototypes contributes its Eq. 4 references)."""
        refs = self.references_for(domains)
        per = [self.domains[n].prototypes for n in domains]
        m = max([1] + [len(p) for p in per if p is not None])
        out = np.repeat(refs[None], m, axis=0)
        for sl, p in zip(_PART_SLICES, per, strict=True):
            if p is not None:
                out[: len(p), sl] = p[:, sl]
        return out

    def retrieve(self, normalized: ArrayLike, *, use_gpu: bool | None = None) -> tuple[str, ...]:
        """Nearest domain per paper part for a target feature map (FAISS inner product).

        Args:
            normalized: (C, h, w) float32 per-cell L2-normalised target features.
            use_gpu: move the index to the GPUs; ``None``: when ``faiss.get_num_gpus() > 0``.

        Returns:
            One domain name per part, in ``PARTS`` order.
        """
        names = self.names
        if len(names) == 1:
            return (names[0],) * len(PARTS)
        faiss = import_faiss()
        f = np.asarray(normalized, dtype=np.float32)
        c = f.shape[0]
        flat = f.reshape(c, -1)
        gpu = faiss.get_num_gpus() > 0 if use_gpu is None else use_gpu
        # Domain-independent first pass: locate every landmark with the all-domain mean references.
        generic = normalize_features(sum(d.references for d in self.domains.values()), axis=-1)
        best = flat[
            :, np.argmax(similarity_map(generic, f).reshape(NUM_POINTS, -1), axis=1)
        ].T  # (68, C)
        chosen = []
        for p, sl in enumerate(_PART_SLICES):
            query = normalize_features(best[sl].mean(axis=0, keepdims=True), axis=-1)
            base = np.ascontiguousarray(
                np.stack([self.domains[n].parts[p] for n in names]), np.float32
            )
            index = faiss.IndexFlatIP(c)
            if gpu:
                index = faiss.index_cpu_to_all_gpus(index)
            index.add(base)
            _, idx = index.search(np.ascontiguousarray(query, np.float32), 1)
            chosen.append(names[int(idx[0, 0])])
        return tuple(chosen)

    def shape_prior(self, domains: Sequence[str] | None = None, **kwargs: Any) -> ShapePrior:
        """A :class:`ShapePrior` from the annotations of ``domains`` (default: all); built once
        per (domains, keyword arguments) and kept with the gallery."""
        names = self.names if domains is None else tuple(domains)
        key = (names, tuple(sorted(kwargs.items())))
        prior = self._priors.get(key)
        if prior is None:
            shapes = np.concatenate([self.domains[n].pixel_annotations() for n in names])
            prior = ShapePrior.from_annotations(shapes, **kwargs)
            self._priors[key] = prior
        return prior


def _jsonable(config: Any) -> Any:
    return json.loads(json.dumps(config, sort_keys=True, default=str))


def landmark_features(features: Sequence[Any], points: ArrayLike) -> NDArray[np.float32]:
    """(k, 68, C) float32: each image's L2-normalised feature at each of its landmarks.

    Args:
        features: k feature-like maps (``.array`` (C, h, w), ``.image_size`` (H, W)).
        points: (k, 68, 2) float pixel landmarks.
    """
    pts = as_points(points, "points")
    if len(features) != len(pts):
        raise ValueError(f"`features` has {len(features)} maps but `points` has {len(pts)} shapes")
    out = []
    for n, feat in enumerate(features):
        arr, size = check_feature_map(feat, f"features[{n}]")
        cells = pixels_to_cells(pts[n], size, arr.shape[1:])
        out.append(
            normalize_features(sample_features(normalize_features(arr, axis=0), cells), axis=-1)
        )
    return np.stack(out).astype(np.float32)


def landmark_prototypes(
    samples: ArrayLike, count: int, *, iterations: int = 20, seed: int = 0
) -> NDArray[np.float32]:
    """Per-landmark prototypes: spherical k-means of the samples of each landmark.

    Deterministic (k-means++ seeding from ``seed``, a fixed number of Lloyd iterations on
    cosine similarity; an emptied cluster keeps its centre).

    Args:
        samples: (k, 68, C) float L2-normalised features (:func:`landmark_features`).
        count: M, prototypes per landmark (at most k are returned).

    Returns:
        (min(M, k), 68, C) float32 L2-normalised centres.
    """
    x_all = np.asarray(samples, dtype=np.float32)
    if x_all.ndim != 3 or x_all.shape[1] != NUM_POINTS or count < 1:
        raise ValueError(
            f"`samples` must be (k, 68, C) and `count` >= 1; got {x_all.shape} and {count}"
        )
    n, _, c = x_all.shape
    m = min(int(count), n)
    rng = np.random.default_rng(seed)
    out = np.empty((m, NUM_POINTS, c), np.float32)
    for i in range(NUM_POINTS):
        x = x_all[:, i]
        centres = [x[int(rng.integers(n))]]
        for _ in range(1, m):
            dist = np.maximum(1.0 - np.max(np.stack(centres) @ x.T, axis=0), 0.0) ** 2
            total = float(dist.sum())
            centres.append(
                x[int(rng.choice(n, p=dist / total))] if total > 0 else x[int(rng.integers(n))]
            )
        cent = np.stack(centres)
        for _ in range(iterations):
            assign = np.argmax(x @ cent.T, axis=1)
            for k in range(m):
                members = x[assign == k]
                if len(members):
                    cent[k] = normalize_features(members.sum(axis=0), axis=-1)
        out[:, i] = cent
    return out


def _part_embeddings(refs: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.stack([normalize_features(refs[sl].mean(axis=0), axis=-1) for sl in _PART_SLICES])


def _read_manifest(root: Path) -> dict[str, Any]:
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise GalleryError(f"{str(root)!r} is not a gallery: {MANIFEST} is missing")
    if mpath.stat().st_size > _MAX_MANIFEST_BYTES:
        raise GalleryError(
            f"{str(mpath)!r} is {mpath.stat().st_size >> 20} MiB; a manifest is at most {_MAX_MANIFEST_BYTES >> 20} MiB"
        )
    try:
        manifest: dict[str, Any] = json.loads(mpath.read_text(encoding="utf-8"))
    except RecursionError:
        raise GalleryError(f"{str(mpath)!r} is corrupt: JSON nested too deeply") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GalleryError(f"{str(mpath)!r} is corrupt: {' '.join(str(exc).split())}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise GalleryError(
            f"{str(mpath)!r}: 'format' must be {FORMAT!r}; got {manifest.get('format') if isinstance(manifest, dict) else manifest!r}"
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise GalleryError(
            f"{str(mpath)!r}: unsupported format_version {manifest.get('format_version')!r}; this reader supports {FORMAT_VERSION}"
        )
    for key in ("backbone", "backbone_config", "channels", "domains", "checksums", "parts"):
        if key not in manifest:
            raise GalleryError(f"{str(mpath)!r}: missing key {key!r}")
    if manifest["parts"] != _PART_RANGES:
        raise GalleryError(
            f"{str(mpath)!r}: parts {manifest['parts']} differ from this version's {_PART_RANGES}"
        )
    _check_manifest_types(mpath, manifest)
    return manifest


def _check_manifest_types(mpath: Path, manifest: dict[str, Any]) -> None:
    """Refuse a manifest whose values have the wrong types, or whose domain names would
    reach outside the gallery (``../``), before any of its files are opened."""

    def bad(key: str, want: str, got: Any) -> GalleryError:
        shown = (
            type(got).__name__
            if not isinstance(got, (int, float, str)) or isinstance(got, bool)
            else repr(got)
        )
        return GalleryError(f"{str(mpath)!r}: {key!r} must be {want}; got {shown}")

    if not isinstance(manifest["backbone"], str):
        raise bad("backbone", "a string", manifest["backbone"])
    if not isinstance(manifest["backbone_config"], dict):
        raise bad("backbone_config", "an object", manifest["backbone_config"])
    channels = manifest["channels"]
    if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= 1 << 16:
        raise bad("channels", "an integer in [1, 65536]", channels)
    checksums = manifest["checksums"]
    if not isinstance(checksums, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in checksums.items()
    ):
        raise bad("checksums", "an object of file -> SHA-256 string", checksums)
    domains = manifest["domains"]
    if not isinstance(domains, dict):
        raise bad("domains", "an object of domain name -> info", domains)
    for name, info in domains.items():
        if not _NAME.match(name):
            raise GalleryError(
                f"{str(mpath)!r}: domain name {name!r} is not allowed (expected {_NAME.pattern}; "
                "names are folder names inside the gallery)"
            )
        k = info.get("k") if isinstance(info, dict) else None
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise GalleryError(
                f"{str(mpath)!r}: domain {name!r} needs an integer 'k' >= 1; got {k!r}"
            )


def _load_checked(root: Path, rel: str, checksums: Mapping[str, str]) -> bytes:
    fpath = root / rel
    try:
        data = fpath.read_bytes()
    except OSError:
        raise GalleryError(f"gallery file {str(fpath)!r} is missing or unreadable") from None
    expected = checksums.get(rel)
    if expected is None:
        raise GalleryError(f"gallery file {str(fpath)!r} has no checksum in {MANIFEST}")
    if _sha256(data) != expected:
        raise GalleryError(
            f"gallery file {str(fpath)!r} is corrupt: SHA-256 differs from {MANIFEST}"
        )
    return data


def load_gallery(path: str | os.PathLike[str]) -> Gallery:
    """Load and verify a gallery directory.

    Raises:
        GalleryError: missing/corrupt manifest or array file (names the file and the problem),
            unsupported format version, inconsistent shapes.
    """
    root = Path(path)
    manifest = _read_manifest(root)
    checksums = manifest["checksums"]
    channels = int(manifest["channels"])
    domains: dict[str, DomainData] = {}
    for name, info in manifest["domains"].items():
        base = f"domains/{name}"
        try:
            refs = np.load(
                io.BytesIO(_load_checked(root, f"{base}/references.npy", checksums)),
                allow_pickle=False,
            )
            parts = np.load(
                io.BytesIO(_load_checked(root, f"{base}/parts.npy", checksums)), allow_pickle=False
            )
            with np.load(
                io.BytesIO(_load_checked(root, f"{base}/annotations.npz", checksums)),
                allow_pickle=False,
            ) as z:
                ann, sizes = z["points"], z["image_sizes"]
        except (ValueError, KeyError, OSError) as exc:
            raise GalleryError(
                f"gallery {str(root)!r}, domain {name!r}: unreadable array: {exc}"
            ) from None
        protos = None
        num_protos = int(info.get("prototypes", 0))
        if num_protos:
            try:
                protos = np.load(
                    io.BytesIO(_load_checked(root, f"{base}/prototypes.npy", checksums)),
                    allow_pickle=False,
                )
            except (ValueError, OSError) as exc:
                raise GalleryError(
                    f"gallery {str(root)!r}, domain {name!r}: unreadable array: {exc}"
                ) from None
        k = int(info.get("k", -1))
        expect = {
            "references.npy": ((NUM_POINTS, channels), refs.shape),
            "parts.npy": ((len(PARTS), channels), parts.shape),
            "annotations.npz points": ((k, NUM_POINTS, 2), ann.shape),
            "annotations.npz image_sizes": ((k, 2), sizes.shape),
        }
        if protos is not None:
            expect["prototypes.npy"] = ((num_protos, NUM_POINTS, channels), protos.shape)
        for what, (want, got) in expect.items():
            if tuple(want) != tuple(got):
                raise GalleryError(
                    f"gallery {str(root)!r}, domain {name!r}: {what} has shape {got}; expected {want}"
                )
        domains[name] = DomainData(
            refs.astype(np.float32),
            parts.astype(np.float32),
            ann.astype(np.float64),
            sizes.astype(np.int64),
            None if protos is None else normalize_features(protos.astype(np.float32), axis=-1),
        )
    if not domains:
        raise GalleryError(f"gallery {str(root)!r} has no domains")
    return Gallery(
        root, str(manifest["backbone"]), dict(manifest["backbone_config"]), channels, domains
    )


def add_domain(
    path: str | os.PathLike[str],
    domain: str,
    features: Sequence[Any],
    annotations: ArrayLike,
    *,
    replace: bool = False,
    prototypes: int = 0,
) -> Gallery:
    """Create a gallery or append one domain to an existing one.

    Args:
        path: gallery directory (created if missing; its parent must exist).
        domain: domain name, ``[A-Za-z0-9][A-Za-z0-9_.-]*`` (at most 64 characters).
        features: k feature-like maps of the domain's images, with ``.backbone``/``.config``.
        annotations: (k, 68, 2) float pixel landmarks of those images (0-based).
        replace: overwrite an existing domain of that name (otherwise an error).
        prototypes: also store this many per-landmark prototypes (:func:`landmark_prototypes`,
            float16 on disk; at most k); 0: none.

    Returns:
        The reloaded :class:`Gallery`.

    Raises:
        ValueError: bad domain name, empty or mismatched inputs, domain exists.
        GalleryError: the existing gallery is corrupt or uses another backbone/config.
    """
    if not isinstance(domain, str) or not _NAME.match(domain):
        raise ValueError(f"`domain` must match {_NAME.pattern}; got {domain!r}")
    feats = list(features)
    if not feats:
        raise ValueError("`features` is empty; a domain needs at least one annotated image")
    pts = as_points(annotations, "annotations")
    if len(pts) != len(feats):
        raise ValueError(
            f"`annotations` has {len(pts)} shapes but `features` has {len(feats)} maps"
        )
    backbone = getattr(feats[0], "backbone", None)
    if not isinstance(backbone, str):
        raise ValueError("`features[0]` has no str .backbone; galleries record the backbone id")
    config = _jsonable(getattr(feats[0], "config", {}) or {})
    for n, f in enumerate(feats):
        if (
            getattr(f, "backbone", None) != backbone
            or _jsonable(getattr(f, "config", {}) or {}) != config
        ):
            raise ValueError(f"`features[{n}]` comes from another backbone/config than features[0]")
    sizes = np.array(
        [check_feature_map(f, f"features[{n}]")[1] for n, f in enumerate(feats)], np.int64
    )
    if not (isinstance(prototypes, int) and prototypes >= 0):
        raise ValueError(f"`prototypes` must be an int >= 0; got {prototypes!r}")
    refs = reference_vectors(feats, pts)
    channels = refs.shape[1]
    protos = landmark_prototypes(landmark_features(feats, pts), prototypes) if prototypes else None
    root = Path(path)
    if (root / MANIFEST).exists():
        manifest = _read_manifest(root)
        existing = load_gallery(root)  # verifies every other domain
        if existing.backbone != backbone or existing.backbone_config != config:
            raise GalleryError(
                f"gallery {str(root)!r} uses backbone {existing.backbone!r} {existing.backbone_config}; "
                f"cannot add features from {backbone!r} {config}"
            )
        if existing.channels != channels:
            raise GalleryError(
                f"gallery {str(root)!r} has {existing.channels} channels; features have {channels}"
            )
        if domain in manifest["domains"] and not replace:
            raise ValueError(
                f"gallery {str(root)!r} already has domain {domain!r}; pass replace=True"
            )
    else:
        if root.exists() and any(root.iterdir()):
            raise GalleryError(
                f"{str(root)!r} exists, is not empty and has no {MANIFEST}; refusing to write a gallery there"
            )
        if not root.parent.is_dir():
            raise FaceshotLandmarksError(
                f"cannot create gallery {str(root)!r}: parent directory does not exist"
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "backbone": backbone,
            "backbone_config": config,
            "channels": channels,
            "parts": _PART_RANGES,
            "domains": {},
            "checksums": {},
        }
    ddir = root / "domains" / domain
    created = [d for d in (root, root / "domains", ddir) if not d.exists()]
    ddir.mkdir(parents=True, exist_ok=True)
    wh = sizes[:, ::-1].astype(np.float64)
    files = {
        "references.npy": _npy_bytes(refs.astype(np.float32)),
        "parts.npy": _npy_bytes(_part_embeddings(refs)),
        "annotations.npz": _npz_bytes(points=pts / wh[:, None, :], image_sizes=sizes),
    }
    if protos is not None:
        files["prototypes.npy"] = _npy_bytes(protos.astype(np.float16))
    checksums = {
        k: v for k, v in manifest["checksums"].items() if not k.startswith(f"domains/{domain}/")
    }
    for fname, data in files.items():
        checksums[f"domains/{domain}/{fname}"] = _sha256(data)
    domains = dict(manifest["domains"])
    domains[domain] = {"k": len(feats), "num_images": len(feats), "image_sizes": sizes.tolist()}
    if protos is not None:
        domains[domain]["prototypes"] = len(protos)
    manifest = {**manifest, "domains": domains, "checksums": checksums}
    text = json.dumps(manifest, indent=2, sort_keys=False).encode("utf-8")
    try:
        with AtomicOutputs() as outs:  # the domain's files and the manifest: all or none
            for fname, data in files.items():
                outs.write(ddir / fname, lambda f, d=data: f.write(d))  # type: ignore[misc]
            outs.write(root / MANIFEST, lambda f: f.write(text))
    except BaseException:
        for d in reversed(created):
            try:
                d.rmdir()  # only folders this call made, and only when still empty
            except OSError:
                pass
        raise
    if protos is None:  # a replaced domain's old prototypes are no longer listed in the manifest
        (ddir / "prototypes.npy").unlink(missing_ok=True)
    return load_gallery(root)
