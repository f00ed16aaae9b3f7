"""Video classification models by name: ``build_model("x3d_s", num_classes=10)``.

``registry`` holds the names; importing the model modules registers PyTorchVideo's and
torchvision's Kinetics-400 models and a small CPU model. ``vidcls models`` lists them.
"""

from vidcls.models import pytorchvideo_models, simple3d, torchvision_models  # noqa: F401  (they register)
from vidcls.models.registry import (
    InputPreset,
    build_model,
    describe_model,
    get_preset,
    list_models,
    model_entry,
    register_model,
)

__all__ = [
    "InputPreset",
    "build_model",
    "describe_model",
    "get_preset",
    "list_models",
    "model_entry",
    "register_model",
]
