"""CLI: python -m ecomid_export --tiny-random --out bundles/tiny | python -m ecomid_export --sdxl ... --out DIR |
python -m ecomid_export rehearse --work DIR (rehearsal/run.py)"""

import argparse
import sys
from pathlib import Path

from .cpu_kernels import pin_avx2_kernels

# The preset names (real/few_step_presets.py), spelt out so that --help imports no torch.
FEW_STEP_PRESETS = ("lightning-2step", "lightning-4step", "lightning-8step", "turbo")

REPO_ROOT = Path(__file__).resolve().parents[3]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ecomid_export", description="Build an EcomID model bundle.")
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    parser.add_argument("--tiny-random", action="store_true", help="tiny widths, seeded random weights (fixture)")
    parser.add_argument("--images", type=Path, default=REPO_ROOT / "test" / "fixtures" / "images",
                        help="test images (tiny mode: the SCRFD fixture is fitted to them, references run on them)")
    parser.add_argument("--no-reference", action="store_true", help="tiny mode: skip the PyTorch reference outputs")
    real = parser.add_argument_group("real bundle inputs (all required without --tiny-random)")
    real.add_argument("--sdxl", type=Path, help="SDXL checkpoint: diffusers folder or single .safetensors")
    real.add_argument("--identitynet", type=Path, help="EcomID IdentityNet diffusion_pytorch_model.safetensors")
    real.add_argument("--pulid", type=Path, help="PuLID v1 SDXL weights (ip-adapter_pulid_sdxl_fp16.safetensors)")
    real.add_argument("--instantid", type=Path, help="InstantID ip-adapter.bin (its Resampler is used)")
    real.add_argument("--eva-clip", type=Path, help="EVA02_CLIP_L_336_psz14_s6B.pt")
    real.add_argument("--facexlib", type=Path, help="facexlib's folder: its parsing_bisenet.pth is read")
    real.add_argument("--antelopev2", type=Path, help="folder with scrfd_10g_bnkps.onnx and glintr100.onnx")
    real.add_argument("--inpaint-controlnet", type=Path,
                      help="optional EcomXL Inpaint ControlNet folder (alimama-creative/EcomXL_controlnet_inpaint)")
    real.add_argument("--softedge-controlnet", type=Path,
                      help="optional EcomXL Softedge ControlNet folder (alimama-creative/EcomXL_controlnet_softedge)")
    real.add_argument("--pidinet", type=Path,
                      help="optional soft-edge detector: lllyasviel/Annotators table5_pidinet.pth (research licence)")
    real.add_argument("--hed", type=Path, help="optional soft-edge detector: lllyasviel/Annotators ControlNetHED.pth")
    real.add_argument("--vae", type=Path, help="optional fp16-fix VAE (diffusers folder or .safetensors)")
    real.add_argument("--precision", choices=("fp16", "fp32"), default="fp16",
                      help="fp16 (with fp32 islands where fp16 loses the result) for the denoisers, text towers, ID encoder, Resampler")
    real.add_argument("--widths", choices=("real", "tiny"), default="real",
                      help="tiny: the widths of the published-layout fixtures (python -m ecomid_export.published), for tests")
    few = parser.add_argument_group("few-step bases (real mode; infra/export/README.md, Few-step bases)")
    few.add_argument("--few-step", choices=FEW_STEP_PRESETS,
                     help="the schedule, defaults and limits the base was distilled for; derived from published "
                          "SDXL-Lightning / SDXL Turbo file names when not given")
    few.add_argument("--lightning-unet", type=Path,
                     help="sdxl_lightning_{2,4,8}step_unet.safetensors: replaces the --sdxl checkpoint's UNet")
    few.add_argument("--lora", type=Path, action="append", default=[],
                     help="a UNet LoRA fused at scale 1 (e.g. sdxl_lightning_4step_lora.safetensors; kohya or "
                          "diffusers keys); repeatable")
    real.add_argument("--bundle-id", default="ecomid-sdxl")
    real.add_argument("--bundle-version", default="0.1.0")
    args = parser.parse_args(argv)
    if not args.tiny_random:
        missing = [n for n in ("sdxl", "identitynet", "pulid", "instantid", "eva_clip", "facexlib", "antelopev2")
                   if getattr(args, n) is None]
        if missing:
            parser.error("a real bundle needs " + ", ".join("--" + m.replace("_", "-") for m in missing))
        from .real.few_step import resolve_few_step  # noqa: PLC0415 - keeps --help fast

        try:
            args.few_step = resolve_few_step(args.few_step, args.sdxl, args.lightning_unet, args.lora)
        except ValueError as error:
            parser.error(str(error))
    elif args.few_step or args.lightning_unet or args.lora:
        parser.error("--few-step, --lightning-unet and --lora are real-mode options")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["rehearse"]:
        from .rehearsal.run import main as rehearse  # noqa: PLC0415

        return rehearse(argv[1:])
    args = parse_args(argv)
    if args.tiny_random:
        pin_avx2_kernels()  # before torch loads: the same bits on AVX2 and AVX-512 machines
        from .tiny.build import build_tiny_bundle  # noqa: PLC0415 - keeps --help fast

        manifest, components = build_tiny_bundle(args.out, args.images)
        if not args.no_reference:
            from .reference.run import write_references  # noqa: PLC0415

            write_references(components, manifest, args.out, args.images)
        return 0
    from .config import REAL, TINY  # noqa: PLC0415
    from .real.build import build_real_bundle  # noqa: PLC0415

    build_real_bundle(args, TINY if args.widths == "tiny" else REAL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
