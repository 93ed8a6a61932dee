"""Inference speed and memory: brushwork against Johnson et al. 2016's network, side by side.

    python benchmarks/inference.py            # 256²..2048² (median of 3) and an 8000×6000 photo
    python benchmarks/inference.py --quick    # 64², 128² and a 600×400 photo; 1 round (CI smoke run)

Square sizes: each timing runs in a fresh subprocess (so its peak RSS belongs to that
engine and size alone): build the network (random weights: they do not change the cost),
one warm-up pass at the size, then one timed pass. Rounds interleave engines and sizes, so
machine noise hits all alike. Engines:

- brushwork: `Stylizer` with the PyTorch engine (float32, channels-last), the product path;
- brushwork onnx: `Stylizer(engine="onnx")`, the model exported and run by onnxruntime;
- Johnson: the baseline transformation network, eager float32 (as pytorch/examples runs it).

Where the time goes (1024² and 4K, brushwork's PyTorch engine, one process): JPEG decode,
bytes to floats, the thumbnail, the thumbnail's statistics pass, the full-size network pass,
floats to bytes, writing the PNG and JPEG file (as the CLI does), and the whole `Stylizer` call on decoded pixels, its
first call after loading (what a one-photo command pays) and warm.

Large photo: `brushwork stylize` on a JPEG of 8000×6000 (48 MP) in a fresh process, tiled
automatically and, for comparison, with ``--tile 0`` (whole image); peak RSS of the
process, wall time, and the PSNR between the two outputs (the seam check).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from brushwork.evaluation.metrics import psnr
from brushwork.training.trainer import resolve_precision
from common import command_line, machine, parser, write_section

SECTION = "inference"
LABELS = {"brushwork": "brushwork", "bf16": "bf16", "onnx": "onnx", "johnson": "Johnson"}
ENGINES = ["brushwork", "onnx", "johnson"]  # the baseline last
if resolve_precision("auto", torch.device("cpu")) == "bf16":  # native bfloat16 (AMX / AVX512-BF16)
    ENGINES.insert(1, "bf16")


def _peak_mib() -> float:
    """This process's peak RSS. Linux: VmHWM, the high-water mark of this program's own
    memory; getrusage's ru_maxrss would also count what the parent held when it forked."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(engine: str, size: int) -> None:
    """Child process: time one pass; print JSON with seconds and peak RSS (MiB)."""
    from brushwork.inference.stylize import Stylizer
    from brushwork.models import GeneratorConfig, build_generator

    imported = _peak_mib()
    torch.manual_seed(0)
    from training import GENERATORS

    config = GENERATORS["johnson"] if engine == "johnson" else GENERATORS["brushwork"]
    net = build_generator(GeneratorConfig(**vars(config))).eval()
    params = sum(p.numel() for p in net.parameters())
    if engine in ("brushwork", "bf16", "onnx"):
        meta = {"style_name": "bench", "generator": vars(net.config)}
        options = {"onnx": {"engine": "onnx"}, "bf16": {"precision": "bf16"}}.get(engine, {})
        run = Stylizer(net, meta, torch.device("cpu"), **options).stylize_tensor
    else:
        run = net
    image = torch.rand(1, 3, size, size)
    with torch.inference_mode():
        run(image)
        start = time.perf_counter()
        run(image)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": _peak_mib(), "base_mib": imported, "params": params}))


PROFILE_SIZES = ((1024, 1024), (3840, 2160))
PROFILE_ROUNDS = 5


def _profile_worker(width: int, height: int) -> None:
    """Child process: the stages of stylizing one W×H photo, median ms of PROFILE_ROUNDS
    after one warm-up each; print JSON."""
    with tempfile.TemporaryDirectory() as tmp:  # the photo and the written outputs
        print(json.dumps(_profile_stages(width, height, Path(tmp))))


