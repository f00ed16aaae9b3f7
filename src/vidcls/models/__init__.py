"""Video classification models by name: ``build_model("x3d_s", num_classes=10)``.

``registry`` holds the names (and reads a user's own ``package.module:function``), ``catalog`` the
built-in ones, one card per model (PyTorchVideo's, torchvision's and the Hub's Kinetics models and
a small CPU model): builder, clip preset, head, weight layouts, published classes; neither imports
torch, so ``vidcls models`` is instant. ``pretrained`` loads published or earlier weights into a network.
``checkpoint`` reads a vidcls checkpoint back as network, clip and classes (no Lightning).
"""

from vidcls.models import catalog  # noqa: F401  (registers the built-in models)
from vidcls.models.registry import (
    ModelCard,
    build_model,
    describe_model,
    get_preset,
    list_models,
    model_entry,
    published_classes,
    register_model,
)

__all__ = [
    "ModelCard",
    "build_model",
    "describe_model",
    "get_preset",
    "list_models",
    "model_entry",
    "published_classes",
    "register_model",
]
