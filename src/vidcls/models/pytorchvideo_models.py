"""PyTorchVideo's Kinetics-400 models, built by its factories with the settings of its hub builders.

Each builder replicates ``pytorchvideo/models/hub/<family>.py`` (the functions behind
``torch.hub.load("facebookresearch/pytorchvideo", NAME)``), so parameter names and shapes match
the published checkpoints, whose URLs are taken from those same files. Two changes, neither of
which touches a parameter:

- the head's fixed-size average pool becomes a global one: the same average at the published clip
  size, and any other clip size works too (256² test crops, fewer frames in tests);
- no softmax after the last layer: the classifier's cross-entropy takes logits.

Input presets cite the published training recipes: PyTorchVideo's trainer
(``pytorchvideo_trainer/conf/datamodule/transforms/kinetics_classification_*.yaml``, [ptv]) and the
PySlowFast configs its model zoo points to (``configs/Kinetics/pytorchvideo/*.yaml``, [psf]). Our
datamodule has one ``crop_size`` for training and evaluation, so it is the training crop; the recipes
test on a larger crop (X3D-XS/S 182, the others 256) with three crops per view.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from vidcls.models.registry import InputPreset, register_model

with warnings.catch_warnings():  # pytorchvideo 0.1.5 calls the deprecated torch.jit.script at import
    warnings.simplefilter("ignore", FutureWarning)
    from pytorchvideo.models.hub import r2plus1d as r2plus1d_hub
    from pytorchvideo.models.hub import resnet as resnet_hub
    from pytorchvideo.models.hub import slowfast as slowfast_hub
    from pytorchvideo.models.hub import x3d as x3d_hub
    from pytorchvideo.models.r2plus1d import create_r2plus1d
    from pytorchvideo.models.resnet import create_resnet
    from pytorchvideo.models.slowfast import create_slowfast
    from pytorchvideo.models.x3d import create_x3d

# The final Linear of every PyTorchVideo ResNet-style head (blocks[-1] is a ResNetBasicHead).
RESNET_HEAD = "blocks.5.proj"
# The slow pathway sees one frame in 4 ([psf] SLOWFAST_8x8_R50.yaml: SLOWFAST.ALPHA 4).
SLOWFAST_ALPHA = 4


def _factory_model(factory: Callable[..., nn.Module], num_classes: int, settings: dict, options: dict) -> nn.Module:
    """``factory`` with the hub builder's ``settings``, then the user's ``options``, returning logits of any clip size."""
    logits_any_size = {"head_pool": nn.AdaptiveAvgPool3d, "head_activation": None}
    model = factory(model_num_class=num_classes, **{**settings, **logits_any_size, **options})
    for module in model.modules():
        if isinstance(module, nn.Conv3d):  # the factories leave numpy.int64 strides, which break torch.compile
            module.stride = tuple(int(step) for step in module.stride)
    return model


@register_model(
    "slow_r50",
    "Slow-only 3D ResNet-50 (PyTorchVideo), 8x8 at 224²: Kinetics-400 74.58 % top-1 published, 32.5 M parameters",
    # [ptv] kinetics_classification_slow.yaml: 8 frames, scale 256-320, crop 224, val short side 256;
    # [psf] SLOW_8x8_R50.yaml: sampling rate 8 (2.13 s clips, as configs/kinetics400_slow_r50.yaml)
    preset=InputPreset(num_frames=8, sampling_rate=8, crop_size=224, min_scale=256, max_scale=320, eval_resize=256),
    head=RESNET_HEAD,
    weights_url=resnet_hub.checkpoint_paths["slow_r50"],
)
def slow_r50(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's slow_r50 through its ``create_resnet`` factory (BatchNorm3d, ReLU).

    Architecture and parameter names match PyTorchVideo's published ``slow_r50`` (stem kernel
    1×7×7), so its checkpoints load. The tutorial's variant has a 3×7×7 stem:
    ``stem_conv_kernel_size=(3, 7, 7)``. Any ``create_resnet`` keyword can be passed.
    """
    return _factory_model(create_resnet, num_classes, {"stem_conv_kernel_size": (1, 7, 7)}, options)


