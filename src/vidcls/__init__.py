"""vidcls: train, evaluate and run video action-recognition classifiers."""

from vidcls.classifier import VideoClassifier
from vidcls.data.datamodule import VideoDataModule
from vidcls.errors import DatasetError, VideoReadError, VidclsError
from vidcls.models import build_model, list_models, register_model

__all__ = [
    "DatasetError",
    "VideoClassifier",
    "VideoDataModule",
    "VideoReadError",
    "VidclsError",
    "build_model",
    "list_models",
    "register_model",
]
