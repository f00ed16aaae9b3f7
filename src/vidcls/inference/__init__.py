"""Inference: predictions on any video (top-k, timelines) and export to ONNX and TorchScript."""
