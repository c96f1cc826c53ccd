"""Full-size architecture checks on torch's meta device (no weights, no GPU): ``pytest -m full_size``.

Every model of the GPU path is built from its published config (the JSON files of
``faceshot_features.full_size`` and ``faceshot_animate.mofa.full_size``) and checked against what
was published about the released weights:

* its parameter count equals the published one;
* the exact byte size of every released safetensors file is reproduced from our state dict (no
  model here has a public sharded-checkpoint index: each is one file, below diffusers' 10 GB
  shard size, so the file's own header is the key list, and its size is what is published). A
  safetensors file is 8 bytes + a JSON header listing every tensor's name, dtype, shape and offsets
  + the tensor bytes, so matching its size to the byte checks the key set and every shape, not only
  the parameter count (a renamed key, a missing bias or a (C, C) weight stored as (C, C, 1, 1)
  changes the size; see ``test_file_size_check_catches_a_wrong_layout``);
* the MOFA ControlNet and CMP, which have no public index or count, match the upstream modules'
  key/shape digest, and the ControlNet's SVD encoder matches the (byte-checked) SVD-XT U-Net;
* the full pipelines run shape-only forward passes at full size: DDIM inversion + the
  ``up_blocks[1]`` hook give (1280, 32, 32) features at 512², and the ControlNet's residuals fit the
  SVD U-Net's skip connections.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.full_size

# Parametrisation reads the JSON data files directly, so collecting this module (also when it is
# deselected, as in the default run) imports neither torch nor diffusers.
_ROOT = Path(__file__).resolve().parents[1]
_SPEC_FILES = {
    p.stem: p
    for d in (
        "packages/faceshot-features/src/faceshot_features/full_size",
        "packages/faceshot-animate/src/faceshot_animate/mofa/full_size",
    )
    for p in sorted((_ROOT / d).glob("*.json"))
}
_RAW = {name: json.loads(path.read_text(encoding="utf-8")) for name, path in _SPEC_FILES.items()}
MODELS = [n for n, s in _RAW.items() if "Scheduler" not in s["class"]]
FILES = [
    (n, i) for n in MODELS for i, _ in enumerate((_RAW[n]["published"] or {}).get("files", []))
]

torch = pytest.importorskip("torch")
feat_fs = pytest.importorskip("faceshot_features.full_size")
mofa_fs = pytest.importorskip("faceshot_animate.mofa.full_size")

_SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}


def _spec(name: str) -> dict[str, Any]:
    return mofa_fs.spec(name) if name in mofa_fs.MODELS else feat_fs.spec(name)


def _build(name: str) -> Any:
    return mofa_fs.build(name) if name in mofa_fs.MODELS else feat_fs.build(name)


def test_every_data_file_is_a_listed_model() -> None:
    assert set(_RAW) == set(feat_fs.MODELS) | set(mofa_fs.MODELS)
    for name, raw in _RAW.items():
        assert raw == _spec(name) and raw["name"] == name and raw["source"]


def _state(model: Any) -> dict[str, torch.Tensor]:
    """Flat state dict; the IP-Adapter's nested dict gets the released ``image_proj.`` / ``ip_adapter.`` prefixes."""
    if isinstance(model, dict):
        return {f"{head}.{k}": v for head, d in model.items() for k, v in d.items()}
    return dict(model.state_dict())


def _file_size(state: dict[str, torch.Tensor], file: dict[str, Any]) -> int:
    tensors = [
        (k, tuple(v.shape), file["dtype"] if v.is_floating_point() else _SAFETENSORS_DTYPE[v.dtype])
        for k, v in state.items()
    ]
    tensors += [(t["name"], tuple(t["shape"]), t["dtype"]) for t in file.get("extra_tensors", [])]
    header = file["header"]
    return feat_fs.safetensors_file_size(
        tensors, metadata=header["metadata"], align=header["align"]
    )


@pytest.mark.parametrize("name", MODELS)
def test_model_builds_from_its_published_config_with_the_published_parameter_count(
    name: str,
) -> None:
    spec = _spec(name)
    model = _build(name)
    count = feat_fs.parameter_count(model)
    assert count > 0
    assert all(t.device.type == "meta" for t in _state(model).values())
    published = spec["published"]["parameters"]
    if (
        published is not None
    ):  # None only for the text encoders: no figure found (see parameters_source)
        assert count == published
    else:
        assert name.endswith("_text_encoder") and spec["published"]["parameters_source"].startswith(
            "Not checked"
        )


