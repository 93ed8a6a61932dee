"""Random square training crops drawn from a pool of image files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from brushwork.errors import BrushworkError
from brushwork.images import ImageFileError, check_image_header, open_image


class RandomCrops:
    """Random square training crops drawn from a pool of image files.

    Each crop comes from a uniformly chosen image rescaled so its shorter side is a
    random integer in ``short_side`` (at least ``crop``, so small images are upscaled),
    with a random ``crop``×``crop`` window and a horizontal flip half the time. All
    randomness comes from the generator passed to :meth:`sample`, so runs resume exactly.

    Files are decoded once (JPEG draft mode, short side capped at ``short_side[1]``) and
    kept as uint8 tensors while they fit in ``cache_bytes``. Unreadable files are left
    out and listed with their reasons in ``skipped``.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        crop: int,
        short_side: tuple[int, int],
        cache_bytes: int = 1 << 30,
    ) -> None:
        lo, hi = short_side
        if crop < 1 or lo < 1 or lo > hi:
            raise BrushworkError(f"bad crop settings: crop={crop}, short_side={short_side} "
                                 "(need crop >= 1 and 1 <= min <= max)")
        self.crop = crop
        self.short_side = (lo, hi)
        self.cache_bytes = cache_bytes
        self.skipped: list[tuple[Path, str]] = []
        self._given = [Path(p) for p in paths]
        self._cache: dict[Path, torch.Tensor] = {}
        self._cached_bytes = 0
        self._pool: list[Path] = []
        for path in self._given:
            try:
                check_image_header(path)  # decoding waits until the image is drawn
            except ImageFileError as exc:
                self.skipped.append((path, exc.reason))
            else:
                self._pool.append(path)
        self._check_pool()

    def __len__(self) -> int:
        """Number of usable images."""
        return len(self._pool)

    @property
    def pool(self) -> list[Path]:
        """The usable images, in the order draws index them."""
        return list(self._pool)

    def _check_pool(self) -> None:
        if self._pool:
            return
        if not self._given:
            raise BrushworkError("no training images given")
        try:
            where = os.path.commonpath([p.parent for p in self._given]) or "."
        except ValueError:  # a mix of absolute and relative paths
            where = "training images"
        path, reason = self.skipped[0]
        raise BrushworkError(
            f"{where}: no readable images (of {len(self._given)} files; "
            f"e.g. {path.name}: {reason})"
        )

    def _pixels(self, path: Path) -> torch.Tensor:
        """The decoded 3×H×W uint8 image, from the cache when possible."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        img = open_image(path, min_short=self.short_side[1]).convert("RGB")
        pixels = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()
        size = pixels.numel() * pixels.element_size()
        if self._cached_bytes + size <= self.cache_bytes:
            self._cache[path] = pixels
            self._cached_bytes += size
        return pixels

    def _draw_image(self, generator: torch.Generator) -> torch.Tensor:
        """A uniformly chosen usable image; files that fail to decode leave the pool."""
        while True:
            self._check_pool()
            index = int(torch.randint(len(self._pool), (1,), generator=generator))
            path = self._pool[index]
            try:
                return self._pixels(path)
            except ImageFileError as exc:
                del self._pool[index]
                self.skipped.append((path, exc.reason))
                warnings.warn(f"skipping {exc}", stacklevel=3)

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """A batch_size×3×crop×crop float32 batch in [0, 1] (``generator`` on the CPU)."""
        return self.sample_each([generator] * batch_size)

    def sample_each(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """One crop per generator, in order: a len(generators)×3×crop×crop batch in [0, 1].

        With a generator of its own per sample, a sample is the same whichever process draws
        it and whatever else is in its batch (training/shards.py splits a step's batch so)."""
        lo, hi = self.short_side
        crops = []
        for generator in generators:
            pixels = self._draw_image(generator)
            short = max(int(torch.randint(lo, hi + 1, (1,), generator=generator)), self.crop)
            _, h, w = pixels.shape
            # Cut the source window that becomes the crop once the short side is
            # `short`, then resize only that: same result, far less work.
            side = min(max(1, round(self.crop * min(h, w) / short)), h, w)
            y = int(torch.randint(h - side + 1, (1,), generator=generator))
            x = int(torch.randint(w - side + 1, (1,), generator=generator))
            window = pixels[:, y : y + side, x : x + side].unsqueeze(0).float()
            patch = F.interpolate(window, size=(self.crop, self.crop), mode="bilinear",
                                  align_corners=False, antialias=True)
            if bool(torch.rand((), generator=generator) < 0.5):
                patch = patch.flip(-1)
            crops.append(patch)
        return torch.cat(crops).div_(255.0).clamp_(0.0, 1.0)
