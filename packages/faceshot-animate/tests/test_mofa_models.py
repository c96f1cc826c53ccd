"""Module structure (upstream key names and shapes), ControlNet conditions, U-Net residual hooks, CMP."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from faceshot_animate.mofa import (
    CmpConfig,
    CmpFlowNet,
    LandmarkControlNet,
    MofaConfigError,
    residual_multipliers,
    softsplat,
    unet_residuals,
)
from faceshot_animate.mofa.testing import tiny_components


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest single-threaded (OpenMP overhead dominates); restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def comps():
    return tiny_components(0)


# Key names and shapes of the released checkpoints, read from MOFA-Video-Hybrid's
# models/ldmk_ctrlnet.py, models/controlnet_sdv.py, models/occlusion/hourglass.py and
# models/cmp/ (the modules those checkpoints were saved from).
CONTROLNET_KEYS = {
    "conv_in.weight": (320, 8, 3, 3),
    "controlnet_cond_embedding.conv_in.weight": (16, 3, 3, 3),
    "controlnet_cond_embedding.blocks.5.weight": (256, 96, 3, 3),
    "controlnet_cond_embedding.conv_out.weight": (320, 256, 3, 3),
    "controlnet_ldmk_embedding.blocks.5.weight": (128, 64, 3, 3),
    "controlnet_ldmk_embedding.conv_out.weight": (320, 128, 3, 3),
    "flow_encoder.encoders.0.conv_in.weight": (320, 320, 3, 3),
    "flow_encoder.encoders.2.conv_in.weight": (1280, 640, 3, 3),
    "zero_outs.8.weight": (320, 320, 1, 1),
    "zero_outs.16.weight": (320, 320, 1, 1),
    "zero_outs.32.weight": (640, 640, 1, 1),
    "zero_outs.64.weight": (1280, 1280, 1, 1),
    "occlusions.8.hourglass.encoder.down_blocks.0.conv.weight": (128, 642, 3, 3),
    "occlusions.64.hourglass.encoder.down_blocks.2.conv.weight": (512, 256, 3, 3),
    "occlusions.32.hourglass.decoder.up_blocks.0.conv.weight": (256, 512, 3, 3),
    "occlusions.32.hourglass.decoder.up_blocks.2.conv.weight": (64, 256, 3, 3),
    "occlusions.16.matting_mask.weight": (1, 64, 7, 7),
    "occlusions.64.matting.weight": (1280, 64, 7, 7),
    "controlnet_down_blocks.0.weight": (320, 320, 1, 1),
    "controlnet_down_blocks.11.weight": (1280, 1280, 1, 1),
    "controlnet_mid_block.weight": (1280, 1280, 1, 1),
    "time_embedding.linear_1.weight": (1280, 320),
    "add_embedding.linear_1.weight": (1280, 768),
    "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight": (320, 1024),
    "mid_block.attentions.0.temporal_transformer_blocks.0.attn1.to_q.weight": (1280, 1280),
}

CMP_KEYS = {
    "image_encoder.conv1.weight": (64, 3, 7, 7),
    "image_encoder.layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "image_encoder.layer3.5.conv2.weight": (256, 256, 3, 3),
    "image_encoder.layer4.2.conv3.weight": (2048, 512, 1, 1),
    "image_encoder.conv5.weight": (256, 2048, 1, 1),
    "flow_encoder.features.0.weight": (16, 4, 5, 5),
    "flow_encoder.features.4.weight": (16, 16, 3, 3),
    "flow_encoder.features.5.running_mean": (16,),
    "flow_decoder.decoder1.6.weight": (128, 128, 3, 3),
    "flow_decoder.decoder8.1.weight": (128, 272, 3, 3),
    "flow_decoder.fusion8.0.weight": (256, 512, 3, 3),
    "flow_decoder.skipconv4.0.weight": (128, 256, 3, 3),
    "flow_decoder.fusion4.0.weight": (128, 384, 3, 3),
    "flow_decoder.skipconv2.0.weight": (32, 64, 3, 3),
    "flow_decoder.fusion2.0.weight": (64, 160, 3, 3),
    "flow_decoder.head.weight": (198, 64, 1, 1),
}


def test_full_size_controlnet_has_upstream_keys():
    with torch.device("meta"):
        net = LandmarkControlNet()
    sd = net.state_dict()
    for key, shape in CONTROLNET_KEYS.items():
        assert key in sd, key
        assert tuple(sd[key].shape) == shape, key
    assert sum(k.startswith("controlnet_down_blocks.") and k.endswith(".weight") for k in sd) == 12
    assert not any(k.startswith("up_blocks") for k in sd)


def test_full_size_cmp_has_upstream_keys():
    with torch.device("meta"):
        net = CmpFlowNet()
    sd = net.state_dict()
    for key, shape in CMP_KEYS.items():
        assert key in sd, key
        assert tuple(sd[key].shape) == shape, key
    assert net.image_encoder.layer4[0].conv2.dilation == (4, 4)
    assert net.image_encoder.layer3[0].conv2.stride == (1, 1)


def test_svd_xt_residual_multipliers():
    from diffusers import UNetSpatioTemporalConditionModel

    with torch.device("meta"):
        unet = UNetSpatioTemporalConditionModel()
    assert residual_multipliers(unet) == [4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1]
    assert residual_multipliers(unet, mofa_accumulation=False) == [1] * 12


def test_controlnet_config_checks():
    with pytest.raises(MofaConfigError, match="block_out_channels"):
        LandmarkControlNet(block_out_channels=(32, 32, 64, 32))
    with pytest.raises(MofaConfigError, match="4 entries"):
        LandmarkControlNet(
            down_block_types=("DownBlockSpatioTemporal",) * 2, block_out_channels=(32, 32)
        )


def _cond_inputs(f=4, h=64, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, h, w, generator=g) * 2 - 1
    flows = torch.randn(1, f - 1, 2, h, w, generator=g) * 3
    marks = torch.rand(1, f, 3, h, w, generator=g)
    return image, flows, marks


def test_encode_conditions_shapes_and_semantics(comps):
    net = comps.controlnet
    image, flows, marks = _cond_inputs()
    flows[:, 1] = 0.0  # frame 2 does not move
    cond = net.encode_conditions(image, flows, marks, frame_chunk=2)
    widths = (32, 32, 32, 32)
    for k, (stride, feat) in enumerate(zip((8, 16, 32, 64), cond.features, strict=True)):
        assert feat.shape == (1, 4, widths[k], 64 // stride, 64 // stride)
        assert cond.occlusion[k].shape == (1, 4, 1, 64 // stride, 64 // stride)
    assert [m.shape for m in cond.landmarks] == [(1, 4, 32, 8, 8), (1, 4, 32, 4, 4)]
    with torch.no_grad():
        first = net.controlnet_cond_embedding(image)
        levels = [first, *net.flow_encoder(first)]
        # frame 0: the unwarped feature; frame 2 (zero flow): identity splat then occlusion + zero conv
        for k, stride in enumerate((8, 16, 32, 64)):
            torch.testing.assert_close(cond.features[k][:, 0], levels[k])
            same = softsplat(levels[k], torch.zeros(1, 2, *levels[k].shape[-2:]))
            refined, _ = net.occlusions[str(stride)](levels[k], torch.zeros_like(same[:, :2]), same)
            torch.testing.assert_close(
                cond.features[k][:, 2], net.zero_outs[str(stride)](refined), rtol=1e-4, atol=1e-5
            )
    chunked = net.encode_conditions(image, flows, marks, frame_chunk=1)
    for a, b in zip(
        cond.features + cond.landmarks, chunked.features + chunked.landmarks, strict=True
    ):
        torch.testing.assert_close(a, b)
    sub = cond.take(torch.tensor([0, 3]))
    assert sub.num_frames == 2
    torch.testing.assert_close(sub.features[1][:, 1], cond.features[1][:, 3])
    with pytest.raises(MofaConfigError, match="multiples of 64"):
        net.encode_conditions(image[..., :48], flows[..., :48], marks[..., :48])


def test_controlnet_forward_shapes_match_unet_skips(comps):
    net, unet = comps.controlnet, comps.unet
    image, flows, marks = _cond_inputs(f=3)
    cond = net.encode_conditions(image, flows, marks)
    sample = torch.randn(2, 3, 8, 8, 8)
    ehs, added = torch.randn(2, 1, 16), torch.randn(2, 3)
    with torch.no_grad():
        down, mid = net(sample, torch.tensor(10.0), ehs, added, cond, 0.5)
        _, mid1 = net(sample, torch.tensor(10.0), ehs, added, cond, 1.0)
    assert len(down) == len(residual_multipliers(unet)) == 8
    assert [tuple(d.shape) for d in down] == [
        (6, 32, 8, 8),
        (6, 32, 8, 8),
        (6, 32, 4, 4),
        (6, 32, 4, 4),
        (6, 32, 2, 2),
        (6, 32, 2, 2),
        (6, 32, 1, 1),
        (6, 32, 1, 1),
    ]
    assert mid.shape == (6, 32, 1, 1)
    torch.testing.assert_close(mid, mid1 * 0.5)
    with pytest.raises(MofaConfigError, match="frames"):
        net(torch.randn(2, 4, 8, 8, 8), 10.0, ehs, added, cond)


def _reference_unet_forward(unet, sample, t, ehs, added, down_res, mid_res):
    """MOFA-Video's residual-accepting SVD U-Net forward, written out explicitly."""
    b, f = sample.shape[:2]
    tt = torch.tensor([t]).expand(b)
    emb = unet.time_embedding(unet.time_proj(tt).to(sample.dtype))
    emb = emb + unet.add_embedding(unet.add_time_proj(added.flatten()).reshape(b, -1))
    emb = emb.repeat_interleave(f, dim=0)
    ehs = ehs.repeat_interleave(f, dim=0)
    x = unet.conv_in(sample.flatten(0, 1))
    ind = torch.zeros(b, f)
    skips = (x,)
    for block in unet.down_blocks:
        if getattr(block, "has_cross_attention", False):
            x, res = block(
                hidden_states=x, temb=emb, encoder_hidden_states=ehs, image_only_indicator=ind
            )
        else:
            x, res = block(hidden_states=x, temb=emb, image_only_indicator=ind)
        skips += res
        # upstream: inside the loop, zip() adds to every skip collected so far
        skips = tuple(s + r for s, r in zip(skips, down_res, strict=False)) + skips[len(down_res) :]
    x = unet.mid_block(
        hidden_states=x, temb=emb, encoder_hidden_states=ehs, image_only_indicator=ind
    )
    x = x + mid_res
    for up in unet.up_blocks:
        res, skips = skips[-len(up.resnets) :], skips[: -len(up.resnets)]
        if getattr(up, "has_cross_attention", False):
            x = up(
                hidden_states=x,
                temb=emb,
                res_hidden_states_tuple=res,
                encoder_hidden_states=ehs,
                image_only_indicator=ind,
            )
        else:
            x = up(hidden_states=x, temb=emb, res_hidden_states_tuple=res, image_only_indicator=ind)
    x = unet.conv_out(unet.conv_act(unet.conv_norm_out(x)))
    return x.reshape(b, f, *x.shape[1:])


