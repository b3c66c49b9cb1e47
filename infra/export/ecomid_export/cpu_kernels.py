"""One instruction set for PyTorch's CPU kernels, so the tiny bundle rebuilds to the same bits on any x86-64 CPU.

PyTorch picks its vectorised kernels (ATen), its BLAS (MKL) and its convolutions (oneDNN) by the CPU's widest
instruction set, and AVX-512 kernels sum in another order than AVX2 ones: the fixture detector, fitted by
gradient descent, then lands elsewhere. Capping all three at AVX2, the baseline of every x86-64 CPU this project
runs on, makes a rebuild on an AVX-512 machine bit-identical to one on an AVX2 machine (checked both ways).
Each library reads its switch once, when it first runs, so this must happen before torch is imported.
"""

import os
import sys

AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def pin_avx2_kernels() -> None:
    if "torch" in sys.modules and any(os.environ.get(k) != v for k, v in AVX2_KERNELS.items()):
        raise RuntimeError("the tiny bundle is built with PyTorch's AVX2 kernels on every CPU, which must be chosen before "
                           "torch loads: run `python -m ecomid_export --tiny-random` in a process of its own")
    os.environ.update(AVX2_KERNELS)
