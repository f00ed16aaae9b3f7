"""`vidcls export`: a checkpoint's network as an ONNX or TorchScript file or a Hub folder, checked against PyTorch."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from vidcls.inference.formats import FORMATS


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="vidcls export",
        description="Export a checkpoint's network (input 'video' B×3×T×H×W, dynamic batch; output 'logits') "
        "and write FILE.json with its classes and preprocessing.",
    )
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="a checkpoint written by vidcls fit")
    parser.add_argument("--format", required=True, choices=FORMATS, help="onnx (needs vidcls[export]), torchscript, or huggingface (a save_pretrained "
                        "folder for transformers.pipeline; the transformer families)")
    parser.add_argument("--output", required=True, metavar="FILE", help="file to write, e.g. model.onnx (huggingface: a folder)")
    parser.add_argument("--tolerance", type=float, default=1e-3,
                        help="largest max abs logit difference against PyTorch accepted (default 1e-3)")
    args = parser.parse_args(argv)
    from vidcls.inference.export import PARITY_BATCHES, export_checkpoint

    result = export_checkpoint(args.checkpoint, args.format, args.output, tolerance=args.tolerance)
    shape = "×".join(str(n) for n in ("B", *result.input_shape))
    print(f"{result.output}: {args.format}, input video {shape}; preprocessing and classes in {result.sidecar}")
    batches = " and ".join(str(n) for n in PARITY_BATCHES)
    print(f"parity: max abs logit difference {result.max_abs_diff:.2e} against PyTorch "
          f"(random clips, batches {batches}; tolerance {args.tolerance:g})")
    return 0
