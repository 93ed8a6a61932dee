"""Feature-network cost per training step, float32 vs bfloat16 autocast, side by side.

    python benchmarks/vgg_precision.py            # 9 interleaved rounds
    python benchmarks/vgg_precision.py --quick    # 2 rounds, for CI

Times forward + backward of a 4×3×128×128 batch (the default training batch) through the
random VGG-19 up to relu5_1, with Gram matrices taken in float32 as training does, and
writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import statistics
import time
from pathlib import Path

import torch

from brushwork.config import STYLE_LAYERS
from brushwork.features import VGGFeatures
from brushwork.losses import gram_matrix

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "vgg_precision"


def _step_seconds(vgg: VGGFeatures, images: torch.Tensor, bf16: bool) -> float:
    images = images.detach().requires_grad_(True)
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        features = vgg(images)
    loss = sum(gram_matrix(features[layer].float()).sum() for layer in STYLE_LAYERS)
    loss.backward()
    return time.perf_counter() - start


def _write_section(text: str) -> None:
    begin, end = f"<!-- {SECTION} -->", f"<!-- /{SECTION} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    new = pattern.sub(block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds (CI smoke run)")
    args = parser.parse_args()
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

`python benchmarks/vgg_precision.py{' --quick' if args.quick else ''}` — {datetime.date.today()}, {platform.processor() or platform.machine()},
{torch.get_num_threads()} threads, torch {torch.__version__}. Forward + backward of a 4×3×128×128 batch
through the random VGG-19 to relu5_1, Gram matrices in float32; median of {rounds} interleaved rounds.

| precision | seconds | ratio |
|---|---|---|
| float32 | {fp32:.3f} | 1.00 |
| bfloat16 autocast | {bf16:.3f} | {fp32 / bf16:.2f}× faster |
"""
    _write_section(text)
    print(text.strip())


if __name__ == "__main__":
    main()
