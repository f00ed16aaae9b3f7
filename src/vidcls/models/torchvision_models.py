"""torchvision's Kinetics-400 video models, built without weights (``--model.pretrained NAME`` loads them).

Parameter names are torchvision's, so its published state dicts load unchanged. Descriptions,
weight URLs, crops, resizes, mean and std are read from the installed weights enums
(``<Model>_Weights.KINETICS400_V1``: ``.meta`` and ``.transforms()``); frames and frame rates from
their ``_docs`` and from torchvision's ``references/video_classification/README.md`` (video
ResNets r3d_18, mc3_18, r2plus1d_18: 16 frames at 15 fps, ``--train-resize-size 128 171``; S3D:
``--clip-len 64`` at 15 fps, ``--train-resize-size 256 256``). torchvision's recipes resize to a fixed size before the random
crop, so ``min_scale == max_scale``; the two models ported from other code bases say where they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn
from torchvision.models import WeightsEnum, video

from vidcls.models.registry import SOURCE_FPS, InputPreset, register_model


@dataclass(frozen=True)
class TorchvisionVideoModel:
    builder: Callable[..., nn.Module]
    weights: WeightsEnum
    head: str  # the final classifier layer
    num_frames: int
    frame_rate: float  # the fps torchvision samples clips at (its weights' _docs)
    train_scales: tuple[int, int] | None = None  # training short-side range; default: the eval resize
    note: str = ""

    def preset(self) -> InputPreset:
        transforms = self.weights.transforms()
        resize, crop = transforms.resize_size[0], transforms.crop_size[0]
        min_scale, max_scale = self.train_scales or (resize, resize)
        return InputPreset(
            num_frames=self.num_frames,
            sampling_rate=round(SOURCE_FPS / self.frame_rate),
            crop_size=crop,
            min_scale=min_scale,
            max_scale=max_scale,
            eval_resize=resize,
            mean=tuple(transforms.mean),
            std=tuple(transforms.std),
        )

    def description(self, name: str) -> str:
        meta = self.weights.meta
        top1 = meta["_metrics"]["Kinetics-400"]["acc@1"]
        preset = self.preset()
        return (
            f"{name} (torchvision), {preset.num_frames}x{preset.sampling_rate} at {preset.crop_size}²: "
            f"Kinetics-400 {top1} % top-1 published, {meta['num_params'] / 1e6:.1f} M parameters{self.note}"
        )


MODELS: dict[str, TorchvisionVideoModel] = {
    # torchvision's video ResNets: 16 frames at 15 fps, resize 128x171, crop 112 (README above)
    "r3d_18": TorchvisionVideoModel(video.r3d_18, video.R3D_18_Weights.KINETICS400_V1, "fc", 16, 15),
    "mc3_18": TorchvisionVideoModel(video.mc3_18, video.MC3_18_Weights.KINETICS400_V1, "fc", 16, 15),
    "r2plus1d_18": TorchvisionVideoModel(video.r2plus1d_18, video.R2Plus1D_18_Weights.KINETICS400_V1, "fc", 16, 15),
    # trained on 64 frames at 15 fps (README above; evaluated on 128)
    "s3d": TorchvisionVideoModel(video.s3d, video.S3D_Weights.KINETICS400_V1, "classifier.1", 64, 15),
    # ported from PySlowFast (configs/Kinetics/MVITv2_S_16x4.yaml: 16 frames every 4, scale 256-320,
    # crop 224; weights _docs: frame_rate 7.5). Its positional embeddings fix the input at 16x224²
    # (weights meta: min_size, min_temporal_size); the builder's spatial_size/temporal_size change
    # that, but the published weights then no longer fit.
    "mvit_v2_s": TorchvisionVideoModel(
        video.mvit_v2_s, video.MViT_V2_S_Weights.KINETICS400_V1, "head.1", 16, 7.5, (256, 320),
        note="; input fixed at 16x224²",
    ),
    # ported from Video Swin (Kinetics-400 tiny config: 32 frames every 2, short side 256, then a
    # random-resized crop, which our datamodule does not have: a random crop of the 256 short side instead)
    "swin3d_t": TorchvisionVideoModel(video.swin3d_t, video.Swin3D_T_Weights.KINETICS400_V1, "head", 32, 15),
}


def _build(builder: Callable[..., nn.Module], num_classes: int, **options) -> nn.Module:
    """A torchvision video model with random weights and a ``num_classes``-way head."""
    model = builder(weights=None, num_classes=num_classes, **options)
    if isinstance(model, video.S3D):
        # S3D averages 2x7x7 windows (stride 1) before its 1x1x1 classifier conv and then averages
        # the logits, so it needs >= 14 frames at >= 224². A global average takes any clip; at 224²
        # it is the same in space, and in time it weighs the first and last feature frames like the
        # others (64 frames: 1/8 each instead of 1/14): a small change to the published model.
        model.avgpool = nn.AdaptiveAvgPool3d(1)
    return model


def _register(name: str, model: TorchvisionVideoModel) -> None:
    builder = partial(_build, model.builder)
    register_model(name, model.description(name), preset=model.preset(), head=model.head, weights_url=model.weights.url)(builder)


for _name, _model in MODELS.items():
    _register(_name, _model)