@pytest.mark.parametrize(
    ("name", "index"),
    FILES,
    ids=[f"{n}:{_RAW[n]['published']['files'][i]['path']}" for n, i in FILES],
)
def test_released_safetensors_file_size_is_reproduced_to_the_byte(name: str, index: int) -> None:
    file = _spec(name)["published"]["files"][index]
    assert _file_size(_state(_build(name)), file) == file["bytes"]


def test_fp32_and_fp16_releases_agree_on_the_parameter_count() -> None:
    """Independent of our key list: two releases of one model differ by 2 bytes per parameter (+ header digits)."""
    for name in MODELS:
        files = _spec(name)["published"]["files"]
        by_dtype = {f["dtype"]: f["bytes"] for f in files}
        if {"F32", "F16"} <= set(by_dtype):
            implied = (by_dtype["F32"] - by_dtype["F16"]) / 2
            assert abs(implied - _spec(name)["published"]["parameters"]) < 1000, name


def test_file_size_check_catches_a_wrong_layout() -> None:
    """The SD 2.1 U-Net with 1x1-conv projections has the same parameter count but a different file."""
    spec = feat_fs.spec("sd21_unet")
    file = spec["published"]["files"][0]
    import diffusers

    with torch.device("meta"):
        wrong = diffusers.UNet2DConditionModel.from_config(
            dict(spec["config"], use_linear_projection=False)
        )
    assert feat_fs.parameter_count(wrong) == spec["published"]["parameters"]
    assert _file_size(_state(wrong), file) != file["bytes"]
    state = _state(_build("sd21_unet"))
    state.pop("conv_in.bias")
    assert _file_size(state, file) != file["bytes"]


@pytest.mark.parametrize("name", ["ldmk_controlnet", "cmp"])
def test_mofa_modules_match_the_upstream_key_and_shape_digest(name: str) -> None:
    ref = mofa_fs.spec(name)["upstream_reference"]
    model = mofa_fs.build(name)
    state = model.state_dict()
    assert len(state) == ref["tensors"]
    assert feat_fs.parameter_count(model) == ref["parameters"]
    assert feat_fs.state_dict_digest(state) == ref["state_dict_digest"]
    # the digest sees a one-layer difference (here: the landmark embedding given the image embedding's widths)
    if name == "ldmk_controlnet":
        from faceshot_animate.mofa import LandmarkControlNet

        cfg = dict(mofa_fs.spec(name)["config"], landmark_embedding_out_channels=[16, 32, 96, 256])
        with torch.device("meta"):
            other = LandmarkControlNet.from_config(cfg)
        assert feat_fs.state_dict_digest(other.state_dict()) != ref["state_dict_digest"]


def test_controlnet_encoder_is_the_svd_xt_unet_encoder() -> None:
    shared = ("conv_in.", "time_embedding.", "add_embedding.", "down_blocks.", "mid_block.")
    net = {
        k: tuple(v.shape)
        for k, v in mofa_fs.build("ldmk_controlnet").state_dict().items()
        if k.startswith(shared)
    }
    unet = {
        k: tuple(v.shape)
        for k, v in mofa_fs.build("svd_xt_1_1_unet").state_dict().items()
        if k.startswith(shared)
    }
    assert net == unet
    assert sum(int(np.prod(s)) for s in net.values()) == 669_455_377


def test_cmp_trunk_is_a_resnet50() -> None:
    model = mofa_fs.build("cmp")
    trunk = sum(
        p.numel() for n, p in model.image_encoder.named_parameters() if not n.startswith("conv5.")
    )
    assert trunk == mofa_fs.spec("cmp")["published"]["trunk_parameters"]


