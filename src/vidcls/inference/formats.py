"""The export formats, without importing torch (the CLI lists them in its help)."""

from typing import Literal

Format = Literal["onnx", "torchscript", "huggingface"]
FORMATS: tuple[Format, ...] = ("onnx", "torchscript", "huggingface")
