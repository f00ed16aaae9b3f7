"""Inference: predictions on any video (top-k, timelines) and export to ONNX, TorchScript and the Hub's format.

Both load a checkpoint with :func:`vidcls.models.checkpoint.load_network`: no Lightning or torchmetrics in the process.
"""
