"""Inference speed and memory: brushwork's generator vs Johnson et al. 2016's network, side by side.

    python benchmarks/inference.py            # 256², 512², 1024², 2048²; median of 3
    python benchmarks/inference.py --quick    # 64², 128²; 1 round (CI smoke run)

Each timing runs in a fresh subprocess (so its peak RSS belongs to that model and size
alone): build the network (float32, eval, inference mode), one warm-up pass at 64², then
one timed pass on a random image of the size. Rounds interleave the models and sizes, so
machine noise hits both alike; the table gives medians and the Johnson/brushwork ratio.
Weights do not change the cost, so both networks run with their initial weights.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from common import command_line, machine, parser, write_section

SECTION = "inference"
MODELS = {"brushwork": "brushwork generator", "johnson": "Johnson et al. baseline"}


def _worker(arch: str, size: int) -> None:
    """Child process: time one pass; print JSON with seconds and peak RSS (MiB)."""
    from brushwork.config import GeneratorConfig
    from brushwork.models import build_generator

    torch.manual_seed(0)
    net = build_generator(GeneratorConfig(arch=arch)).eval()
    with torch.inference_mode():
        net(torch.rand(1, 3, 64, 64))
        image = torch.rand(1, 3, size, size)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        net(image)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "base_mib": rss_before, "params": params}))


def _measure(arch: str, size: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", arch, str(size)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--worker", nargs=2, metavar=("ARCH", "SIZE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        _worker(args.worker[0], int(args.worker[1]))
        return
    sizes = (64, 128) if args.quick else (256, 512, 1024, 2048)
    rounds = 1 if args.quick else 3
    runs: dict[tuple[str, int], list[dict]] = {(m, s): [] for m in MODELS for s in sizes}
    for _ in range(rounds):
        for size in sizes:
            for arch in MODELS:
                runs[arch, size].append(_measure(arch, size))
                print(f"{arch} {size}²: {runs[arch, size][-1]['seconds']:.3f} s", file=sys.stderr)

    params = {arch: runs[arch, sizes[0]][0]["params"] for arch in MODELS}
    base = statistics.median(r["base_mib"] for measured in runs.values() for r in measured)
    rows = []
    for size in sizes:
        med = {arch: statistics.median(r["seconds"] for r in runs[arch, size]) for arch in MODELS}
        peak = {arch: max(r["peak_mib"] for r in runs[arch, size]) for arch in MODELS}
        rows.append(
            f"| {size}² | {1000 * med['brushwork']:.0f} | {1000 * med['johnson']:.0f} | "
            f"{med['johnson'] / med['brushwork']:.1f}× | {peak['brushwork']:.0f} | {peak['johnson']:.0f} |"
        )
    text = f"""
## Inference: ms per image and peak memory

`{command_line()}` — {machine()}.
Float32, batch 1, eager PyTorch, inference mode; median of {rounds} round(s), each a fresh process
(warm-up at 64², then one timed pass). Peak RSS is the whole process's; before the timed pass
it already holds {base:.0f} MiB (Python, PyTorch and the network).
brushwork generator: {params['brushwork'] / 1e6:.2f} M parameters; Johnson et al. baseline: {params['johnson'] / 1e6:.2f} M.

| size | brushwork ms | Johnson ms | speed-up | brushwork peak RSS MiB | Johnson peak RSS MiB |
|---|---|---|---|---|---|
""" + "\n".join(rows)
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
