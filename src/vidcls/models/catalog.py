"""The built-in models, one card each (the one place for a family): description, builder, clip preset (or the rule
that reads it from a checkpoint), head, weight layouts, published weights and their class order; no torch import.

Builders live in the family modules (``pytorchvideo_models``, ``torchvision_models``,
``simple3d``, ``hf``), which are imported only when a model is built. Every number here is cited, and
``tests/models/test_catalog.py`` checks the ones the libraries publish (torchvision's weights
enums, PyTorchVideo's hub checkpoint paths, parameter counts) against the installed packages.

Preset sources: PyTorchVideo's trainer (``pytorchvideo_trainer/conf/datamodule/transforms/
kinetics_classification_*.yaml``, [ptv]); the PySlowFast configs its model zoo points to
(``configs/Kinetics/pytorchvideo/*.yaml``, [psf]); torchvision's weights enums
(``<Model>_Weights.KINETICS400_V1``: ``.meta`` and ``.transforms()``) and its
``references/video_classification/README.md`` ([tv]: the video ResNets take 16 frames at 15 fps,
``--train-resize-size 128 171``; S3D ``--clip-len 64`` at 15 fps, ``--train-resize-size 256 256``).
torchvision's recipes resize to a fixed size before the random crop, so ``min_scale == max_scale``.
The PyTorchVideo recipes test on a larger crop (X3D-XS/S 182, the others 256) with three crops per
view; our ``crop_size`` is the training crop. Evaluation rounds as each family's library does
(``eval_rounding``: PyTorchVideo's ``uniform_crop``, torchvision's ``CenterCrop``, transformers' processors).

Published classes: torchvision's weights enums carry theirs (``meta["categories"]``); PyTorchVideo's
Kinetics-400 heads use the order of its ``kinetics_classnames.json``, which no installed package
holds, so vidcls does not claim it (None); a Hub checkpoint's are its config's ``id2label``.
"""

from __future__ import annotations

from dataclasses import replace

from vidcls.clip import IMAGENET_MEAN, IMAGENET_STD, ClipSpec
from vidcls.models.registry import HubFamily, ModelCard, add_model

PTV = "vidcls.models.pytorchvideo_models"
TV = "vidcls.models.torchvision_models"
PTV_ZOO = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
TV_ZOO = "https://download.pytorch.org/models"
# The final Linear of every PyTorchVideo ResNet-style head (blocks[-1] is a ResNetBasicHead).
RESNET_HEAD = "blocks.5.proj"
# torchvision's video ResNets and S3D: Kinetics statistics of their own (weights .transforms())
TV_MEAN = (0.43216, 0.394666, 0.37645)
TV_STD = (0.22803, 0.22145, 0.216989)
# torchvision samples its clips at 15 fps: every 2nd frame of a 30 fps video
TV_RESNET = ClipSpec.at_sampling_rate(16, 2, crop_size=112, min_scale=128, max_scale=128, eval_resize=128, mean=TV_MEAN, std=TV_STD)


def _ptv(name: str, description: str, builder: str, preset: ClipSpec, zoo_file: str, head: str = RESNET_HEAD) -> ModelCard:
    """A PyTorchVideo card: its evaluation rounds as its ``short_side_scale`` and ``uniform_crop`` do."""
    preset = replace(preset, eval_rounding="pytorchvideo")
    return ModelCard(name, description, f"{PTV}:{builder}", preset, head, f"{PTV_ZOO}/{zoo_file}",
                     weight_layouts=("vidcls", "pytorchvideo", "state_dict"))


def _tv(name: str, description: str, preset: ClipSpec, head: str, weights_file: str) -> ModelCard:
    return ModelCard(name, description, f"{TV}:{name}", preset, head, f"{TV_ZOO}/{weights_file}",
                     published_classes=f"{TV}:published_classes")


