"""A training step's batch, split over the processes of a data-parallel run.

Every process knows the whole step's batch: `batch_size` photos at strength 1, then (with
strength control) the photos at other strengths. Of W processes, process r trains the r-th
W-th of each part. Each sample draws its photo, crop and flip from a generator of its own,
seeded by (seed, step, part, its index in the step's batch), so a sample is the same whichever
process draws it and whatever W is; every draw a step shares (its jitter, its style
directions, its strengths) comes from the step's generator, the same on every process.
Averaged over the processes, each loss (a mean over equal shares) and each gradient is then
the whole batch's, as in one process: the same command optimises the same way at any W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from brushwork.errors import BrushworkError

PHOTOS, PAINTINGS = 0, 1  # the two kinds of sample a step draws: training photos, real painting crops


def sample_generator(seed: int, step: int, part: int, index: int) -> torch.Generator:
    """The generator of sample `index` of step `step`'s batch of `part` (PHOTOS, PAINTINGS)."""
    # SeedSequence mixes the four numbers, so neighbouring samples and steps get unrelated streams.
    high, low = np.random.SeedSequence((seed, step, part, index)).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(high) << 32 | int(low))


@dataclass(frozen=True)
class Shard:
    """This process's samples of a step whose batch has `batch_size` photos at strength 1 and
    `off` more at other strengths: ``at_one`` indexes the first part, ``at_off`` the second
    (from 0)."""

    batch_size: int
    at_one: range
    at_off: range

    @property
    def local_batch(self) -> int:
        """How many photos at strength 1 this process trains (and real painting crops it shows D)."""
        return len(self.at_one)

    def photos(self, seed: int, step: int) -> list[torch.Generator]:
        """One generator per photo this process trains, strength-1 photos first."""
        indices = [*self.at_one, *(self.batch_size + i for i in self.at_off)]
        return [sample_generator(seed, step, PHOTOS, i) for i in indices]

    def paintings(self, seed: int, step: int) -> list[torch.Generator]:
        """One generator per real painting crop this process shows the discriminator."""
        return [sample_generator(seed, step, PAINTINGS, i) for i in self.at_one]

    def take(self, strengths: Tensor | None) -> Tensor | None:
        """This process's part of the step's strengths (``batch_size`` ones, then the others)."""
        if strengths is None:
            return None
        off = strengths[self.batch_size :]
        return torch.cat([strengths[self.at_one.start : self.at_one.stop], off[self.at_off.start : self.at_off.stop]])


def split_batch(batch_size: int, off: int, rank: int, size: int) -> Shard:
    """Process `rank` of `size`'s share of a step of `batch_size` photos at strength 1 and
    `off` at other strengths; a BrushworkError if either does not split evenly (unequal shares
    would weigh some photos more than others once the processes' gradients are averaged)."""
    if batch_size % size:
        raise BrushworkError(f"--batch-size {batch_size} does not split evenly over {size} processes "
                             f"(it is the whole step's batch); give a multiple of {size}")  # fmt: skip
    if off % size:
        raise BrushworkError(f"--batch-size {batch_size} with --max-strength adds {off} photos at other strengths, "
                             f"which do not split evenly over {size} processes; give a multiple of {2 * size}")  # fmt: skip
    one, other = batch_size // size, off // size
    return Shard(batch_size, range(rank * one, (rank + 1) * one), range(rank * other, (rank + 1) * other))
