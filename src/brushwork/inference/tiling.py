"""Tiled inference: stylize an image of any size in bounded memory, without seams.

The brushwork generator is local (no statistics over the whole image), so the output at a
pixel depends only on the input within its receptive field. Each tile is run with a
``margin`` of real context around it and only its centre is kept: with the margin past
the generator's effective reach, a tiled picture equals the whole-image one (PSNR > 40 dB,
tested), so there is nothing to blend and no seam. Tile and margin are multiples of the
generator's stride, so every tile sees the same pixel grid as the whole image would.

Images stay uint8 (H×W×3) outside the tile being run: an 8000×6000 photo is 144 MB as
bytes but 576 MB as float32, and the float copy is what blows the memory budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from brushwork.images import from_uint8, to_uint8

# On a CPU, tiling starts when an image has more pixels than this (4 MP: a 2048×2048
# whole-image pass stays under about 1 GB of activations; larger ones run as tiles).
AUTO_TILE_PIXELS = 2048 * 2048
# Peak working memory of a whole-image float32 pass per pixel (about 1 GB at 4 MP, above).
BYTES_PER_PIXEL = 256
DEFAULT_TILE = 1024
# Context read around each tile. 0.6's models reach further than 0.5's: at 64 px the bundled
# `classics` showed seams (39 dB across them, tile 128, a textured test image); at 96 every
# model tried is above 70 dB (tests/test_bundled_styles.py checks 40).
DEFAULT_MARGIN = 96


@dataclass(frozen=True)
class Tile:
    """One tile: ``core`` is the output region it fills, ``context`` the input it reads.
    Boxes are (top, left, bottom, right), bottom/right exclusive."""

    core: tuple[int, int, int, int]
    context: tuple[int, int, int, int]


def plan_tiles(height: int, width: int, tile: int, margin: int, multiple: int = 8) -> Iterator[Tile]:
    """Tiles of side ``tile`` (last row/column smaller) covering the image, each reading at
    least ``margin`` pixels of context on every side that has image there.

    Context windows start on the ``multiple`` grid and all have the same size where the
    image allows (tiles at the far edges reach further inwards instead of being cut short):
    each new input shape costs the convolution library a set-up pass, so fewer shapes is
    faster.
    """
    if tile <= 0 or margin < 0:
        raise ValueError(f"tile must be positive and margin >= 0 (got {tile}, {margin})")
    tile = max(multiple, tile - tile % multiple)
    margin += -margin % multiple
    context = tile + 2 * margin
    for top in range(0, height, tile):
        bottom = min(top + tile, height)
        rows = _window(top, bottom, height, margin, context, multiple)
        for left in range(0, width, tile):
            right = min(left + tile, width)
            columns = _window(left, right, width, margin, context, multiple)
            yield Tile((top, left, bottom, right), (rows[0], columns[0], rows[1], columns[1]))


def _window(start: int, end: int, length: int, margin: int, context: int, multiple: int) -> tuple[int, int]:
    """The context [from, to) along one axis for the core [start, end)."""
    if length <= context:
        return 0, length
    first = min(max(0, start - margin), (length - context) // multiple * multiple)
    return first, max(min(length, first + context), min(length, end + margin))


def auto_tile_pixels(device: torch.device) -> int:
    """The largest image run whole when tiling is automatic. CPU: :data:`AUTO_TILE_PIXELS`,
    to bound RAM. CUDA: what fits in half the free GPU memory (at least the CPU's limit),
    since there tiles cost far more time than memory (benchmarks/gpu.py: 4K ran 2.6× faster whole)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(AUTO_TILE_PIXELS, free // 2 // BYTES_PER_PIXEL)
    return AUTO_TILE_PIXELS


def resolve_tile(height: int, width: int, tile: int | None, auto_pixels: int = AUTO_TILE_PIXELS) -> int:
    """The tile size to use (0: the whole image in one pass) for a ``tile`` setting: None
    picks automatically (whole up to ``auto_pixels``, else :data:`DEFAULT_TILE`)."""
    if tile is None:
        tile = DEFAULT_TILE if height * width > auto_pixels else 0
    return 0 if tile >= height and tile >= width else tile


def stylize_uint8(
    run: Callable[[Tensor], Tensor],
    pixels: Tensor,
    tile: int | None = None,
    margin: int = DEFAULT_MARGIN,
    multiple: int = 8,
    device: torch.device | None = None,
) -> Tensor:
    """Stylize an H×W×3 uint8 image with ``run`` (1×3×h×w floats -> same), tile by tile.

    ``tile``: see :func:`resolve_tile`; 0 runs the whole image at once. ``device``: where
    ``run`` computes; pixels travel there as uint8, a quarter of the bytes of floats.
    Returns H×W×3 uint8 on the CPU.
    """
    height, width = pixels.shape[:2]
    tile = resolve_tile(height, width, tile)

    def run_uint8(part: Tensor) -> Tensor:
        return to_uint8(run(from_uint8(part.to(device or part.device))))[0].cpu()

    if tile == 0:
        return run_uint8(pixels)
    out = torch.empty_like(pixels)
    for part in plan_tiles(height, width, tile, margin, multiple):
        top, left, bottom, right = part.context
        result = run_uint8(pixels[top:bottom, left:right])
        core_top, core_left, core_bottom, core_right = part.core
        out[core_top:core_bottom, core_left:core_right] = result[
            core_top - top : core_bottom - top, core_left - left : core_right - left
        ]
    return out

