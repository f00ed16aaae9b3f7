"""End to end: the small model learns synthetic motions from decoded video files, and the
checkpoint it leaves predicts new videos."""

import lightning as L

from vidcls.data.datamodule import VideoDataModule
from vidcls.inference.predictor import Predictor
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run


def test_simple3d_learns_motion_classes_and_predicts_them(synth_root, tmp_path, media_dir_or_none):
    L.seed_everything(0)
    datamodule = VideoDataModule(
        root=str(synth_root), batch_size=4, num_workers=0, num_frames=8, clip_duration=3.0,
        crop_size=32, min_scale=32, max_scale=38, eval_resize=36, hflip_prob=0.0,
    )
    classifier = VideoClassifier("simple3d", optimizer="adamw", lr=3e-3, weight_decay=0.05)
    link_run(classifier, datamodule)
    trainer = L.Trainer(max_epochs=20, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        default_root_dir=tmp_path, num_sanity_val_steps=0)
    trainer.fit(classifier, datamodule)
    (metrics,) = trainer.test(classifier, datamodule, verbose=False)
    assert metrics["test/top1"] >= 0.6  # 4 classes: chance is 0.25

    checkpoint = tmp_path / "trained.ckpt"
    trainer.save_checkpoint(checkpoint)
    predictor = Predictor.from_checkpoint(checkpoint)
    videos = sorted((synth_root / "test").rglob("*.mp4"))
    correct = sum(predictor.predict(path, top_k=1)[0][0] == path.parent.name for path in videos)
    assert correct / len(videos) >= 0.6
    for path in sorted(media_dir_or_none.iterdir()) if media_dir_or_none else []:  # real videos: no error
        ranked = predictor.predict(path)
        assert len(ranked) == 4 and abs(sum(p for _, p in ranked) - 1) < 1e-4
