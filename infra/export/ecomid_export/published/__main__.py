"""python -m ecomid_export.published --out DIR [--widths tiny|real]: every real-mode input in its published layout,
seeded random weights; prints the arguments for `python -m ecomid_export` that build a bundle from them."""

import argparse
import sys
from pathlib import Path

from ..config import REAL, TINY
from .all_inputs import write_all_inputs

REPO_ROOT = Path(__file__).resolve().parents[4]
TINY_BUNDLE = REPO_ROOT / "bundles" / "tiny" / "graphs"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecomid_export.published", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", choices=("tiny", "real"), default="tiny")
    parser.add_argument("--sdxl-layout", choices=("single-file", "diffusers"), default="single-file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    arch = TINY if args.widths == "tiny" else REAL
    inputs = write_all_inputs(args.out, arch, TINY_BUNDLE / "scrfd.onnx", TINY_BUNDLE / "arcface.onnx", args.seed,
                              args.sdxl_layout, log=lambda m: print(m, file=sys.stderr))
    print(" ".join(inputs.cli_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