def x3d(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's X3D (``create_x3d``: width 2.0, depth 2.2, as the hub builds XS, S and M)."""
    model = create_x3d(model_num_class=num_classes, **{"head_activation": None, **options})
    # create_x3d sizes its head pool from input_clip_length and input_crop_size; global pooling
    # averages the same at that size and takes any other
    model.blocks[-1].pool.pool = nn.AdaptiveAvgPool3d(1)
    return model


# X3D-XS, -S and -M are one network (hub x3d.py builds all three with create_x3d's default widths
# and depths; model zoo: 3.79 M parameters) trained on different clips: name → (published top-1, preset).
X3D_SIZES = {
    # [ptv] kinetics_classification_x3d_xs.yaml and [psf] X3D_XS.yaml: 4 frames every 12, scale
    # 182-228, crop 160 (hub x3d_xs: input_crop_size 160), val short side 182
    "x3d_xs": (69.12, InputPreset(num_frames=4, sampling_rate=12, crop_size=160, min_scale=182, max_scale=228, eval_resize=182)),
    # [psf] X3D_S.yaml: 13 frames every 6, scale 182-228, crop 160 (hub x3d_s: 160), test short side 182
    "x3d_s": (73.33, InputPreset(num_frames=13, sampling_rate=6, crop_size=160, min_scale=182, max_scale=228, eval_resize=182)),
    # [psf] X3D_M.yaml: 16 frames every 5, scale 256-320, crop 224 (hub x3d_m: 224), test short side 256
    "x3d_m": (75.94, InputPreset(num_frames=16, sampling_rate=5, crop_size=224, min_scale=256, max_scale=320, eval_resize=256)),
}  # top-1: the hub builders' docstrings
for _name, (_top1, _preset) in X3D_SIZES.items():
    register_model(
        _name,
        f"{_name.replace('x3d_', 'X3D-').upper()} (PyTorchVideo), {_preset.num_frames}x{_preset.sampling_rate} at "
        f"{_preset.crop_size}²: Kinetics-400 {_top1} % top-1 published, 3.8 M parameters",
        preset=_preset,
        head=RESNET_HEAD,
        weights_url=x3d_hub.checkpoint_paths[_name],
    )(x3d)


class SlowFast(nn.Module):
    """PyTorchVideo's two-pathway SlowFast taking one ``B×C×T×H×W`` clip, so the rest of vidcls stays single-tensor.

    The fast pathway sees all ``T`` frames, the slow pathway ``T // alpha`` of them, picked as
    PyTorchVideo's trainer packs them (``SlowFastPackPathway``: ``linspace(0, T - 1, T // alpha)``).
    The blocks keep PyTorchVideo's names (``blocks.0...``), so its checkpoints load unchanged.
    """

    def __init__(self, blocks: nn.ModuleList, alpha: int = SLOWFAST_ALPHA):
        super().__init__()
        self.blocks = blocks
        self.alpha = alpha

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        frames = clips.shape[2]
        slow = torch.linspace(0, frames - 1, frames // self.alpha, device=clips.device).long()
        x = [clips.index_select(2, slow), clips]
        for block in self.blocks:  # as PyTorchVideo's Net.forward
            x = block(x)
        return x


@register_model(
    "slowfast_r50",
    "SlowFast R50 (PyTorchVideo), 32x2 (fast; slow 8x8) at 224²: Kinetics-400 76.4 % top-1 published, 34.6 M parameters",
    # [ptv] kinetics_classification_slowfast.yaml: 32 frames (fast pathway), scale 256-320, crop 224,
    # val short side 256, alpha 4; [psf] SLOWFAST_8x8_R50.yaml: sampling rate 2
    preset=InputPreset(
        num_frames=32, sampling_rate=2, crop_size=224, min_scale=256, max_scale=320, eval_resize=256,
        slowfast_alpha=SLOWFAST_ALPHA,
    ),
    head="blocks.6.proj",
    weights_url=slowfast_hub.checkpoint_paths["slowfast_r50"],
)
def slowfast_r50(num_classes: int = 400, alpha: int = SLOWFAST_ALPHA, **options) -> nn.Module:
    """PyTorchVideo's ``slowfast_r50`` (hub: depth 50, fusion kernel 7×1×1) behind a one-clip input.

    The fast-to-slow fusion strides ``alpha`` frames in time, so a clip of ``T`` frames needs
    ``T`` divisible by ``alpha``.
    """
    settings = {"model_depth": 50, "slowfast_fusion_conv_kernel_size": (7, 1, 1), "slowfast_fusion_conv_stride": (alpha, 1, 1)}
    return SlowFast(_factory_model(create_slowfast, num_classes, settings, options).blocks, alpha)


@register_model(
    "r2plus1d_r50",
    "R(2+1)D R50 (PyTorchVideo), 16x4 at 224²: Kinetics-400 76.01 % top-1 published, 28.1 M parameters",
    # [psf] R2PLUS1D_16x4_R50.yaml: 16 frames every 4, scale 256-320, crop 224, test short side 256
    preset=InputPreset(num_frames=16, sampling_rate=4, crop_size=224, min_scale=256, max_scale=320, eval_resize=256),
    head=RESNET_HEAD,
    weights_url=r2plus1d_hub.checkpoint_paths["r2plus1d_r50"],
)
def r2plus1d_r50(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's ``r2plus1d_r50`` (hub: ``create_r2plus1d`` with dropout 0.5)."""
    return _factory_model(create_r2plus1d, num_classes, {"dropout_rate": 0.5}, options)
