"""VideoDataModule: turns a dataset (a published set, class folders or list files) into train/val/test loaders for Lightning."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader, default_collate
from torchdata.stateful_dataloader import StatefulDataLoader

from vidcls.clip import ClipSpec, EvalResizeMode, EvalRounding, FrameSampling, Interpolation, ViewPooling, resolve_clip
from vidcls.data.dataset import VideoClipDataset
from vidcls.data.decoding import Decoder, DecoderSettings, SeekMode
from vidcls.data.formats import ClassFolders, DatasetFormat, ListFiles, open_format
from vidcls.data.sources import VideoSample, has_label_sets, read_classes_file
from vidcls.data.transforms import eval_transform, multi_view_transform, train_transform
from vidcls.errors import DatasetError, VidclsError
from vidcls.task import DEFAULT_TASK, Task


class VideoDataModule(L.LightningDataModule):
    """Clips from a published dataset, class folders (``root/<split>/<class>/<video>``) or list files.

    Args:
        root: dataset folder with ``train``, ``val`` and optionally ``test`` class folders; with
            ``dataset``, the folder of the set's videos as published (``UCF-101``, ...).
        train_list, val_list, test_list: list files (``path label [start end]`` lines, or a CSV
            with a ``path,label[,start,end]`` header, or a manifest of ``vidcls data verify``); each
            replaces its split's folder, or its split of ``dataset``. Multi-label lists give a video
            several labels (``path a;b``, or a CSV ``path,labels``; :mod:`vidcls.data.formats.lists`):
            such data needs the multi-label task, which the run then takes (:attr:`task`).
        classes: class names in index order, or a file (one name a line, or ``index name`` lines as
            UCF101's ``classInd.txt``). Default: the dataset's own classes in its published order,
            else the sorted labels of the train split. A checkpoint's classes are passed here at test time.
        dataset: a published set read from its own annotation files (:mod:`vidcls.data.formats`):
            ``ucf101``, ``hmdb51``, ``ssv2``, ``diving48`` or ``charades``. UCF101 and HMDB51 have no val split:
            val and test read the split's test list; SSv2's val and test read its validation set.
            Charades is multi-label (several actions a video): the run takes the multi-label task.
        annotations: the folder of the set's annotation files (``ucfTrainTestlist``, ...).
        split: which of the set's numbered splits (1, 2 or 3 for UCF101 and HMDB51).
        allow_missing: skip (and count) annotated videos whose file is missing, as after a
            partial download; by default a missing video is an error naming its line.
        batch_size, num_workers: DataLoader settings, per device.
        num_frames, clip_duration, crop_size, min_scale, max_scale, hflip_prob, eval_resize, mean,
            std, test_clips, test_crops, randaug_ops, randaug_magnitude, erase_prob, sampling, view_pooling: the clip
            (:class:`~vidcls.clip.ClipSpec` says what each means). Each one left unset comes from the model being trained or tested (its
            checkpoint's clip, else its preset), else ClipSpec's default; each one given wins.
            :func:`vidcls.training.run.link_run` decides the run's clip and classes and hands them
            here (:meth:`use_run`); the resolved clip is :attr:`clip`.
        eval_rounding: whose rounding the evaluation resize and crops follow ("torchvision", "transformers",
            "pytorchvideo"); default: the model's, so its clips are its reference evaluation's to the pixel.
        eval_resize_mode, interpolation: "square" resizes the whole evaluation frame to eval_resize² (aspect not kept);
            the filter of every resize, "bilinear" or "bicubic"; default: the model's (VideoPrism: square, bicubic).
        clips_per_video: training clips read from each video per visit, in one decoding pass
            (repeated augmentation): a batch then holds ``batch_size * clips_per_video`` clips.
            Decoding is shared, so clips per second rise; the clips of a batch are less
            independent. Default 1: the tutorial's one clip per video.
        decoder: "pyav" decodes only the packets the sampled frames depend on (fastest on CPU);
            "torchcodec" decodes every frame from the keyframe before each. Same pixels.
        decode_device: "cuda" decodes with torchcodec on the GPU (NVDEC) and runs the transforms
            there; the batches arrive on the GPU (DataLoader workers are then spawned).
        decoder_threads: FFmpeg threads per decoder; keep 1 with several workers.
        seek_mode: torchcodec's seek mode ("approximate" opens instantly; "exact" scans the file).
        decode_timeout: seconds after which a clip's decoding is abandoned and the video replaced
            like an unreadable one (None: wait forever).

    The training loader is torchdata's ``StatefulDataLoader``: Lightning saves its position (the
    shuffle and the batches already drawn) in every checkpoint, so a run resumed mid-epoch draws
    the rest of that epoch exactly as the interrupted run would have.
    """

    def __init__(
        self,
        root: str | None = None,
        train_list: str | None = None,
        val_list: str | None = None,
        test_list: str | None = None,
        classes: list[str] | str | None = None,
        dataset: str | None = None,
        annotations: str | None = None,
        split: int = 1,
        allow_missing: bool = False,
        batch_size: int = 8,
        num_workers: int = 4,
        num_frames: int | None = None,
        clip_duration: float | None = None,
        crop_size: int | None = None,
        min_scale: int | None = None,
        max_scale: int | None = None,
        hflip_prob: float | None = None,
        eval_resize: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        test_clips: int | None = None,
        test_crops: int | None = None,
        randaug_ops: int | None = None,
        randaug_magnitude: int | None = None,
        erase_prob: float | None = None,
        eval_rounding: EvalRounding | None = None,
        sampling: FrameSampling | None = None,
        eval_resize_mode: EvalResizeMode | None = None,
        interpolation: Interpolation | None = None,
        view_pooling: ViewPooling | None = None,
        clips_per_video: int = 1,
        decoder: Decoder = DecoderSettings.decoder,
        decode_device: str = DecoderSettings.decode_device,
        decoder_threads: int = DecoderSettings.decoder_threads,
        seek_mode: SeekMode = DecoderSettings.seek_mode,
        decode_timeout: float | None = DecoderSettings.decode_timeout,
        pin_memory: bool = True,
    ):
        super().__init__()
        # the classes are saved by the classifier, with the weights they index
        self.save_hyperparameters(ignore=["classes"])
        self.root = Path(root) if root else None
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self._given_classes = classes
        self.datasets: dict[str, VideoClipDataset] = {}
        self._run_clip: ClipSpec | None = None  # the run's, from vidcls.training.run.link_run
        self._run_task: Task = DEFAULT_TASK

    @property
    def given_clip(self) -> dict[str, Any]:
        """The clip values given here (None: not given), as the run's resolver reads them."""
        return {name: self.hparams[name] for name in ClipSpec.field_names()}

    @property
    def clip(self) -> ClipSpec:
        """The clip contract: the run's (:meth:`use_run`); on its own, the values given here over ClipSpec's defaults."""
        return self._run_clip or resolve_clip(None, self.given_clip)

    @cached_property
    def format(self) -> DatasetFormat:
        """Where the videos and labels come from: each split's list file, over the published set or the class folders."""
        hp = self.hparams
        if hp.dataset:
            under = open_format(hp.dataset, self.root, hp.annotations, hp.split, hp.allow_missing)
        else:
            under = ClassFolders(self.root) if self.root is not None else None
        classes_file = self._given_classes if isinstance(self._given_classes, str) else None
        return ListFiles(self.lists, under, classes_file, hp.allow_missing)

    @cached_property
    def given_classes(self) -> list[str] | None:
        """The class names given here, in index order (a list, or read from a classes file); None when not given."""
        given = self._given_classes
        if isinstance(given, str):
            return read_classes_file(given)
        return list(given) if given else None

    @cached_property
    def classes(self) -> list[str]:
        """Class names in index order: the run's (:meth:`use_run`), else given, else the dataset's (published order or inferred)."""
        return self.given_classes or self.format.classes()

    @cached_property
    def task(self) -> Task | None:
        """The task these videos need: ``"multilabel"`` for a multi-label set (Charades) or lists with label sets;
        None when each video has one label (it trains either way: one label is a multi-hot vector with one 1)."""
        if self.format.multilabel:
            return "multilabel"
        listed = [split for split, path in self.lists.items() if path]  # the formats of one label each are not read
        return "multilabel" if any(has_label_sets(self.format.videos(split)) for split in listed) else None

    @property
    def linked(self) -> bool:
        """True once :meth:`use_run` gave this data the run's clip and classes (a model's trainer checks it)."""
        return self._run_clip is not None

    def use_run(self, classes: list[str], clip: ClipSpec, task: Task = DEFAULT_TASK) -> None:
        """Index labels by ``classes``, cut clips by ``clip`` and make ``task``'s targets (multi-hot for multi-label):
        what the run's resolver decided for model and data."""
        self.classes = list(classes)
        self._run_clip = clip
        self._run_task = task

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def bad_video_log(self) -> Path | None:
        """``bad_videos.csv`` in the run folder: every video that failed to decode, with the reason."""
        log_dir = self.trainer.log_dir if self.trainer is not None else None
        return Path(log_dir) / "bad_videos.csv" if log_dir else None

    def has_split(self, split: str) -> bool:
        """True when the split has a list file, a folder under ``root``, or is a split of the published dataset."""
        return self.format.has_split(split)

    def _test_split(self) -> str:
        """Kinetics publishes no test labels, so testing falls back to the val split, and says so."""
        if not self.has_split("test") and self.has_split("val"):
            rank_zero_info("No test split found: testing on the val split.")
            return "val"
        return "test"

    def setup(self, stage: str) -> None:
        """Check every split the stage needs, so bad paths and labels fail before training starts."""
        hp, clip = self.hparams, self.clip
        common = dict(
            clip_duration=clip.clip_duration,
            num_frames=clip.num_frames,
            decoding=DecoderSettings(decoder=hp.decoder, seek_mode=hp.seek_mode, decoder_threads=hp.decoder_threads,
                                     decode_device=self.decode_device, decode_timeout=hp.decode_timeout),
            seed=int(os.environ.get("PL_GLOBAL_SEED", 0)),  # set by seed_everything
            bad_video_log=self.bad_video_log,
            segments=clip.sampling == "segment",
            multi_hot=self.num_classes if self._run_task == "multilabel" else None,
        )
        if stage == "fit":
            self.datasets["train"] = VideoClipDataset(
                self._samples("train"),
                transform=train_transform(clip),
                sampling="random",
                clips_per_video=hp.clips_per_video,
                **common,
            )
        if stage in ("fit", "validate"):
            if self.has_split("val"):
                self.datasets["val"] = VideoClipDataset(
                    self._samples("val"), transform=eval_transform(clip), sampling="centre", **common
                )
            elif stage == "fit":
                rank_zero_info("No val split found: training without validation.")
            else:
                raise DatasetError(f"no data for the val split: give {self.root}/val or val_list")
        if stage == "test":
            self.datasets["test"] = VideoClipDataset(
                self._samples(self._test_split()), transform=multi_view_transform(clip), num_clips=clip.test_clips, **common
            )

    def _samples(self, split: str) -> list[VideoSample]:
        return self.format.samples(split, self.classes)

    @property
    def decode_device(self) -> str:
        """Where clips are decoded: a GPU decodes on the trainer's own device (one per DDP process)."""
        device = torch.device(self.hparams.decode_device)
        if device.type != "cuda":
            return str(device)
        if not torch.cuda.is_available():
            raise VidclsError(f"decode_device={self.hparams.decode_device}: CUDA is not available here")
        root = self.trainer.strategy.root_device if self.trainer is not None else None
        return str(root if root is not None and root.type == "cuda" and device.index is None else device)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        on_gpu = self.datasets[split].decoding.decode_device != "cpu"
        repeated = split == "train" and self.hparams.clips_per_video > 1
        loader = StatefulDataLoader if split == "train" else DataLoader
        return loader(
            self.datasets[split],
            batch_size=self.hparams.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            collate_fn=clips_as_batch_entries if repeated else None,
            pin_memory=self.hparams.pin_memory and torch.cuda.is_available() and not on_gpu,
            persistent_workers=workers > 0,
            multiprocessing_context="spawn" if on_gpu and workers > 0 else None,  # CUDA cannot start in a fork
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val", shuffle=False) if "val" in self.datasets else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


def clips_as_batch_entries(items: list[dict]) -> dict[str, torch.Tensor]:
    """Repeated augmentation: every clip of a video becomes a batch entry of its own, with its label."""
    batch = default_collate(items)
    clips = batch["video"].shape[1]
    return {
        "video": batch["video"].flatten(0, 1),
        "label": batch["label"].repeat_interleave(clips, dim=0),  # class indices, or multi-hot rows
        "index": batch["index"].repeat_interleave(clips),
    }