CARDS = [
    ModelCard("simple3d", "Plain 4-block 3D CNN, 0.3 M parameters: CPU demos and tests", "vidcls.models.simple3d:simple3d",
              head="head.3"),
    # [ptv] kinetics_classification_slow.yaml: 8 frames, scale 256-320, crop 224, val short side 256;
    # [psf] SLOW_8x8_R50.yaml: sampling rate 8 (2.13 s clips, as configs/kinetics400_slow_r50.yaml)
    _ptv("slow_r50", "Slow-only 3D ResNet-50 (PyTorchVideo), 8x8 at 224²: Kinetics-400 74.58 % top-1 published, 32.5 M parameters",
         "slow_r50", ClipSpec.at_sampling_rate(8, 8), "SLOW_8x8_R50.pyth"),
    # X3D-XS, -S and -M are one network (hub x3d.py builds all three with create_x3d's default widths
    # and depths; model zoo: 3.79 M parameters) trained on different clips; top-1: the hub docstrings.
    # [ptv] kinetics_classification_x3d_xs.yaml, [psf] X3D_XS.yaml: 4 frames every 12, scale 182-228, crop 160, val 182
    _ptv("x3d_xs", "X3D-XS (PyTorchVideo), 4x12 at 160²: Kinetics-400 69.12 % top-1 published, 3.8 M parameters", "x3d",
         ClipSpec.at_sampling_rate(4, 12, crop_size=160, min_scale=182, max_scale=228, eval_resize=182), "X3D_XS.pyth"),
    # [psf] X3D_S.yaml: 13 frames every 6, scale 182-228, crop 160, test short side 182
    _ptv("x3d_s", "X3D-S (PyTorchVideo), 13x6 at 160²: Kinetics-400 73.33 % top-1 published, 3.8 M parameters", "x3d",
         ClipSpec.at_sampling_rate(13, 6, crop_size=160, min_scale=182, max_scale=228, eval_resize=182), "X3D_S.pyth"),
    # [psf] X3D_M.yaml: 16 frames every 5, scale 256-320, crop 224, test short side 256
    _ptv("x3d_m", "X3D-M (PyTorchVideo), 16x5 at 224²: Kinetics-400 75.94 % top-1 published, 3.8 M parameters", "x3d",
         ClipSpec.at_sampling_rate(16, 5), "X3D_M.pyth"),
    # [ptv] kinetics_classification_slowfast.yaml: 32 frames (fast pathway), scale 256-320, crop 224,
    # val short side 256, alpha 4 (the builder's); [psf] SLOWFAST_8x8_R50.yaml: sampling rate 2
    _ptv("slowfast_r50", "SlowFast R50 (PyTorchVideo), 32x2 (fast; slow 8x8) at 224²: Kinetics-400 76.4 % top-1 published, "
         "34.6 M parameters", "slowfast_r50", ClipSpec.at_sampling_rate(32, 2), "SLOWFAST_8x8_R50.pyth", head="blocks.6.proj"),
    # [psf] R2PLUS1D_16x4_R50.yaml: 16 frames every 4, scale 256-320, crop 224, test short side 256
    _ptv("r2plus1d_r50", "R(2+1)D R50 (PyTorchVideo), 16x4 at 224²: Kinetics-400 76.01 % top-1 published, 28.1 M parameters",
         "r2plus1d_r50", ClipSpec.at_sampling_rate(16, 4), "R2PLUS1D_16x4_R50.pyth"),
    _tv("r3d_18", "r3d_18 (torchvision), 16x2 at 112²: Kinetics-400 63.2 % top-1 published, 33.4 M parameters",
        TV_RESNET, "fc", "r3d_18-b3b3357e.pth"),
    _tv("mc3_18", "mc3_18 (torchvision), 16x2 at 112²: Kinetics-400 63.96 % top-1 published, 11.7 M parameters",
        TV_RESNET, "fc", "mc3_18-a90a0ba3.pth"),
    _tv("r2plus1d_18", "r2plus1d_18 (torchvision), 16x2 at 112²: Kinetics-400 67.463 % top-1 published, 31.5 M parameters",
        TV_RESNET, "fc", "r2plus1d_18-91a641e6.pth"),
    # [tv] trained on 64 frames at 15 fps (evaluated on 128)
    _tv("s3d", "s3d (torchvision), 64x2 at 224²: Kinetics-400 68.368 % top-1 published, 8.3 M parameters",
        ClipSpec.at_sampling_rate(64, 2, min_scale=256, max_scale=256, mean=TV_MEAN, std=TV_STD), "classifier.1", "s3d-d76dad2f.pth"),
    # ported from PySlowFast (configs/Kinetics/MVITv2_S_16x4.yaml: 16 frames every 4, scale 256-320,
    # crop 224; weights _docs: frame_rate 7.5). Its positional embeddings fix the input at 16x224²
    # (weights meta: min_size, min_temporal_size); the builder's spatial_size/temporal_size change
    # that, but the published weights then no longer fit.
    _tv("mvit_v2_s", "mvit_v2_s (torchvision), 16x4 at 224²: Kinetics-400 80.757 % top-1 published, 34.5 M parameters; "
        "input fixed at 16x224²", ClipSpec.at_sampling_rate(16, 4), "head.1", "mvit_v2_s-ae3be167.pth"),
    # ported from Video Swin (Kinetics-400 tiny config: 32 frames every 2, short side 256, then a
    # random-resized crop, which our datamodule does not have: a random crop of the 256 short side instead)
    _tv("swin3d_t", "swin3d_t (torchvision), 32x2 at 224²: Kinetics-400 77.715 % top-1 published, 28.2 M parameters",
        ClipSpec.at_sampling_rate(32, 2, min_scale=256, max_scale=256, mean=IMAGENET_MEAN, std=IMAGENET_STD), "head",
        "swin3d_t-7615ae03.pth"),
]