def test_unet_hooks_match_explicit_mofa_forward(comps):
    unet = comps.unet
    g = torch.Generator().manual_seed(3)
    sample = torch.randn(1, 3, 8, 8, 8, generator=g)
    ehs, added = torch.randn(1, 1, 16, generator=g), torch.randn(1, 3, generator=g)
    shapes = [(3, 32, 8, 8)] * 2 + [(3, 32, 4, 4)] * 2 + [(3, 32, 2, 2)] * 2 + [(3, 32, 1, 1)] * 2
    down = [torch.randn(s, generator=g) * 0.3 for s in shapes]
    mid = torch.randn(3, 32, 1, 1, generator=g) * 0.3
    with torch.no_grad():
        plain = unet(sample, 5.0, ehs, added, return_dict=False)[0]
        with unet_residuals(unet, down, mid):
            hooked = unet(sample, 5.0, ehs, added, return_dict=False)[0]
        after = unet(sample, 5.0, ehs, added, return_dict=False)[0]
        want = _reference_unet_forward(unet, sample, 5.0, ehs, added, down, mid)
    torch.testing.assert_close(hooked, want, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(hooked, plain, atol=1e-3)
    torch.testing.assert_close(after, plain)  # hooks removed on exit
    with pytest.raises(MofaConfigError, match="8 tensors"):
        with unet_residuals(unet, down[:-1], mid):
            pass


def test_cmp_forward_shape_and_range():
    cfg = CmpConfig(
        width=4,
        layers=(1, 1, 1, 1),
        img_enc_dim=8,
        sparse_enc_dim=4,
        dec_width=8,
        nbins=7,
        fmax=8.0,
        size=64,
    )
    torch.manual_seed(0)
    net = CmpFlowNet(cfg).eval()
    image = torch.rand(2, 3, 64, 64)
    sparse = torch.zeros(2, 2, 64, 64)
    mask = torch.zeros(2, 2, 64, 64)
    sparse[:, :, 10, 20] = 3.0
    mask[:, :, 10, 20] = 1.0
    with torch.no_grad():
        flow = net(image, sparse, mask)
    assert flow.shape == (2, 2, 64, 64) and flow.dtype == torch.float32
    assert torch.isfinite(flow).all() and flow.abs().max() <= 8.0


def test_clip_resize_matches_diffusers_svd_preprocessing():
    pipe = pytest.importorskip(
        "diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion"
    )
    from faceshot_animate.mofa._animator import _svd_resize

    x = torch.rand(1, 3, 96, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    want = pipe._resize_with_antialiasing(x, (32, 32))
    torch.testing.assert_close(_svd_resize(x, (32, 32)), want, rtol=1e-5, atol=1e-5)
