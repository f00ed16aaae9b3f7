"""vidcls: train, evaluate and run video action-recognition classifiers.

The public API, imported on first use: ``import vidcls`` costs little and changes no global state.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "ClipSpec": "vidcls.clip",
    "DatasetError": "vidcls.errors",
    "VideoReadError": "vidcls.errors",
    "VidclsError": "vidcls.errors",
    "VideoDataModule": "vidcls.data.datamodule",
    "build_model": "vidcls.models",
    "list_models": "vidcls.models",
    "register_model": "vidcls.models",
    "VideoClassifier": "vidcls.training.classifier",
    "DataBoundAdvisor": "vidcls.training.data_advisor",
    "TestReport": "vidcls.training.callbacks",
    "link_run": "vidcls.training.run",
    "load_network": "vidcls.models.checkpoint",
    "Predictor": "vidcls.inference.predictor",
    "export_checkpoint": "vidcls.inference.export",
}
__all__ = [
    "ClipSpec",
    "DataBoundAdvisor",
    "DatasetError",
    "Predictor",
    "TestReport",
    "VideoClassifier",
    "VideoDataModule",
    "VideoReadError",
    "VidclsError",
    "build_model",
    "export_checkpoint",
    "link_run",
    "list_models",
    "load_network",
    "register_model",
]

if TYPE_CHECKING:
    from vidcls.clip import ClipSpec
    from vidcls.data.datamodule import VideoDataModule
    from vidcls.errors import DatasetError, VidclsError, VideoReadError
    from vidcls.inference.export import export_checkpoint
    from vidcls.inference.predictor import Predictor
    from vidcls.models import build_model, list_models, register_model
    from vidcls.models.checkpoint import load_network
    from vidcls.training.callbacks import TestReport
    from vidcls.training.classifier import VideoClassifier
    from vidcls.training.data_advisor import DataBoundAdvisor
    from vidcls.training.run import link_run


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vidcls' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
