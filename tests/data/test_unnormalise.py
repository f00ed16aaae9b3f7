"""Pages show what the network saw: undoing the normalisation gives back the frames that went in."""

import torch

from vidcls.clip import IMAGENET_MEAN, IMAGENET_STD, ClipSpec
from vidcls.data.transforms import eval_transform, unnormalise


def test_unnormalise_inverts_the_eval_transform_on_frames_already_at_the_crop_size():
    clip = ClipSpec(crop_size=16, min_scale=16, max_scale=16, eval_resize=16, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    frames = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)  # T×C×H×W, as decoded
    shown = unnormalise(eval_transform(clip)(frames), clip)
    assert shown.dtype == torch.uint8 and shown.shape == (4, 16, 16, 3)  # T×H×W×C, as images are stored
    assert torch.equal(shown, frames.permute(0, 2, 3, 1))
