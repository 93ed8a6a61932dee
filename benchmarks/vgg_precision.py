"""Feature-network cost per training step, float32 vs bfloat16 autocast, side by side.

    python benchmarks/vgg_precision.py            # 9 interleaved rounds
    python benchmarks/vgg_precision.py --quick    # 2 rounds, for CI

Times forward + backward of a 4×3×128×128 batch (the default training batch) through the
random VGG-19 up to relu5_1, with Gram matrices taken in float32 as training does, and
writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import statistics
import time

import torch

from brushwork.perceptual.losses import gram_matrix
from brushwork.perceptual.vgg import VGG_STYLE_LAYERS as STYLE_LAYERS
from brushwork.perceptual.vgg import VGGFeatures
from common import command_line, machine, parser, write_section

SECTION = "vgg_precision"


def _step_seconds(vgg: VGGFeatures, images: torch.Tensor, bf16: bool) -> float:
    images = images.detach().requires_grad_(True)
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        features = vgg(images)
    loss = sum(gram_matrix(features[layer].float()).sum() for layer in STYLE_LAYERS)
    loss.backward()
    return time.perf_counter() - start


def main() -> None:
    args = parser(__doc__).parse_args()
    rounds = 2 if args.quick else 9

    torch.manual_seed(0)
    vgg = VGGFeatures(STYLE_LAYERS, backbone="random")
    images = torch.rand(4, 3, 128, 128)
    for bf16 in (False, True):  # warm-up
        _step_seconds(vgg, images, bf16)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):  # interleaved so machine noise hits both alike
        for bf16 in (False, True):
            times[bf16].append(_step_seconds(vgg, images, bf16))
    fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])

    text = f"""
## Feature network per training step: float32 vs bfloat16 autocast

`{command_line()}` — {machine()}.
Forward + backward of a 4×3×128×128 batch
through the random VGG-19 to relu5_1, Gram matrices in float32; median of {rounds} interleaved rounds.

| precision | seconds | ratio |
|---|---|---|
| float32 | {fp32:.3f} | 1.00 |
| bfloat16 autocast | {bf16:.3f} | {fp32 / bf16:.2f}× faster |
"""
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
