"""GPU inference: images/s at 1024² and 4K UHD (3840×2160) for each precision and layout.

    python benchmarks/gpu.py                          # needs a CUDA GPU
    python benchmarks/gpu.py --quick --device cpu     # tiny sizes on the CPU (CI smoke run)

Variants of the brushwork generator (random weights; they do not change the cost):
float32 NCHW, float32 channels-last, bf16 and fp16 autocast channels-last (the
`Stylizer` engine's options), and fp16 channels-last under `torch.compile`; the Johnson
baseline in float32 NCHW, eager, beside them. Batch 1; each variant gets warm-up passes,
then the median of timed passes with the device synchronised.

Product path: the bundled starry_night through `Stylizer` (uint8 in and out, automatic
tiling) on a photo resized to 4K, for several sets of `brushwork stylize` options (precision,
--tile, --compile), with the PSNR of each output against the same model run in float32 on
the CPU (how far the GPU's arithmetic moves the pixels) and the peak GPU memory.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from brushwork.models import GeneratorConfig
from brushwork.images import find_images
from brushwork.evaluation.metrics import psnr
from brushwork.models import build_generator
from brushwork.inference.stylize import Stylizer
from common import DATA, command_line, machine, parser, write_section

SECTION = "gpu"
VARIANTS = {
    "fp32 NCHW": (None, False, False),
    "fp32 channels-last": (None, True, False),
    "bf16 channels-last": (torch.bfloat16, True, False),
    "fp16 channels-last": (torch.float16, True, False),
    "fp16 channels-last + torch.compile": (torch.float16, True, True),
}


def images_per_second(net, size: tuple[int, int], device, dtype, channels_last: bool, compiled: bool, runs: int) -> float:
    memory = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(device).eval().to(memory_format=memory)
    if compiled:  # static shapes: one size per benchmark, and torch 2.11's dynamic-shape pass fails on the padding
        net = torch.compile(net, dynamic=False)
    image = torch.rand(1, 3, *size, device=device).contiguous(memory_format=memory)
    times = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        for index in range(runs + 3):  # the first passes pick kernels (and compile)
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            net(image)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if index >= 3:
                times.append(time.perf_counter() - start)
    return 1 / statistics.median(times)


def product_path(device: torch.device, size: tuple[int, int], runs: int) -> list[str]:
    """Table rows: Stylizer images/s and PSNR against the CPU in float32, per set of options."""
    val = DATA / "content" / "val"
    photos = find_images(val) if val.is_dir() else []
    if photos:
        photo = Image.open(photos[0]).convert("RGB").resize(size[::-1], Image.Resampling.LANCZOS)
    else:  # CI has no image kit
        photo = Image.fromarray((torch.rand(*size, 3) * 255).byte().numpy())
    pixels = torch.from_numpy(np.asarray(photo).copy())
    reference = Stylizer.from_file("starry_night", device="cpu").stylize_pixels(pixels)
    options = {"--precision fp32": ("fp32", False, None), "--precision bf16": ("bf16", False, None)}
    if device.type == "cuda":
        options.update({
            "--precision fp32 --tile 1024": ("fp32", False, 1024),
            "--precision fp16": ("fp16", False, None),
            "--precision fp16 --tile 1024": ("fp16", False, 1024),
            "--precision fp16 --compile": ("fp16", True, None),
        })  # fmt: skip
    rows = []
    for label, (precision, compiled, tile) in options.items():
        stylizer = Stylizer.from_file(
            "starry_night", device=str(device), precision=precision, compile=compiled, tile=tile
        )
        times = []
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        for index in range(runs + 2):  # the first passes pick kernels (and compile each tile shape)
            start = time.perf_counter()
            output = stylizer.stylize_pixels(pixels)  # returns uint8 on the CPU: synchronised
            if index >= 2:
                times.append(time.perf_counter() - start)
        peak = f"{torch.cuda.max_memory_allocated(device) / 2**20:.0f}" if device.type == "cuda" else "(CPU)"
        rows.append(f"| `{label}` | {1 / statistics.median(times):.1f} | {psnr(output, reference):.1f} | {peak} |")
        print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--device", default="cuda")
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py: no CUDA GPU here (use --device cpu --quick for a smoke run)")
    sizes = {"64²": (64, 64), "96×160": (96, 160)} if args.quick else {"1024²": (1024, 1024), "4K UHD": (2160, 3840)}
    runs = 2 if args.quick else args.runs
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    variants = dict(VARIANTS)
    if device.type == "cpu":  # fp16 autocast and inductor are GPU options here
        variants = {k: v for k, v in variants.items() if v[0] is not torch.float16}
    rows = []
    for label, (dtype, channels_last, compiled) in variants.items():
        try:
            rates = [images_per_second(build_generator(GeneratorConfig()), size, device, dtype, channels_last, compiled, runs)
                     for size in sizes.values()]  # fmt: skip
        except Exception as exc:  # torch.compile's failures are many types; the table says which
            if not compiled:
                raise
            rows.append(f"| brushwork, {label} | failed: {type(exc).__name__} |" + " |" * (len(sizes) - 1))
            continue
        rows.append(f"| brushwork, {label} | " + " | ".join(f"{r:.1f}" for r in rates) + " |")
        print(rows[-1], file=sys.stderr)
    johnson = [images_per_second(build_generator(GeneratorConfig(arch="johnson")), size, device, None, False, False, runs)
               for size in sizes.values()]  # fmt: skip
    rows.append("| Johnson baseline, fp32 NCHW | " + " | ".join(f"{r:.1f}" for r in johnson) + " |")
    product_size = (96, 160) if args.quick else (2160, 3840)
    product = product_path(device, product_size, runs)
    text = f"""
## GPU inference: images/s

`{command_line()}` — {machine()}; device: {name}.
Batch 1, random weights, median of {runs} timed passes after 3 warm-up passes.

| variant | {' | '.join(f'{s} images/s' for s in sizes)} |
|---|{'---|' * len(sizes)}
""" + "\n".join(rows) + f"""

**Product path** (`Stylizer`, bundled starry_night, uint8 in and out, automatic tiling: on a
GPU the image runs whole unless it would need over half the free memory) on a
{product_size[1]}×{product_size[0]} photo; PSNR of the output against the same model in float32 on the CPU:

| options | images/s | PSNR vs CPU fp32 (dB) | peak GPU memory (MiB) |
|---|---|---|---|
""" + "\n".join(product)
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
