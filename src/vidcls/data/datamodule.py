"""VideoDataModule: turns a folder or list files into train/val/test loaders for Lightning."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader

from vidcls.data.dataset import VideoClipDataset
from vidcls.data.decoding import SeekMode
from vidcls.data.sources import (
    LabelledVideo,
    VideoSample,
    infer_classes,
    read_classes_file,
    read_list_file,
    resolve_labels,
    scan_class_folders,
)
from vidcls.errors import DatasetError
from vidcls.data.transforms import KINETICS_MEAN, KINETICS_STD, EvalPreset, TrainPreset


class VideoDataModule(L.LightningDataModule):
    """Clips from class folders (``root/<split>/<class>/<video>``) or list files, one per split.

    Args:
        root: dataset folder with ``train``, ``val`` and optionally ``test`` class folders.
        train_list, val_list, test_list: list files (``path label`` lines or CSV with a
            ``path,label`` header); each replaces the folder of its split.
        classes: class names in index order, or a file with one per line. Default: the sorted
            labels of the train split. A checkpoint's classes are passed here at test time.
        batch_size, num_workers: DataLoader settings, per device.
        clip_duration, num_frames: each clip spans ``clip_duration`` seconds and keeps
            ``num_frames`` evenly spaced frames (tutorial: 2 s, 8 frames).
        crop_size, min_scale, max_scale, hflip_prob: training augmentation (short side scaled to
            a random size in [min_scale, max_scale], random crop, flip).
        eval_resize: short side before the evaluation centre crop of ``crop_size``.
        seek_mode: torchcodec's seek mode ("approximate" opens instantly; "exact" scans the file).
    """

    def __init__(
        self,
        root: str | None = None,
        train_list: str | None = None,
        val_list: str | None = None,
        test_list: str | None = None,
        classes: list[str] | str | None = None,
        batch_size: int = 8,
        num_workers: int = 4,
        clip_duration: float = 2.0,
        num_frames: int = 8,
        crop_size: int = 224,
        min_scale: int = 256,
        max_scale: int = 320,
        eval_resize: int = 256,
        hflip_prob: float = 0.5,
        mean: Sequence[float] = KINETICS_MEAN,
        std: Sequence[float] = KINETICS_STD,
        seek_mode: SeekMode = "approximate",
        pin_memory: bool = True,
    ):
        super().__init__()
        # the classes are saved by the classifier, with the weights they index
        self.save_hyperparameters(ignore=["classes"])
        self.root = Path(root) if root else None
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self._given_classes = classes
        self.datasets: dict[str, VideoClipDataset] = {}

    @cached_property
    def classes(self) -> list[str]:
        """Class names in index order: given, read from a classes file, or inferred from the train split."""
        given = self._given_classes
        if isinstance(given, str):
            return read_classes_file(given)
        if given:
            return list(given)
        return infer_classes(self._videos("train"))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def bad_video_log(self) -> Path | None:
        """``bad_videos.csv`` in the run folder: every video that failed to decode, with the reason."""
        log_dir = self.trainer.log_dir if self.trainer is not None else None
        return Path(log_dir) / "bad_videos.csv" if log_dir else None

    def has_split(self, split: str) -> bool:
        """True when the split has a list file or a folder under ``root``."""
        return bool(self.lists[split]) or (self.root is not None and (self.root / split).is_dir())

    def _videos(self, split: str) -> list[LabelledVideo]:
        if self.lists[split]:
            return read_list_file(self.lists[split])
        if self.root is None:
            raise DatasetError(f"no data for the {split} split: give root or {split}_list")
        return scan_class_folders(self.root / split)

    def _eval_split(self, split: str) -> str:
        """Kinetics publishes no test labels, so testing falls back to the val split, and says so."""
        if split == "test" and not self.has_split("test") and self.has_split("val"):
            rank_zero_info("No test split found: testing on the val split.")
            return "val"
        return split

    def setup(self, stage: str) -> None:
        """Check every split the stage needs, so bad paths and labels fail before training starts."""
        hp = self.hparams
        common = dict(
            clip_duration=hp.clip_duration,
            num_frames=hp.num_frames,
            seek_mode=hp.seek_mode,
            seed=int(os.environ.get("PL_GLOBAL_SEED", 0)),  # set by seed_everything
            bad_video_log=self.bad_video_log,
        )
        eval_transform = EvalPreset(crop_size=hp.crop_size, resize_size=hp.eval_resize, mean=hp.mean, std=hp.std)
        if stage == "fit":
            train_transform = TrainPreset(
                crop_size=hp.crop_size,
                min_scale=hp.min_scale,
                max_scale=hp.max_scale,
                hflip_prob=hp.hflip_prob,
                mean=hp.mean,
                std=hp.std,
            )
            self.datasets["train"] = VideoClipDataset(
                self._samples("train"), transform=train_transform, sampling="random", **common
            )
        wanted = {"fit": ["val"], "validate": ["val"], "test": ["test"]}.get(stage, [])
        for split in wanted:
            source = self._eval_split(split)
            if stage == "fit" and not self.has_split(source):
                rank_zero_info("No val split found: training without validation.")
                continue
            self.datasets[split] = VideoClipDataset(
                self._samples(source), transform=eval_transform, sampling="centre", **common
            )

    def _samples(self, split: str) -> list[VideoSample]:
        return resolve_labels(self._videos(split), self.classes)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            pin_memory=self.hparams.pin_memory and torch.cuda.is_available(),
            persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False) if "val" in self.datasets else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
