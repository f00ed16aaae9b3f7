"""The training read path: sources, decoding, sampling, transforms, dataset and datamodule."""
