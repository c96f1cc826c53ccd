"""Weights directory: layout check listing what is missing, strict save/reload round trip."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from safetensors.torch import load_file, save_file

from faceshot_animate.mofa import (
    MofaWeightsError,
    check_mofa_layout,
    load_cmp,
    load_mofa_components,
)
from faceshot_animate.mofa.testing import save_mofa_layout, tiny_components

SVD = "ckpts/mofa/stable-video-diffusion-img2vid-xt-1-1"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest single-threaded (OpenMP overhead dominates); restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    comps = tiny_components(0)
    root = save_mofa_layout(comps, tmp_path_factory.mktemp("mofa"))
    return comps, root


def test_missing_directory(tmp_path):
    with pytest.raises(MofaWeightsError, match="does not exist") as info:
        check_mofa_layout(tmp_path / "nope")
    assert isinstance(info.value, FileNotFoundError)


def test_empty_directory_lists_every_file(tmp_path):
    with pytest.raises(MofaWeightsError) as info:
        check_mofa_layout(tmp_path)
    missing = info.value.missing
    assert len(missing) == 10
    msg = str(info.value)
    assert "missing 10 file(s)" in msg
    for rel in (
        f"{SVD}/unet/config.json",
        f"{SVD}/unet/diffusion_pytorch_model.fp16.safetensors or {SVD}/unet/diffusion_pytorch_model.safetensors",
        f"{SVD}/image_encoder/model.fp16.safetensors or {SVD}/image_encoder/model.safetensors",
        f"{SVD}/scheduler/scheduler_config.json",
        "ckpts/mofa/ldmk_controlnet/config.json",
        "ckpts/mofa/ldmk_controlnet/diffusion_pytorch_model.safetensors",
        "models/cmp/experiments/semiauto_annot/resnet50_vip+mpii_liteflow/checkpoints/ckpt_iter_42000.pth.tar",
    ):
        assert any(m == rel or m.startswith(rel + " or ") for m in missing) and rel in msg


def test_layout_found_and_partial_missing(saved, tmp_path):
    _, root = saved
    lay = check_mofa_layout(root)
    assert lay.unet_weights.name == "diffusion_pytorch_model.fp16.safetensors"
    assert lay.cmp_checkpoint.name == "ckpt_iter_42000.pth.tar"
    assert lay.controlnet_dir.name == "ldmk_controlnet"
    # a copy without the ControlNet weights and the scheduler: exactly those two listed
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (copy / "ckpts/mofa/ldmk_controlnet/diffusion_pytorch_model.safetensors").unlink()
    shutil.rmtree(copy / SVD / "scheduler")
    with pytest.raises(MofaWeightsError) as info:
        check_mofa_layout(copy)
    assert info.value.missing == (
        f"{SVD}/scheduler/scheduler_config.json",
        "ckpts/mofa/ldmk_controlnet/diffusion_pytorch_model.safetensors",
    )


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k].float(), sb[k].float()), k


def test_strict_round_trip(saved):
    comps, root = saved
    loaded = load_mofa_components(root, dtype=torch.float32, cmp_config=comps.cmp.config)
    for name in ("unet", "vae", "image_encoder", "controlnet", "cmp"):
        _same_state(getattr(comps, name), getattr(loaded, name))
    assert loaded.controlnet.config.occlusion_block_expansion == 4
    assert loaded.scheduler.config.prediction_type == "v_prediction"


def test_renamed_controlnet_key_is_rejected(saved, tmp_path):
    import shutil

    comps, root = saved
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    path = copy / "ckpts/mofa/ldmk_controlnet/diffusion_pytorch_model.safetensors"
    state = load_file(path)
    state["zero_outs.8.weightX"] = state.pop("zero_outs.8.weight")
    save_file(state, path)
    with pytest.raises(MofaWeightsError, match="landmark ControlNet"):
        load_mofa_components(copy, dtype=torch.float32, cmp_config=comps.cmp.config)


def test_cmp_checkpoint_strict(saved, tmp_path):
    comps, root = saved
    ckpt = check_mofa_layout(root).cmp_checkpoint
    raw = torch.load(ckpt, weights_only=True)
    assert all(k.startswith("module.") for k in raw["state_dict"])
    _same_state(comps.cmp, load_cmp(ckpt, comps.cmp.config))
    with pytest.raises(MofaWeightsError, match="shape mismatches"):
        load_cmp(ckpt)  # the full-size architecture does not fit the tiny file
    bad = tmp_path / "bad.pth.tar"
    state = dict(raw["state_dict"])
    state.pop("module.flow_decoder.head.weight")
    torch.save({"step": 1, "state_dict": state}, bad)
    with pytest.raises(MofaWeightsError, match="1 missing keys"):
        load_cmp(bad, comps.cmp.config)


def test_upstream_class_name_in_config_loads(saved, tmp_path):
    """Upstream's config.json names the class FlowControlNet (diffusers 0.24); it must still load."""
    import json
    import shutil

    comps, root = saved
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    cfg_path = copy / "ckpts/mofa/ldmk_controlnet/config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["_class_name"] = "FlowControlNet"
    cfg["_diffusers_version"] = "0.24.0.dev0"
    cfg_path.write_text(json.dumps(cfg))
    loaded = load_mofa_components(copy, dtype=torch.float32, cmp_config=comps.cmp.config)
    _same_state(comps.controlnet, loaded.controlnet)


def test_loading_info_check_ignores_only_position_ids():
    from faceshot_animate.mofa._layout import _check_info

    _check_info({"unexpected_keys": ["vision_model.embeddings.position_ids"]}, "CLIP")
    with pytest.raises(MofaWeightsError, match=r"CLIP does not match.*1 unexpected keys"):
        _check_info({"unexpected_keys": ["vision_model.extra.weight"]}, "CLIP")
    with pytest.raises(MofaWeightsError, match="2 missing keys"):
        _check_info({"missing_keys": ["a", "b"]}, "U-Net")
