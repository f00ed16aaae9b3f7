"""Inference: predictions on any video or corpus (top-k, timelines, features) and export to ONNX, TorchScript and the Hub's format.

Both load a checkpoint with :func:`vidcls.models.checkpoint.load_network`: no Lightning or torchmetrics in the process.
"""