def _profile_stages(width: int, height: int, folder: Path) -> dict[str, float]:
    """Stage -> median ms (see _profile_worker), with its files in `folder`."""
    from brushwork.images import from_uint8, save_image, to_uint8
    from brushwork.inference.stylize import Stylizer
    from brushwork.models import GeneratorConfig, build_generator
    from brushwork.models.layers import NormStatistics
    from brushwork.models.thumbnail import thumbnail
    from training import GENERATORS

    torch.manual_seed(0)
    net = build_generator(GeneratorConfig(**vars(GENERATORS["brushwork"]))).eval()
    _photo(folder / "photo.jpg", width, height)
    start = time.perf_counter()
    stylizer = Stylizer(net, {"style_name": "bench", "generator": vars(net.config)}, torch.device("cpu"))
    pixels = torch.from_numpy(np.asarray(Image.open(folder / "photo.jpg").convert("RGB")).copy())
    with torch.inference_mode():
        stylizer.stylize_pixels(pixels)
    first = time.perf_counter() - start  # model set-up and the first call (decode excluded)
    generator = stylizer.engine.generator
    layout = stylizer.engine.memory_format

    def encode(image: Image.Image, kind: str) -> None:  # as the CLI writes its outputs
        save_image(image, folder / f"out.{kind}")

    photo = from_uint8(pixels).contiguous(memory_format=layout)
    small = thumbnail(photo).contiguous(memory_format=layout)  # a small photo is its own: no statistics pass
    out_image = Image.fromarray(to_uint8(photo)[0].numpy())
    stages = {
        "JPEG decode": lambda: Image.open(folder / "photo.jpg").convert("RGB").load(),
        "bytes to floats": lambda: from_uint8(pixels),
        "thumbnail": lambda: thumbnail(photo),
        "statistics pass (thumbnail)": lambda: small is not photo and generator.paint(small, None, NormStatistics()),
        "network pass (full size)": lambda: generator(photo),  # thumbnail and statistics pass included, taken off below
        "floats to bytes": lambda: to_uint8(photo),
        "PNG file written": lambda: encode(out_image, "png"),
        "JPEG file written": lambda: encode(out_image, "jpg"),
        "whole call, warm": lambda: stylizer.stylize_pixels(pixels),
    }
    ms = {}
    with torch.inference_mode():
        for name, stage in stages.items():
            stage()
            times = []
            for _ in range(PROFILE_ROUNDS):
                begin = time.perf_counter()
                stage()
                times.append(time.perf_counter() - begin)
            ms[name] = 1000 * statistics.median(times)
    ms["network pass (full size)"] -= ms["statistics pass (thumbnail)"] + ms["thumbnail"]
    ms["first call after loading"] = 1000 * first
    return ms


def _large_worker(model: str, photo: str, output: str, tile: str) -> None:
    """Child process: `brushwork stylize` one big photo; print wall time and peak RSS."""
    from brushwork.cli import main

    start = time.perf_counter()
    code = main(["stylize", model, photo, "-o", output, "--quiet", *(["--tile", tile] if tile != "auto" else [])])
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mib": _peak_mib(), "code": code}))


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"benchmark worker {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _photo(path: Path, width: int, height: int) -> None:
    """A photo-like JPEG: smooth gradients, shapes and sensor-like noise, so tiles differ."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 97.0) * np.cos(y / 61.0)], -1)
    image += rng.normal(0, 0.04, image.shape).astype(np.float32)
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(path, quality=92)


def _psnr(a: Path, b: Path) -> float:
    return psnr(*(torch.from_numpy(np.asarray(Image.open(path))) for path in (a, b)))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--worker", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    p.add_argument("--large-worker", nargs=4, help=argparse.SUPPRESS)
    p.add_argument("--profile-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        _worker(args.worker[0], int(args.worker[1]))
        return
    if args.large_worker:
        _large_worker(*args.large_worker)
        return
    if args.profile_worker:
        _profile_worker(*args.profile_worker)
        return
    sizes = (64, 128) if args.quick else (256, 512, 1024, 2048)
    rounds = 1 if args.quick else 3
    runs: dict[tuple[str, int], list[dict]] = {(e, s): [] for e in ENGINES for s in sizes}
    for _ in range(rounds):
        for size in sizes:
            for engine in ENGINES:
                runs[engine, size].append(_run("--worker", engine, str(size)))
                print(f"{engine} {size}²: {runs[engine, size][-1]['seconds']:.3f} s", file=sys.stderr)

    params = {e: runs[e, sizes[0]][0]["params"] for e in ENGINES}
    base = statistics.median(r["base_mib"] for measured in runs.values() for r in measured)
    rows = []
    for size in sizes:
        ms = {e: 1000 * statistics.median(r["seconds"] for r in runs[e, size]) for e in ENGINES}
        peak = {e: max(r["peak_mib"] for r in runs[e, size]) for e in ENGINES}
        cells = [f"**{ms['brushwork']:.0f}**", *(f"{ms[e]:.0f}" for e in ENGINES[1:])]
        ratios = [f"**{ms['johnson'] / ms['brushwork']:.1f}×**", *(f"{ms['johnson'] / ms[e]:.1f}×" for e in ENGINES[1:-1])]
        rows.append(f"| {size}² | {' | '.join(cells)} | {' | '.join(ratios)} | {' / '.join(f'{peak[e]:.0f}' for e in ENGINES)} |")

    profile_sizes = ((128, 128), (320, 180)) if args.quick else PROFILE_SIZES
    profiles = {size: _run("--profile-worker", *map(str, size)) for size in profile_sizes}
    stage_names = list(next(iter(profiles.values())))
    profile_rows = "\n".join(
        f"| {name} | " + " | ".join(f"{profiles[size][name]:.1f}" for size in profile_sizes) + " |" for name in stage_names
    )
    network = {size: profiles[size]["statistics pass (thumbnail)"] + profiles[size]["network pass (full size)"] for size in profile_sizes}
    warm = {size: profiles[size]["whole call, warm"] for size in profile_sizes}

    width, height = (600, 400) if args.quick else (8000, 6000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = folder / "large.jpg"
        _photo(photo, width, height)
        from brushwork.styles import DEFAULT_STYLE

        model = DEFAULT_STYLE
        large = {}
        for tile, name in (("auto", "tiled.png"), ("0", "whole.png")):
            large[tile] = _run("--large-worker", model, str(photo), str(folder / name), "256" if args.quick and tile == "auto" else tile)
            print(f"large {width}×{height} tile={tile}: {large[tile]}", file=sys.stderr)
        seam_psnr = _psnr(folder / "tiled.png", folder / "whole.png")

    text = f"""
