"""Compute per image: convolution multiply-adds and parameters of each generator at 1024².

    python benchmarks/macs.py            # 1024² (and 2048²)
    python benchmarks/macs.py --quick    # 64² (CI smoke run)

Counted with forward hooks on every Conv2d (output elements × input channels per group ×
kernel area); the elementwise layers (affine, activations, resizes) are not counted.
"""

from __future__ import annotations

import torch

from brushwork.models import GeneratorConfig
from brushwork.models import build_generator
from common import command_line, machine, parser, write_section
from training import GENERATORS  # the same three generators the training benchmark compares

SECTION = "macs"


def conv_macs(config: GeneratorConfig, size: int) -> int:
    net = build_generator(config).eval()
    total = 0

    def count(module, inputs, output):
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        total += output.numel() * (module.in_channels // module.groups) * kernel

    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(count)
    with torch.inference_mode():
        net(torch.zeros(1, 3, size, size))
    return total


def main() -> None:
    args = parser(__doc__).parse_args()
    sizes = (64,) if args.quick else (1024, 2048)
    rows = []
    for name, config in GENERATORS.items():
        params = sum(p.numel() for p in build_generator(config).parameters())
        macs = [conv_macs(config, size) / 1e9 for size in sizes]
        rows.append(f"| {name} | {params / 1e6:.2f} M | " + " | ".join(f"{m:.2f}" for m in macs) + " |")
    text = f"""
## Compute: convolution multiply-adds per image

`{command_line()}` — {machine()}.

| generator | parameters | {' | '.join(f'G multiply-adds at {s}²' for s in sizes)} |
|---|---|{'---|' * len(sizes)}
""" + "\n".join(rows)
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
