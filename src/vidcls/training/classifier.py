"""VideoClassifier: the science of training (model, loss, metrics, optimiser, schedule).

The class names, the clip contract and the task are hyperparameters, so every checkpoint carries
its label mapping, the clips it was trained on and what its outputs mean, and test or prediction
from it uses the same. It writes no files: the test report is
:class:`vidcls.training.callbacks.TestReport`'s.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from typing import Any, Literal

import lightning as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MultilabelAveragePrecision
from torchmetrics.utilities import dim_zero_cat
from torchvision import tv_tensors
from torchvision.transforms import v2

from vidcls.clip import ClipSpec
from vidcls.errors import VidclsError
from vidcls.evaluation.metrics import mean_average_precision, multilabel_metrics, video_metrics
from vidcls.models import get_preset
from vidcls.models.pretrained import build_network, freeze_all_but_head
from vidcls.task import DEFAULT_TASK, Task, check_task, scores

log = logging.getLogger(__name__)


class VideoClassifier(L.LightningModule):
    """A registered video model trained with cross-entropy and evaluated with top-1/top-5, or, for multi-label
    videos, trained with binary cross-entropy and evaluated with mAP.

    Args:
        model: registry name (``vidcls.models.list_models()``).
        classes: class names in index order; with them the network is built at once. Without them,
            :func:`vidcls.training.run.link_run` gives the data's (``vidcls fit`` does).
        clip: the clip contract (``ClipSpec`` fields) the network was trained on. The run's resolver
            sets it and a checkpoint brings it back; give clip settings as ``--data.*``.
        task: "multiclass" (one label per video: softmax, cross-entropy, top-1/top-5) or "multilabel"
            (any number, none included: a sigmoid per class, binary cross-entropy on the logits,
            ``train/mAP`` and ``val/mAP``; :mod:`vidcls.task`). None: the data's (multi-label data
            needs multilabel: :func:`vidcls.training.run.resolve_task`), else multiclass. Recorded
            in every checkpoint.
        model_options: keyword arguments for the model builder.
        pretrained: initial weights: a checkpoint file (ours, PyTorchVideo's or a plain state dict)
            or a model name for its published Kinetics-400 weights; a head for another class
            count is re-initialised (``vidcls.models.pretrained``).
            Hub families (videomae, vjepa2, timesformer, vivit) take a Hub id or a folder written by
            ``save_pretrained``; their clip then comes from that checkpoint's config and processor config.
        network_config: the network's own configuration (Hub families: the transformers config),
            recorded by vidcls when the network is built so a checkpoint rebuilds it without the
            pretrained files; not a setting to give.
        freeze_backbone: train only the head (the final classifier layer).
        optimizer: "sgd" (momentum, Nesterov) or "adamw".
        lr, momentum, weight_decay: optimiser settings; ``lr`` is the peak after warmup.
        warmup_epochs: linear warmup from ``warmup_start_lr`` to ``lr``, then cosine decay to 0,
            both stepped every batch.
        layer_decay: layer-wise learning-rate decay (Hub families): block ``i`` of ``L`` learns at
            ``lr * layer_decay ** (L - i)``, and biases, norms and tokens get no weight decay
            (VideoMAE's fine-tuning recipe; ``vidcls.models.hf.layer_decay_groups``).
        label_smoothing: cross-entropy label smoothing (multiclass).
        mixup_alpha, cutmix_alpha: MixUp / CutMix of training batches (torchvision.transforms.v2),
            Beta(alpha, alpha) mixing; with both, each batch takes one of the two at random (the
            VideoMAE recipe: 0.8 and 1.0). 0 turns one off. Training top-1 then scores the class
            with the largest share of each mixed clip. Multi-hot targets mix with the same weights
            (v2 mixes any ``batch × classes`` targets); training mAP counts a class of a mixed clip
            as present when it holds at least half of it.
        nonfinite_loss: a NaN or infinite training loss stops the run with a message naming the
            step ("stop"), or that step is skipped and logged ("skip"; single-device runs only:
            under DDP every rank must take the same steps).
        channels_last: keep the network's 3D-convolution weights and the clips in ``channels_last_3d``
            (NDHWC), the layout of cuDNN's fastest 3D convolutions (tensor cores under mixed
            precision). None (default): on a GPU only. On the CPU it depends on the network
            (benchmarks/RESULTS.md, model-only training: simple3d 1.41x at 8x32² and ~3x at the
            demo's 8x64², slow_r50 0.86x at 8x32²), so it is on there only when set to true (the
            demo's config does). Mixed precision itself is ``--trainer.precision``.
        compile: compile the network with ``torch.compile`` (in place: checkpoints keep their
            keys). The first steps take minutes while it compiles; worth it for long runs.
    """

    def __init__(
        self,
        model: str = "slow_r50",
        classes: list[str] | None = None,
        clip: dict[str, Any] | None = None,
        task: Task | None = None,
        model_options: dict[str, Any] | None = None,
        pretrained: str | None = None,
        network_config: dict[str, Any] | None = None,
        freeze_backbone: bool = False,
        optimizer: Literal["sgd", "adamw"] = "sgd",
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 1e-4,
        warmup_epochs: float = 0.0,
        warmup_start_lr: float = 0.01,
        layer_decay: float | None = None,
        label_smoothing: float = 0.0,
        mixup_alpha: float = 0.0,
        cutmix_alpha: float = 0.0,
        nonfinite_loss: Literal["stop", "skip"] = "stop",
        channels_last: bool | None = None,
        compile: bool = False,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.network: nn.Module | None = None
        self._channels_last = False  # decided in setup, once the device is known
        self._speed_switches_applied = False
        self.mix: v2.Transform | None = None
        self.loss: nn.Module | None = None  # the task's, once the network is built
        if task is not None:
            check_task(task)
        if classes:
            self._build(classes)

    @property
    def classes(self) -> list[str]:
        return list(self.hparams.classes or [])

    @property
    def task(self) -> Task:
        """What the network's outputs mean (:mod:`vidcls.task`): the run's, once linked; multiclass by default."""
        return self.hparams.task or DEFAULT_TASK

    @property
    def clip_preset(self) -> ClipSpec | None:
        """The clip this network wants: the one it was trained on (its checkpoint's), else its model's preset."""
        if self.hparams.clip:
            return ClipSpec.from_dict(self.hparams.clip)
        hp = self.hparams
        return get_preset(hp.model, hp.pretrained, {**(hp.network_config or {}), **(hp.model_options or {})})

    def _build(self, classes: list[str]) -> None:
        self.hparams.classes = list(classes)  # saved in every checkpoint
        num_classes = len(classes)
        hp = self.hparams
        self.network, hp.network_config = build_network(hp.model, classes, hp.model_options or {}, hp.pretrained,
                                                        hp.network_config)
        self.mix = batch_mixing(num_classes, hp.mixup_alpha, hp.cutmix_alpha)
        if self.hparams.freeze_backbone:
            freeze_all_but_head(self.network, self.hparams.model)
        self._use_task()

    def _use_task(self) -> None:
        """The task's loss and metrics (no weights: the network is the same for either task)."""
        num_classes = len(self.classes)
        if self.task == "multilabel":
            if self.hparams.label_smoothing:
                raise VidclsError("label_smoothing is for the multiclass task's cross-entropy, not multilabel")
            self.loss = nn.BCEWithLogitsLoss()
            for stage in ("train", "val"):
                setattr(self, f"{stage}_map", MeanAveragePrecision(num_classes))
            return
        self.loss = nn.CrossEntropyLoss(label_smoothing=self.hparams.label_smoothing)
        top_k = min(5, num_classes)
        for stage in ("train", "val"):
            setattr(self, f"{stage}_top1", MulticlassAccuracy(num_classes, top_k=1, average="micro"))
            setattr(self, f"{stage}_top5", MulticlassAccuracy(num_classes, top_k=top_k, average="micro"))

    def use_run(self, classes: list[str], clip: ClipSpec, task: Task = DEFAULT_TASK) -> None:
        """Take the run's classes, clip and task (:func:`vidcls.training.run.link_run`) and build the network for them.

        The clip and the task are stored once, as the contract every checkpoint of the run carries.
        """
        if self.network is not None and self.classes != list(classes):
            raise VidclsError(f"the network was built for {len(self.classes)} other classes than the run's {len(classes)}")
        self.hparams.clip = clip.to_dict()
        retask = self.network is not None and task != self.task
        self.hparams.task = check_task(task)
        if self.network is None:
            self._build(classes)
        elif retask:
            self._use_task()

    def setup(self, stage: str) -> None:
        """Apply the speed switches once the device is known, before Lightning moves the network there and wraps it.

        DDP must see the parameters in their final layout; the network itself was built by :meth:`use_run`.
        """
        if self.network is None:
            raise VidclsError("VideoClassifier has no classes: link it to its data first (vidcls.link_run(model, data),"
                              " as vidcls fit does), or pass classes=...")
        if getattr(self.trainer.datamodule, "linked", True) is False:  # it would cut clips and index labels its own way
            raise VidclsError("the VideoDataModule was never linked to this VideoClassifier: call"
                              " vidcls.link_run(model, data) first (vidcls fit and test do), so both use the run's clip and classes")
        if self._speed_switches_applied:
            return
        self._speed_switches_applied = True
        on_gpu = self.trainer.strategy.root_device.type == "cuda"
        self._channels_last = on_gpu if self.hparams.channels_last is None else self.hparams.channels_last
        if self._channels_last:  # kept by the move to the device and by loading a checkpoint's weights into it
            for parameter in self.network.parameters():
                if parameter.dim() == 5:  # 3D convolutions; Module.to would refuse a network that also has 2D ones
                    parameter.data = parameter.data.contiguous(memory_format=torch.channels_last_3d)
        if self.hparams.compile:
            self.network.compile()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # the checkpoint holds the weights: restoring it must not read or download the pretrained ones again
        checkpoint[self.CHECKPOINT_HYPER_PARAMS_KEY] = {**checkpoint[self.CHECKPOINT_HYPER_PARAMS_KEY], "pretrained": None}

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        if self._channels_last and clips.dim() == 5:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        return self.network(clips)

    def _step(self, batch: dict, stage: str) -> torch.Tensor:
        videos, labels = batch["video"], batch["label"]  # labels: class indices, or multi-hot rows (multilabel)
        targets = labels
        multilabel = self.task == "multilabel"
        if stage == "train" and self.mix is not None:
            # tv_tensors.Video: MixUp/CutMix take 5-D batches only as videos; the cut box is in the last two dims (H, W)
            videos, targets = self.mix(tv_tensors.Video(videos), labels)
            videos, labels = videos.as_subclass(torch.Tensor), (targets >= 0.5).int() if multilabel else targets.argmax(-1)
        logits = self(videos)
        loss = self.loss(logits, targets)
        on_step = stage == "train"
        size = labels.shape[0]
        self.log(f"{stage}/loss", loss, on_step=on_step, on_epoch=True, prog_bar=True, batch_size=size, sync_dist=not on_step)
        if multilabel:
            average_precision = getattr(self, f"{stage}_map")
            average_precision(scores(logits.detach(), "multilabel"), labels.int())
            self.log(f"{stage}/mAP", average_precision, on_step=False, on_epoch=True, prog_bar=True, batch_size=size)
            return loss
        top1, top5 = getattr(self, f"{stage}_top1"), getattr(self, f"{stage}_top5")
        top1(logits, labels)
        top5(logits, labels)
        self.log(f"{stage}/top1", top1, on_step=False, on_epoch=True, prog_bar=True, batch_size=size)
        self.log(f"{stage}/top5", top5, on_step=False, on_epoch=True, batch_size=size)
        return loss

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor | None:
        loss = self._step(batch, "train")
        if torch.isfinite(loss):
            return loss
        where = f"step {self.global_step} (epoch {self.current_epoch}, batch {batch_idx})"
        if self.hparams.nonfinite_loss == "skip":
            log.warning("Training loss is %s at %s: skipping this step", loss.item(), where)
            return None  # Lightning then skips backward and the optimiser step
        raise VidclsError(
            f"training loss is {loss.item()} at {where}: lower --model.lr, or --model.nonfinite_loss skip"
        )

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._step(batch, "val")

    def on_test_epoch_start(self) -> None:
        self._test_results: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def test_step(self, batch: dict, batch_idx: int) -> None:
        """Video-level: the probabilities (softmax, or sigmoid: the task's) of every view (clips × crops) of a video,
        pooled by the clip's ``view_pooling`` (mean, or max); scored at the epoch's end."""
        videos, labels = batch["video"], batch["label"]  # videos: B×V×C×T×H×W
        views = scores(self(videos.flatten(0, 1)), self.task).unflatten(0, videos.shape[:2])
        probs = (self.clip_preset or ClipSpec()).pool_views(views, dim=1)
        self._test_results.append((batch["index"], probs.detach(), labels))

    def on_test_epoch_end(self) -> None:
        """Score every video once: DDP pads its shards with repeats, so gather, keep each index's first row, then log.

        ``test/top1`` and the rest are therefore the figures of ``report.json`` and the printed
        table, on every rank alike.
        """
        index, probs, labels = (torch.cat(parts) for parts in zip(*self._test_results))
        if self.trainer.world_size > 1:
            index, probs, labels = (self.all_gather(t).flatten(0, 1) for t in (index, probs, labels))
        first_row: dict[int, int] = {}
        for row, video in enumerate(index.tolist()):
            first_row.setdefault(video, row)
        keep = torch.tensor(sorted(first_row.values()), device=index.device)
        index, probs, labels = index[keep].cpu(), probs[keep].cpu(), labels[keep].cpu()
        self.test_predictions = (index, probs, labels)  # each video once: its dataset index, probabilities, label(s)
        if self.task == "multilabel":
            self.test_metrics = multilabel_metrics(probs, labels, self.classes)
            loss = nn.functional.binary_cross_entropy(probs, labels.float())
            figures = ("mAP",) if self.test_metrics["mAP"] is not None else ()
        else:
            self.test_metrics = video_metrics(probs, labels, self.classes)
            loss = nn.functional.nll_loss(probs.clamp_min(1e-12).log(), labels)
            figures = ("top1", "top5", "mean_class_accuracy")
        for name, value in (("loss", loss.item()), *((key, self.test_metrics[key]) for key in figures)):
            self.log(f"test/{name}", float(value), sync_dist=True)  # the same on every rank: the mean is the value

    def configure_optimizers(self) -> dict:
        hp = self.hparams
        parameters = self.parameters()
        if hp.layer_decay is not None:
            from vidcls.models.hf import layer_decay_groups  # imports transformers: only for the Hub families

            parameters = layer_decay_groups(self.network, hp.model, lr=hp.lr, weight_decay=hp.weight_decay,
                                            decay=hp.layer_decay)
        if hp.optimizer == "sgd":
            optimizer = torch.optim.SGD(
                parameters, lr=hp.lr, momentum=hp.momentum, nesterov=hp.momentum > 0, weight_decay=hp.weight_decay
            )
        else:
            optimizer = torch.optim.AdamW(parameters, lr=hp.lr, weight_decay=hp.weight_decay)
        warmup_start = hp.warmup_start_lr / hp.lr

        # The schedule's length is read on the first step, not here: asking Lightning for
        # estimated_stepping_batches now builds the train loader before a checkpoint's loop state
        # is restored, and the loader would then miss its saved position (a resumed epoch would
        # draw a fresh shuffle). Step 0's factor needs no length: warmup's start, or the peak.
        @functools.cache
        def schedule() -> tuple[int, int]:
            total_steps = max(int(self.trainer.estimated_stepping_batches), 1)
            max_epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else 1
            return total_steps, min(int(hp.warmup_epochs * total_steps / max_epochs), total_steps - 1)

        def lr_factor(step: int) -> float:
            if step == 0:
                return warmup_start if hp.warmup_epochs > 0 else 1.0
            total_steps, warmup_steps = schedule()
            if step < warmup_steps:
                return warmup_start + (1 - warmup_start) * step / warmup_steps
            progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)
            return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def batch_mixing(num_classes: int, mixup_alpha: float, cutmix_alpha: float) -> v2.Transform | None:
    """MixUp, CutMix, or a random choice of the two per batch (None when both are off): ``(videos, labels) → soft targets``."""
    mixes = [mix(alpha=alpha, num_classes=num_classes)
             for mix, alpha in ((v2.MixUp, mixup_alpha), (v2.CutMix, cutmix_alpha)) if alpha > 0]
    if not mixes:
        return None
    return mixes[0] if len(mixes) == 1 else v2.RandomChoice(mixes)


class MeanAveragePrecision(MultilabelAveragePrecision):
    """torchmetrics' multi-label average precision (its states gathered across DDP ranks), averaged over the classes
    with a positive: its own macro average counts a class without one as AP 0 (the video-level rule:
    :func:`vidcls.evaluation.metrics.mean_average_precision`)."""

    def __init__(self, num_labels: int):
        super().__init__(num_labels, average=None)

    def compute(self) -> torch.Tensor:
        with warnings.catch_warnings():  # a class without positives has no AP: left out below, not worth a warning
            warnings.filterwarnings("ignore", message="No positive samples found in target")
            per_class = super().compute()
        mean = mean_average_precision(per_class, dim_zero_cat(self.target).sum(0))
        return torch.tensor(float("nan") if mean is None else mean)