# Hugging Face transformers' video classifiers (the vidcls[hf] extra; built by vidcls.models.hf). Their clip is read
# from the checkpoint given as --model.pretrained (its config's frames, its processor's resize, crop and statistics);
# their published classes are its config's id2label. Top-1 and parameters: VideoMAE (Tong et al. 2022, table 6: ViT-B,
# 16 frames, 1600-epoch pre-training), TimeSformer (Bertasius et al. 2021, table 1 and section 4.3).
# Sampling rates (frames of a 30 fps video per sampled frame): VideoMAE's Kinetics fine-tuning scripts (--num_frames 16
# --sampling_rate 4); TimeSformer's TimeSformer_divST_8x32_224.yaml (8 frames, SAMPLING_RATE 32); ViViT's Kinetics
# configs (scenic, 32 frames, stride 2); V-JEPA's Kinetics evaluation (vitl16_k400_16x8x3.yaml: 16 frames, frame_step 4).
HF = "vidcls.models.hf"


def _hub(name: str, description: str, head: str | tuple[str, ...], family: HubFamily) -> ModelCard:
    return ModelCard(name, description, f"{HF}:build", head=head, preset_for=f"{HF}:clip_preset", weight_layouts=(),
                     published_classes=f"{HF}:published_classes", hub=family)


CARDS += [
    _hub("videomae", "VideoMAE ViT-B (transformers), 16x4 at 224²: Kinetics-400 81.5 % top-1 published "
         "(MCG-NJU/videomae-base-finetuned-kinetics), 87 M parameters", "model.classifier",
         HubFamily("VideoMAEConfig", "VideoMAEForVideoClassification", "VideoMAEVideoProcessor", "num_frames",
                   "image_size", "videomae.encoder.layer", "videomae.embeddings", sampling_rate=4)),
    _hub("vjepa2", "V-JEPA 2 ViT-L (transformers), 16x4 at 256²: Hub classifiers for SSv2 and Diving-48 "
         "(facebook/vjepa2-vitl-fpc16-256-ssv2); encoders facebook/vjepa2-vitl-fpc64-256", ("model.pooler", "model.classifier"),
         HubFamily("VJEPA2Config", "VJEPA2ForVideoClassification", "VJEPA2VideoProcessor", "frames_per_clip",
                   "crop_size", "vjepa2.encoder.layer", "vjepa2.encoder.embeddings", sampling_rate=4,
                   drop_path_in_config=True, unused="vjepa2.predictor")),
    # (TimesformerConfig has drop_path_rate, typed int: a rate like 0.1 fails its validation, so vidcls adds its own)
    _hub("timesformer", "TimeSformer base (transformers), 8x32 at 224²: Kinetics-400 78.0 % top-1 published "
         "(facebook/timesformer-base-finetuned-k400), 121 M parameters", "model.classifier",
         HubFamily("TimesformerConfig", "TimesformerForVideoClassification", "TimesformerVideoProcessor",
                   "num_frames", "image_size", "timesformer.encoder.layer", "timesformer.embeddings", sampling_rate=32)),
    _hub("vivit", "ViViT-B/16x2 (transformers), 32x2 at 224², input in [-1, 1]: Kinetics-400 "
         "(google/vivit-b-16x2-kinetics400)", "model.classifier",
         HubFamily("VivitConfig", "VivitForVideoClassification", "VivitVideoProcessor", "num_frames", "image_size",
                   "vivit.layers", "vivit.embeddings", sampling_rate=2, rescale_offset=-1.0)),
    # VideoPrism (Zhao et al. 2024; transformers 5.13): a ViViT factorised encoder, 12 spatial and 4 temporal blocks, 16
    # frames at 288² (the model card's "num_frames is set to 16", transformers' VideoPrismVisionConfig defaults). Its
    # published checkpoints are encoders (VideoPrismVisionModel): no classifier, so the attention-pooling head, its norm
    # and the classifier are new, and --model.freeze_backbone trains them alone (the paper's frozen-encoder probe). Its
    # processor (LLaVA-OneVision's) resizes the whole frame to a 288 square, bicubic, with no crop. No sampling rate is
    # published for it: VideoMAE's 4 is assumed (set --data.clip_duration for another).
    _hub("videoprism", "VideoPrism-B (transformers), 16x4 at 288², whole frame resized: encoders only, no published "
         "classifier (google/videoprism-base-f16r288; train a head, e.g. --model.freeze_backbone true), 114 M encoder parameters",
         ("model.head", "model.head_layernorm", "model.classifier"),
         HubFamily("VideoPrismVisionConfig", "VideoPrismForVideoClassification", "LlavaOnevisionVideoProcessor",
                   "num_frames", "image_size", ("vision_model.spatial_layers", "vision_model.temporal_layers"),
                   ("vision_model.spatial_embeddings", "vision_model.temporal_embeddings"), sampling_rate=4)),
]

for _card in CARDS:
    add_model(_card)
