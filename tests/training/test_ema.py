"""EMA of the weights with Lightning's own EMAWeightAveraging: validation, test and checkpoints use the average,
and a resumed run goes on averaging where it stopped."""

import warnings

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging

from vidcls.cli import main
from vidcls.data.datamodule import VideoDataModule
from vidcls.training.classifier import VideoClassifier
from vidcls.training.run import link_run

CLIP = dict(num_frames=4, crop_size=32, min_scale=32, max_scale=36, eval_resize=32)
DECAY = 0.5  # far from 1, so three steps move the average well away from the last weights


class RecordWeights(L.Callback):
    """The network's parameters after every optimiser step."""

    def __init__(self):
        self.steps: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.steps.append({name: p.detach().clone() for name, p in pl_module.named_parameters()})


def test_the_checkpoint_holds_the_exponential_average_of_every_steps_weights(synth_root, tmp_path):
    L.seed_everything(0)
    data = VideoDataModule(root=str(synth_root), batch_size=4, num_workers=0, **CLIP)
    model = VideoClassifier("simple3d", optimizer="adamw", lr=1e-2)
    link_run(model, data)
    record = RecordWeights()
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=3, limit_val_batches=1, logger=False,
                        enable_progress_bar=False, default_root_dir=tmp_path,
                        callbacks=[EMAWeightAveraging(decay=DECAY), record])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*overrides the configure_model")  # no model hook left for it to doubt
        trainer.fit(model, data)
    (path,) = tmp_path.rglob("*.ckpt")
    checkpoint = torch.load(path, weights_only=True)
    expected = dict(record.steps[0])  # torch's AveragedModel starts from the first update's weights
    for weights in record.steps[1:]:
        expected = {name: DECAY * expected[name] + (1 - DECAY) * weights[name] for name in expected}
    for name, value in expected.items():
        torch.testing.assert_close(checkpoint["state_dict"][name], value)
        torch.testing.assert_close(checkpoint["current_model_state"][name], record.steps[-1][name])
    assert not torch.equal(checkpoint["state_dict"]["network.head.3.weight"], record.steps[-1]["network.head.3.weight"])
    for name, value in expected.items():  # after fit, the model itself holds the average: test and predict use it
        torch.testing.assert_close(dict(model.named_parameters())[name].detach(), value)


def test_ema_is_one_flag_of_vidcls_fit_and_a_resumed_run_goes_on_averaging(synth_root, tmp_path, tiny_args):
    common = [*tiny_args, "--data.root", str(synth_root), "--trainer.default_root_dir", str(tmp_path),
              "--trainer.logger", "false", "--trainer.callbacks+=EMAWeightAveraging",
              "--trainer.callbacks.decay", str(DECAY)]
    main(["fit", *common, "--trainer.max_epochs", "1"])
    (first,) = tmp_path.rglob("*.ckpt")
    averaged = torch.load(first, weights_only=True)["averaging_state"]["n_averaged"].item()
    assert averaged == 2  # tiny_args: two training steps
    main(["fit", *common, "--trainer.max_epochs", "2", "--ckpt_path", "last"])
    newest = max(tmp_path.rglob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    assert torch.load(newest, weights_only=True)["averaging_state"]["n_averaged"].item() == averaged + 2


@pytest.fixture(autouse=True)
def _seed():
    L.seed_everything(0)
