"""MofaAnimator: the FaceShot renderer (MOFA-Video landmark ControlNet on SVD-XT 1.1).

Pipeline (pipeline -> wrapper -> modules):

1. The character image is resized to the working size (512 x 512 by default, multiples of 64;
   ``size=None`` keeps the aspect ratio at about 512^2 pixels, see :func:`working_size`);
   landmarks follow (pixel-centre convention).
2. Conditions: landmark images (:func:`render_landmark_images`), sparse landmark flow at CMP's
   384 x 384 (:func:`sparse_landmark_flow`) densified by CMP, nearest-resized to the working
   size and rescaled; the ControlNet embeds and warps the first frame for all frames once
   (:meth:`LandmarkControlNet.encode_conditions`).
3. SVD conditioning as in FaceShot's pipeline: CLIP image embedding (SVD's anti-aliased resize to
   the encoder size), VAE latent of the image
   with noise augmentation 0.02, added time ids (fps id 6, motion bucket 128, 0.02),
   classifier-free guidance with a per-frame scale rising linearly from ``min_guidance`` to
   ``max_guidance`` across each window (1.0 -> 7.5), 25 Euler steps.
4. Windows of 25 frames (anchor frame 0 + 24) with stride 12 (:func:`plan_windows`); at
   every step the guided model outputs of overlapping windows are averaged per frame
   (:func:`window_weights`, frame 0 from the first window) and one scheduler step is taken.
   The official pipeline instead steps every window and averages the stepped latents; for
   the deterministic Euler step (an affine function of the model output at a fixed sample)
   both are the same, and ours needs no scheduler-state rewinding.
5. Latents are decoded in chunks of ``decode_chunk`` frames and frames are yielded as they
   are decoded, resized back to the input size.

Frame 0 is the input image itself (exactly, as the protocol requires); RGBA inputs are
composited over white for the model and their alpha channel is carried unchanged to every
frame. ``fps`` does not influence the model (FaceShot fixes the fps id to 6).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
from faceshot_retarget import rescale_points
from numpy.typing import NDArray
from torch.nn import functional as F
from tqdm.auto import tqdm

from faceshot_animate._image import as_uint8_image, composite_over
from faceshot_animate.errors import AnimateInputError
from faceshot_animate.mofa._layout import MofaComponents, load_mofa_components
from faceshot_animate.mofa._render import render_landmark_images, sparse_landmark_flow
from faceshot_animate.mofa._unet import unet_residuals
from faceshot_animate.mofa._windows import plan_windows, window_weights
from faceshot_animate.mofa.errors import MofaConfigError

__all__ = ["MofaAnimator", "MofaConfig", "working_size"]


def _gaussian_blur(x: torch.Tensor, sigma: tuple[float, float]) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding; odd kernel of side max(4 sigma, 3)."""
    for dim, sg in ((2, sigma[0]), (3, sigma[1])):
        k = int(max(4.0 * sg, 3.0))
        k += 1 - k % 2
        grid = torch.arange(k, dtype=x.dtype, device=x.device) - k // 2
        kern = torch.exp(-(grid**2) / (2.0 * sg * sg))
        kern = kern / kern.sum()
        shape = [1, 1, 1, 1]
        shape[dim] = k
        weight = kern.view(shape).expand(x.shape[1], 1, *shape[2:])
        pad = [0, 0, 0, 0]
        side = 2 if dim == 2 else 0
        pad[side], pad[side + 1] = (k - 1) // 2, k - 1 - (k - 1) // 2
        x = F.conv2d(F.pad(x, pad, mode="reflect"), weight, groups=x.shape[1])
    return x


def _svd_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """SVD's CLIP-input resize: Gaussian anti-aliasing, sigma = max((factor - 1) / 2, 0.001),
    then bicubic with ``align_corners=True`` (as diffusers' SVD pipeline)."""
    h, w = x.shape[-2:]
    sigma = (max((h / size[0] - 1.0) / 2.0, 0.001), max((w / size[1] - 1.0) / 2.0, 0.001))
    x = _gaussian_blur(x, sigma)
    return F.interpolate(x, size=size, mode="bicubic", align_corners=True)


