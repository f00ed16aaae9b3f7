"""Training: the LightningModule, its callbacks, checkpoints and the LightningCLI behind `vidcls fit`."""
