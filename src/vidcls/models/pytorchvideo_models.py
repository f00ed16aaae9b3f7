"""PyTorchVideo's Kinetics-400 models, built by its factories with the settings of its hub builders.

Each builder replicates ``pytorchvideo/models/hub/<family>.py`` (the functions behind
``torch.hub.load("facebookresearch/pytorchvideo", NAME)``), so parameter names and shapes match
the published checkpoints, whose URLs are taken from those same files. Two changes, neither of
which touches a parameter:

- the head's fixed-size average pool becomes a global one: the same average at the published clip
  size, and any other clip size works too (256² test crops, fewer frames in tests);
- no softmax after the last layer: the classifier's cross-entropy takes logits.

Their names, clip presets and published weights are in :mod:`vidcls.models.catalog`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

with warnings.catch_warnings():  # pytorchvideo 0.1.5 calls the deprecated torch.jit.script at import
    warnings.simplefilter("ignore", FutureWarning)
    from pytorchvideo.models.r2plus1d import create_r2plus1d
    from pytorchvideo.models.resnet import create_resnet
    from pytorchvideo.models.slowfast import create_slowfast
    from pytorchvideo.models.x3d import create_x3d

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


def slow_r50(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's slow_r50 through its ``create_resnet`` factory (BatchNorm3d, ReLU).

    Architecture and parameter names match PyTorchVideo's published ``slow_r50`` (stem kernel
    1×7×7), so its checkpoints load. The tutorial's variant has a 3×7×7 stem:
    ``stem_conv_kernel_size=(3, 7, 7)``. Any ``create_resnet`` keyword can be passed.
    """
    return _factory_model(create_resnet, num_classes, {"stem_conv_kernel_size": (1, 7, 7)}, options)


def x3d(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's X3D (``create_x3d``: width 2.0, depth 2.2, as the hub builds XS, S and M).

    X3D-XS, -S and -M are this one network trained on different clips (their presets).
    """
    model = create_x3d(model_num_class=num_classes, **{"head_activation": None, **options})
    # create_x3d sizes its head pool from input_clip_length and input_crop_size; global pooling
    # averages the same at that size and takes any other
    model.blocks[-1].pool.pool = nn.AdaptiveAvgPool3d(1)
    return model



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


def slowfast_r50(num_classes: int = 400, alpha: int = SLOWFAST_ALPHA, **options) -> nn.Module:
    """PyTorchVideo's ``slowfast_r50`` (hub: depth 50, fusion kernel 7×1×1) behind a one-clip input.

    The fast-to-slow fusion strides ``alpha`` frames in time, so a clip of ``T`` frames needs
    ``T`` divisible by ``alpha``.
    """
    settings = {"model_depth": 50, "slowfast_fusion_conv_kernel_size": (7, 1, 1), "slowfast_fusion_conv_stride": (alpha, 1, 1)}
    return SlowFast(_factory_model(create_slowfast, num_classes, settings, options).blocks, alpha)


def r2plus1d_r50(num_classes: int = 400, **options) -> nn.Module:
    """PyTorchVideo's ``r2plus1d_r50`` (hub: ``create_r2plus1d`` with dropout 0.5)."""
    return _factory_model(create_r2plus1d, num_classes, {"dropout_rate": 0.5}, options)