def working_size(height: int, width: int, area: int = 512 * 512) -> tuple[int, int]:
    """Working (H, W) for an image: its aspect ratio, about ``area`` pixels, multiples of 64.

    Args:
        height: image rows (pixels).
        width: image columns (pixels).
        area: target pixel count of the working size.

    Returns:
        (H, W), each a multiple of 64 and at least 64.
    """
    scale = (area / float(height * width)) ** 0.5
    return (
        max(64, round(height * scale / 64) * 64),
        max(64, round(width * scale / 64) * 64),
    )


@dataclass(frozen=True)
class MofaConfig:
    """Sampling settings of :class:`MofaAnimator` (validated when the animator is built).

    Attributes:
        num_inference_steps: Euler steps (25, as FaceShot).
        size: (H, W) working size in pixels, multiples of 64; ``None``: :func:`working_size`
            per image (aspect ratio kept, about 512^2 pixels). Default (512, 512), as MOFA.
        window: frames per window including the anchor frame 0 (25 for SVD-XT).
        stride: shift between windows (12, as FaceShot).
        min_guidance: guidance scale of a window's first frame (1.0).
        max_guidance: guidance scale of a window's last frame (7.5, as FaceShot).
        fps_id: SVD's fps conditioning (6, as FaceShot).
        motion_bucket_id: SVD's motion conditioning (128, as FaceShot).
        noise_aug_strength: noise added to the conditioning image (0.02, as SVD).
        conditioning_scale: multiplies the ControlNet residuals (1.0).
        decode_chunk: frames decoded at once by the VAE (8: bounds memory).
        cmp_chunk: frames densified at once by CMP (8: bounds memory).
        seed: seed of the initial noise; equal seeds give equal videos on one device (42).
        mofa_accumulation: reproduce MOFA's repeated residual addition (see
            :func:`unet_residuals`); True for the released checkpoints.
    """

    num_inference_steps: int = 25
    size: tuple[int, int] | None = (512, 512)
    window: int = 25
    stride: int = 12
    min_guidance: float = 1.0
    max_guidance: float = 7.5
    fps_id: float = 6.0
    motion_bucket_id: float = 128.0
    noise_aug_strength: float = 0.02
    conditioning_scale: float = 1.0
    decode_chunk: int = 8
    cmp_chunk: int = 8
    seed: int = 42
    mofa_accumulation: bool = True