def test_ip_adapter_loads_into_the_full_size_sd15_unet() -> None:
    unet = feat_fs.build("sd15_unet")
    before = feat_fs.parameter_count(unet)
    state = feat_fs.build("ip_adapter_sd15")
    with torch.device("meta"):
        unet._load_ip_adapter_weights([state], low_cpu_mem_usage=False)
    assert (
        feat_fs.parameter_count(unet) - before
        == feat_fs.spec("ip_adapter_sd15")["published"]["parameters"]
    )
    proj = unet.encoder_hid_proj.image_projection_layers[0]
    enc = feat_fs.spec("ip_adapter_image_encoder")["config"]
    assert tuple(proj.image_embeds.weight.shape) == (
        4 * unet.config.cross_attention_dim,
        enc["projection_dim"],
    )


@pytest.mark.parametrize("recipe", ["sd15-ip", "sd21"])
def test_full_size_extraction_gives_1280_channels_at_one_sixteenth(recipe: str) -> None:
    """Shape-only run of the recipe: VAE, DDIM inversion (2-step schedule here), up_blocks[1] hook."""
    from faceshot_features import PRESETS, DiffusionExtractor

    with tempfile.TemporaryDirectory() as tok:
        comps = feat_fs.components(recipe, tok)
        config = dataclasses.replace(PRESETS[recipe], num_inference_steps=2)
        with torch.device("meta"):
            ex = DiffusionExtractor(
                comps,
                backbone=recipe,
                config=config,
                device="meta",
                dtype=torch.float16,
                progress=False,
            )
            image = np.zeros((512, 512, 3), np.uint8)
            out = ex._run([image], [image])
    assert ex.has_ip_adapter == (recipe == "sd15-ip")
    assert tuple(out.shape) == (1, 1280, 32, 32)


def test_full_size_mofa_window_shapes() -> None:
    """Shape-only pass of every MOFA model at 512² on 4 frames: conditions, residuals into the U-Net, decode, CMP, CLIP."""
    from faceshot_animate.mofa import unet_residuals

    c = mofa_fs.components(dtype=torch.float16)
    f, h, w = 4, 512, 512
    half = torch.float16
    with torch.device("meta"):
        conds = c.controlnet.encode_conditions(
            torch.empty(1, 3, h, w, dtype=half),
            torch.empty(1, f - 1, 2, h, w),
            torch.empty(1, f, 3, h, w),
            frame_chunk=2,
        )
        assert [tuple(x.shape[2:]) for x in conds.features] == [
            (320, 64, 64),
            (320, 32, 32),
            (640, 16, 16),
            (1280, 8, 8),
        ]
        sample = torch.empty(2, f, 8, h // 8, w // 8, dtype=half)
        clip = c.image_encoder(torch.empty(1, 3, 224, 224, dtype=half)).image_embeds
        ehs = clip[:, None].expand(2, 1, -1)
        added = torch.empty(2, 3, dtype=half)
        down, mid = c.controlnet(sample, torch.tensor(1.0), ehs, added, conds, 1.0)
        assert len(down) == 12 and tuple(mid.shape) == (2 * f, 1280, 8, 8)
        with unet_residuals(c.unet, down, mid, mofa_accumulation=True):
            out = c.unet(sample, torch.tensor(1.0), ehs, added, return_dict=False)[0]
        assert tuple(out.shape) == (2, f, 4, h // 8, w // 8)
        pix = c.vae.decode(torch.empty(f, 4, h // 8, w // 8, dtype=half), num_frames=f).sample
        assert tuple(pix.shape) == (f, 3, h, w)
        s = c.cmp.config.size
        flow = c.cmp(torch.empty(2, 3, s, s), torch.empty(2, 2, s, s), torch.empty(2, 2, s, s))
        assert tuple(flow.shape) == (2, 2, s, s)


def test_scheduler_configs_load() -> None:
    from diffusers import DDIMInverseScheduler, EulerDiscreteScheduler

    for name in ("sd15_scheduler", "sd21_scheduler"):
        cfg = {
            k: v
            for k, v in feat_fs.spec(name)["config"].items()
            if k in DDIMInverseScheduler.__init__.__code__.co_varnames
        }
        DDIMInverseScheduler.from_config(cfg)
    assert feat_fs.spec("sd21_scheduler")["config"]["prediction_type"] == "v_prediction"
    sched = mofa_fs.build("svd_xt_1_1_scheduler")
    assert (
        isinstance(sched, EulerDiscreteScheduler) and sched.config.prediction_type == "v_prediction"
    )