## Inference: ms per image and peak memory

`{command_line()}` — {machine()}.
Batch 1, inference mode, float32; median of {rounds} round(s), each a fresh process (one
warm-up pass at the size, then one timed pass). Peak RSS is the whole process's (Linux
VmHWM); Python, PyTorch and brushwork hold about {base:.0f} MiB of it before any network is built.
brushwork: the `Stylizer` path (PyTorch, channels-last), the same with `--precision bf16`
where the CPU has native bfloat16, and the model exported to ONNX (onnxruntime); Johnson: the baseline,
eager. Parameters: brushwork {params['brushwork'] / 1e6:.2f} M, Johnson {params['johnson'] / 1e6:.2f} M.

| size | {' | '.join(f'{LABELS[e]} ms' for e in ENGINES)} | {' | '.join(f'Johnson ÷ {LABELS[e]}' for e in ENGINES[:-1])} | peak RSS MiB ({' / '.join(LABELS[e] for e in ENGINES)}) |
|{'---|' * (2 * len(ENGINES) + 1)}
""" + "\n".join(rows) + f"""

Where the time goes: brushwork's PyTorch engine in one process, median ms of {PROFILE_ROUNDS} after one
warm-up per stage (the first call: building the `Stylizer` and its first `stylize_pixels`,
the JPEG already decoded). The network alone (both passes) is
{', '.join(f"{network[s] / warm[s]:.0%} of the warm call at {s[0]}×{s[1]}" for s in profile_sizes)};
coding the file is not in the call.

| stage | {' | '.join(f'{w}×{h} ms' for w, h in profile_sizes)} |
|{'---|' * (1 + len(profile_sizes))}
{profile_rows}

Large photo, `brushwork stylize MODEL photo.jpg -o out.png` on a {width}×{height} JPEG
({width * height / 1e6:.0f} MP), a fresh process each (decode, stylize, PNG encode):

| run | wall s | peak RSS MiB |
|---|---|---|
| tiled (automatic) | {large['auto']['seconds']:.1f} | {large['auto']['peak_mib']:.0f} |
| whole image (`--tile 0`) | {large['0']['seconds']:.1f} | {large['0']['peak_mib']:.0f} |

Tiled against whole-image output: PSNR {seam_psnr:.1f} dB (identical pixels: inf).
"""
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