class MofaAnimator:
    """Landmark-driven animator: MOFA-Video's landmark ControlNet on SVD-XT 1.1 (GPU).

    Implements :class:`faceshot_animate.Animator`.

    Args:
        weights: a weights directory (layout in :mod:`faceshot_animate.mofa`), loaded
            strictly and offline, or ready :class:`MofaComponents` (moved to ``device`` and
            ``dtype``; the animator then owns them).
        device: torch device, ``"cuda"`` by default; CPU works (slowly) for tiny models.
        dtype: dtype of U-Net, VAE, CLIP and ControlNet (float16 / bfloat16 on GPU);
            CMP, the latents and the guidance arithmetic stay float32.
        num_inference_steps: Euler steps (25 as FaceShot).
        size: (H, W) working size in pixels, multiples of 64 (the image is stretched to it
            and frames are resized back); ``None`` picks :func:`working_size` per image
            (aspect ratio kept, about 512^2 pixels).
        window: frames per window including the anchor frame 0 (25 for SVD-XT).
        stride: shift between windows (12 as FaceShot).
        min_guidance: guidance scale of a window's first frame.
        max_guidance: guidance scale of a window's last frame (7.5 as FaceShot).
        fps_id: SVD's fps conditioning (6 as FaceShot).
        motion_bucket_id: SVD's motion conditioning (128 as FaceShot).
        noise_aug_strength: noise added to the conditioning image (0.02).
        conditioning_scale: multiplies the ControlNet residuals.
        decode_chunk: frames decoded at once by the VAE (memory).
        cmp_chunk: frames densified at once by CMP (memory).
        seed: seed of the initial noise; equal seeds give equal videos on one device.
        progress: show a tqdm progress bar on stderr.
        mofa_accumulation: reproduce MOFA's repeated residual addition (see
            :func:`unet_residuals`); keep True for the released checkpoints.

    Raises:
        MofaConfigError: invalid option values.
        MofaWeightsError: incomplete weights directory or a checkpoint that does not match.
    """

    def __init__(
        self,
        weights: str | os.PathLike[str] | MofaComponents,
        *,
        device: str | torch.device = "cuda",
        dtype: torch.dtype = torch.float16,
        num_inference_steps: int = 25,
        size: tuple[int, int] | None = (512, 512),
        window: int = 25,
        stride: int = 12,
        min_guidance: float = 1.0,
        max_guidance: float = 7.5,
        fps_id: float = 6.0,
        motion_bucket_id: float = 128.0,
        noise_aug_strength: float = 0.02,
        conditioning_scale: float = 1.0,
        decode_chunk: int = 8,
        cmp_chunk: int = 8,
        seed: int = 42,
        progress: bool = True,
        mofa_accumulation: bool = True,
    ) -> None:
        if int(num_inference_steps) != num_inference_steps or num_inference_steps < 1:
            raise MofaConfigError(
                f"`num_inference_steps` must be an integer >= 1; got {num_inference_steps!r}"
            )
        if size is not None and (
            len(size) != 2 or any(int(s) != s or s < 64 or s % 64 for s in size)
        ):
            raise MofaConfigError(f"`size` must be (H, W), multiples of 64, or None; got {size!r}")
        plan_windows(window + 1, window, stride)  # validates window and stride
        for name, value in (("decode_chunk", decode_chunk), ("cmp_chunk", cmp_chunk)):
            if int(value) != value or value < 1:
                raise MofaConfigError(f"`{name}` must be an integer >= 1; got {value!r}")
        if not (np.isfinite(min_guidance) and np.isfinite(max_guidance)):
            raise MofaConfigError(
                f"guidance scales must be finite; got {min_guidance!r}, {max_guidance!r}"
            )
        self.device = torch.device(device)
        self.dtype = dtype
        self.config = MofaConfig(
            num_inference_steps=int(num_inference_steps),
            size=size,
            window=window,
            stride=stride,
            min_guidance=min_guidance,
            max_guidance=max_guidance,
            fps_id=fps_id,
            motion_bucket_id=motion_bucket_id,
            noise_aug_strength=noise_aug_strength,
            conditioning_scale=conditioning_scale,
            decode_chunk=decode_chunk,
            cmp_chunk=cmp_chunk,
            seed=seed,
            mofa_accumulation=mofa_accumulation,
        )
        comps = (
            weights
            if isinstance(weights, MofaComponents)
            else load_mofa_components(weights, dtype=dtype)
        )
        for name in ("unet", "vae", "image_encoder", "controlnet"):
            model = getattr(comps, name)
            # nn.Module.to: the same cast as ModelMixin.to, without its float32-modules warning
            torch.nn.Module.to(model, device=self.device, dtype=dtype).eval()
        comps.cmp.to(device=self.device, dtype=torch.float32).eval()
        self.components = comps
        self.num_inference_steps = int(num_inference_steps)
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.window = int(window)
        self.stride = int(stride)
        self.min_guidance = float(min_guidance)
        self.max_guidance = float(max_guidance)
        self.fps_id = float(fps_id)
        self.motion_bucket_id = float(motion_bucket_id)
        self.noise_aug_strength = float(noise_aug_strength)
        self.conditioning_scale = float(conditioning_scale)
        self.decode_chunk = int(decode_chunk)
        self.cmp_chunk = int(cmp_chunk)
        self.seed = int(seed)
        self.progress = bool(progress)
        self.mofa_accumulation = bool(mofa_accumulation)

    @classmethod
    def from_pretrained(
        cls,
        weights: str | os.PathLike[str] | MofaComponents,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        config: MofaConfig | None = None,
        progress: bool = True,
    ) -> MofaAnimator:
        """Build an animator from a weights directory (or components) and one config object.

        Safe defaults: the CPU and float32 (runs anywhere, slowly for full-size weights);
        pass ``device="cuda", dtype=torch.float16`` on a GPU.

        Args:
            weights: a weights directory (layout in :mod:`faceshot_animate.mofa`), loaded
                strictly and offline, or ready :class:`MofaComponents`.
            device: torch device (default ``"cpu"``).
            dtype: dtype of U-Net, VAE, CLIP and ControlNet (default float32).
            config: sampling settings (default :class:`MofaConfig`, FaceShot's).
            progress: show a tqdm progress bar on stderr.

        Raises:
            MofaConfigError: invalid settings.
            MofaWeightsError: incomplete weights directory or a mismatched checkpoint.
        """
        settings = asdict(config if config is not None else MofaConfig())
        return cls(weights, device=device, dtype=dtype, progress=progress, **settings)

    # ------------------------------------------------------------------ public

    def animate(
        self, image: NDArray[np.generic], landmarks: NDArray[np.float64], *, fps: float = 25.0
    ) -> Iterator[NDArray[np.uint8]]:
        """Render the character following the landmark sequence.

        Args:
            image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); uint8, uint16, bool or float in
                [0, 1]; the character, whose landmarks are ``landmarks[0]``.
            landmarks: (T, 68, 2) or (68, 2) float64 pixel (x, y) in ``image``'s pixels.
            fps: frames per second of the output; accepted for the protocol, unused by SVD
                (FaceShot fixes the fps id).

        Returns:
            An iterator over T frames (H, W, C) uint8, C = 4 for RGBA input else 3; frame 0
            is the input image. Inputs are checked when ``animate`` is called, the diffusion runs on
            the second ``next`` (frame 0 comes first, immediately).

        Raises:
            AnimateInputError: bad image, landmarks or fps.
        """
        img = as_uint8_image(image)
        try:
            from faceshot_retarget import as_points

            pts = as_points(landmarks, "landmarks")
        except ValueError as exc:
            raise AnimateInputError(str(exc)) from None
        if not np.isfinite(fps) or fps <= 0:
            raise AnimateInputError(f"`fps` must be a positive finite number; got {fps!r}")
        return self._frames(img, pts)

    __call__ = animate

    # ------------------------------------------------------------------ stages

    def _frames(
        self, img: NDArray[np.uint8], pts: NDArray[np.float64]
    ) -> Iterator[NDArray[np.uint8]]:
        yield img.copy()
        if pts.shape[0] == 1:
            return
        alpha = img[:, :, 3] if img.shape[2] == 4 else None
        rgb = composite_over(img)
        latents = self._denoise(rgb, pts)
        yield from self._decode(latents, img.shape[:2], alpha)

    @torch.no_grad()
    def _conditions(
        self, rgb: NDArray[np.uint8], pts: NDArray[np.float64]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Working-size image in [0, 1] (1, 3, H, W), flows (1, T-1, 2, H, W), landmark images (1, T, 3, H, W)."""
        h0, w0 = rgb.shape[:2]
        h, w = self.size if self.size is not None else working_size(h0, w0)
        work = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if h < h0 else cv2.INTER_CUBIC)
        pts_w = rescale_points(pts, (h0, w0), (h, w))
        marks = torch.from_numpy(render_landmark_images(pts_w, h, w))[None]
        image01 = torch.from_numpy(work).permute(2, 0, 1)[None].float().div(255.0)

        cmp = self.components.cmp
        s = cmp.config.size
        sparse, mask = sparse_landmark_flow(pts_w, h, w, s)
        first = F.interpolate(image01, size=(s, s)).to(self.device)  # nearest, as upstream
        dense = []
        for lo in range(0, sparse.shape[0], self.cmp_chunk):
            sp = torch.from_numpy(sparse[lo : lo + self.cmp_chunk]).to(self.device)
            mk = torch.from_numpy(mask[lo : lo + self.cmp_chunk]).to(self.device)
            flow = cmp(first.expand(sp.shape[0], -1, -1, -1), sp, mk)
            flow = F.interpolate(flow, size=(h, w))  # nearest, as upstream
            flow = flow * torch.tensor([w / s, h / s], device=flow.device).view(1, 2, 1, 1)
            dense.append(flow.cpu())
        flows = torch.cat(dense)[None]
        return image01, flows, marks

    @torch.no_grad()
    def _denoise(self, rgb: NDArray[np.uint8], pts: NDArray[np.float64]) -> torch.Tensor:
        c = self.components
        dev, dt = self.device, self.dtype
        num_frames = pts.shape[0]
        image01, flows, marks = self._conditions(rgb, pts)
        image = (image01 * 2 - 1).to(dev)
        conds = c.controlnet.encode_conditions(image, flows, marks)
        gen = torch.Generator("cpu").manual_seed(self.seed)

        # CLIP image embedding; unconditional = zeros.
        size = c.image_encoder.config.image_size
        clip_in = _svd_resize(image01.to(dev), (size, size))
        mean = torch.tensor(c.image_mean, device=dev).view(1, 3, 1, 1)
        std = torch.tensor(c.image_std, device=dev).view(1, 3, 1, 1)
        clip_in = ((clip_in - mean) / std).to(dt)
        embeds = c.image_encoder(clip_in).image_embeds.unsqueeze(1)
        ehs = torch.cat([torch.zeros_like(embeds), embeds])

        # VAE latent of the noise-augmented image (mode, unscaled); unconditional = zeros.
        noise = torch.randn(image.shape, generator=gen).to(dev)
        aug = image + self.noise_aug_strength * noise
        vae = c.vae
        upcast = dt == torch.float16 and bool(getattr(vae.config, "force_upcast", False))
        # nn.Module.to, not ModelMixin.to: same cast, without diffusers' dtype warning
        if upcast:
            torch.nn.Module.to(vae, torch.float32)
        try:
            cond_latent = vae.encode(aug.to(vae.dtype)).latent_dist.mode().to(dt)
        finally:
            if upcast:
                torch.nn.Module.to(vae, dt)
        image_latents = torch.cat([torch.zeros_like(cond_latent), cond_latent]).unsqueeze(1)

        added = torch.tensor(
            [[self.fps_id, self.motion_bucket_id, self.noise_aug_strength]], dtype=dt, device=dev
        ).repeat(2, 1)

        sched = c.scheduler
        sched.set_timesteps(self.num_inference_steps, device=dev)
        lat_shape = (1, num_frames, c.unet.config.out_channels, *cond_latent.shape[-2:])
        latents = torch.randn(lat_shape, generator=gen).to(dev) * float(sched.init_noise_sigma)

        windows = plan_windows(num_frames, self.window, self.stride)
        weights = torch.from_numpy(window_weights(num_frames, windows)).float().to(dev)
        frames_of = [torch.from_numpy(win.frames).to(dev) for win in windows]
        guidance = {
            n: torch.linspace(self.min_guidance, self.max_guidance, n, device=dev).view(
                1, n, 1, 1, 1
            )
            for n in {len(win) for win in windows}
        }
        bar = tqdm(
            total=len(sched.timesteps) * len(windows),
            desc="mofa denoise",
            unit="window",
            disable=not self.progress,
        )
        try:
            for t in sched.timesteps:
                avg = torch.zeros_like(latents)
                for k, fr in enumerate(frames_of):
                    n = fr.numel()
                    wc = conds.take(fr)
                    lat = latents.index_select(1, fr)
                    inp = sched.scale_model_input(torch.cat([lat, lat]), t).to(dt)
                    inp = torch.cat([inp, image_latents.expand(-1, n, -1, -1, -1)], dim=2)
                    down, mid = c.controlnet(inp, t, ehs, added, wc, self.conditioning_scale)
                    with unet_residuals(
                        c.unet, down, mid, mofa_accumulation=self.mofa_accumulation
                    ):
                        out = c.unet(inp, t, ehs, added, return_dict=False)[0].float()
                    uncond, cond = out.chunk(2)
                    guided = uncond + guidance[n] * (cond - uncond)
                    avg.index_add_(
                        1, fr, guided * weights[k].index_select(0, fr).view(1, n, 1, 1, 1)
                    )
                    bar.update(1)
                latents = sched.step(avg, t, latents).prev_sample
        finally:
            bar.close()
        return latents

    @torch.no_grad()
    def _decode(
        self, latents: torch.Tensor, out_size: tuple[int, int], alpha: NDArray[np.uint8] | None
    ) -> Iterator[NDArray[np.uint8]]:
        vae = self.components.vae
        h0, w0 = out_size
        lat = latents[0, 1:] / float(vae.config.scaling_factor)
        for lo in range(0, lat.shape[0], self.decode_chunk):
            chunk = lat[lo : lo + self.decode_chunk].to(self.dtype)
            pix = vae.decode(chunk, num_frames=chunk.shape[0]).sample.float()
            pix = ((pix / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
            for frame in pix.permute(0, 2, 3, 1).cpu().numpy():
                out = frame
                if out.shape[:2] != (h0, w0):
                    interp = cv2.INTER_AREA if out.shape[0] > h0 else cv2.INTER_CUBIC
                    out = cv2.resize(out, (w0, h0), interpolation=interp)
                if alpha is not None:
                    out = np.concatenate([out, alpha[:, :, None]], axis=2)
                yield np.ascontiguousarray(out)
