"""Hugging Face video transformers as vidcls networks: VideoMAE, V-JEPA 2, TimeSformer, ViViT and VideoPrism.

The only package that imports ``transformers`` (the ``vidcls[hf]`` extra), one module per concern:
``network`` builds a family's classifier (from a checkpoint or a configuration), ``processor``
turns its processor config into the clip contract and back, ``groups`` gives the optimiser's
layer-wise decay groups, ``export`` writes and reads Hub-format folders.
"""

# network first: without transformers, its guard says so in one line
# isort: off
from vidcls.models.hf.network import (
    FAMILIES,
    HubFamily,
    HubVideoClassifier,
    build,
    published_classes,
)
from vidcls.models.hf.processor import clip_from_processor, clip_preset, processor_for
from vidcls.models.hf.groups import layer_decay_groups
from vidcls.models.hf.export import load_hub_folder, save_hub_folder
# isort: on

__all__ = [
    "FAMILIES", "HubFamily", "HubVideoClassifier", "build", "clip_from_processor", "clip_preset", "layer_decay_groups",
    "load_hub_folder", "processor_for", "published_classes", "save_hub_folder",
]
