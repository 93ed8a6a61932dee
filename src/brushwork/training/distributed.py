"""Data-parallel training under torchrun: one process per GPU (NCCL) or per share of the CPU
cores (gloo), each training its share of every step's batch (training/shards.py).

``torchrun --nproc-per-node N -m brushwork train ...`` starts N copies of the same command;
torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) says which
one each is, and :func:`join_world` joins them. A plain ``brushwork train`` is a world of one,
and every method here is then a no-op.

Why gradients are averaged by hand rather than through DistributedDataParallel's wrapper: a
step runs the discriminator three times (real crops, fakes, then the generator's adversarial
pass with D frozen) and the generator twice with strength control (the second through
torch.func.functional_call), where the wrapper expects one forward per backward. Averaging
each model's gradients in one flat all-reduce after its backward is the sum DDP computes,
without that constraint. Only process 0 writes (checkpoints, samples, TensorBoard, the model).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
from collections.abc import Mapping

import torch
import torch.distributed as dist
from torch import Tensor, nn

from brushwork.devices import pick_device
from brushwork.errors import BrushworkError, describe
from brushwork.training.shards import Shard, split_batch


class World:
    """The processes of one training run and this one's place among them (rank 0 of 1 alone)."""

    def __init__(self, rank: int = 0, size: int = 1, device: torch.device | None = None):
        self.rank, self.size = rank, size
        self.device = device or torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run's files (process 0)."""
        return self.rank == 0

    def shard(self, batch_size: int, off: int = 0) -> Shard:
        """This process's share of a step of `batch_size` photos at strength 1 and `off` others."""
        return split_batch(batch_size, off, self.rank, self.size)

    def average_gradients(self, module: nn.Module) -> None:
        """Replace each gradient of `module` by its mean over the processes (one all-reduce)."""
        if self.size == 1:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.size
        for grad, mean in zip(grads, flat.split([g.numel() for g in grads])):
            grad.copy_(mean.view_as(grad))

    def batch_mean(self, value: Tensor) -> Tensor:
        """The mean over the processes of a statistic of each one's share of the batch (equal shares)."""
        if self.size == 1:
            return value
        value = value.detach().clone()
        dist.all_reduce(value)
        return value / self.size

    def mean_values(self, losses: Mapping[str, Tensor]) -> dict[str, float]:
        """The losses of the whole batch, as floats: each process's, averaged (one all-reduce)."""
        keys = list(losses)
        values = torch.stack([losses[k].detach().float().reshape(()) for k in keys])
        return dict(zip(keys, self.batch_mean(values.to(self.device)).tolist()))

    def any(self, flag: bool) -> bool:
        """Whether `flag` is set in any process (a Ctrl-C reaches them at different moments)."""
        if self.size == 1:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def union(self, lines: list[str]) -> list[str]:
        """Every process's `lines`, each once, in order (e.g. the unreadable images each met)."""
        if self.size == 1:
            return lines
        gathered: list[list[str] | None] = [None] * self.size
        dist.all_gather_object(gathered, lines)
        return list(dict.fromkeys(line for part in gathered for line in part or []))

    def agree(self, what: str, value: object) -> None:
        """A BrushworkError on every process unless `value` is the same on all (e.g. the options
        and the photo list: nodes with different copies of the data would train apart)."""
        if self.size == 1:
            return
        digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
        digests: list[str | None] = [None] * self.size
        dist.all_gather_object(digests, digest)
        differ = [rank for rank, other in enumerate(digests) if other != digests[0]]
        if differ:
            raise BrushworkError(f"training process {differ[0]} has other {what} than process 0; "
                                 "give every node the same command and the same files")  # fmt: skip

    def synchronize(self, trainer) -> None:
        """Start every process from process 0's models and style targets (the same computation
        on every process, but a GPU's kernels need not round alike), and make the content
        term's normaliser the whole batch's."""
        if self.size == 1:
            return
        config = trainer.config
        self.agree("training options", config.to_dict())
        self.agree("training photos", [str(p.relative_to(config.content)) if p.is_relative_to(config.content) else p.name
                                       for p in trainer.content.pool])  # fmt: skip
        for module in (trainer.generator, trainer.discriminator):
            for tensor in [*module.parameters(), *module.buffers()]:
                dist.broadcast(tensor.data, src=0)
        objective = trainer.objective
        for target in objective.targets:
            for tensor in target.values():
                dist.broadcast(tensor, src=0)
        scales = [objective.scales]
        dist.broadcast_object_list(scales, src=0)
        objective.scales = scales[0]
        objective.batch_mean = self.batch_mean


def join_world(config) -> tuple[World, torch.device]:
    """This process's World and device: under torchrun (WORLD_SIZE > 1), join the others (NCCL
    on CUDA, gloo on the CPU), process LOCAL_RANK on GPU LOCAL_RANK; else a world of one on
    ``config.device``. A BrushworkError if the batch cannot be split evenly or the others
    cannot be reached."""
    from brushwork.training.trainer import off_strength_count  # the trainer imports this module

    device = pick_device(config.device)
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1 and not dist.is_initialized():
        return World(device=device), device
    if not dist.is_initialized():  # before connecting: a batch that does not split fails at once
        split_batch(config.batch_size, off_strength_count(config.batch_size) if config.max_strength else 0, 0, size)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise BrushworkError(f"training process {local} of this node has no GPU (the node has "
                                 f"{torch.cuda.device_count()}); give --nproc-per-node at most that")  # fmt: skip
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise BrushworkError(f"--device {config.device}: several training processes need CUDA GPUs or the CPU")
    if not dist.is_initialized():
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        try:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        except (RuntimeError, ValueError) as exc:  # torch's DistNetworkError and timeouts are RuntimeErrors
            raise BrushworkError(f"cannot join the other training processes at {where} ({describe(exc)})") from None
        atexit.register(_leave)
    world = World(dist.get_rank(), dist.get_world_size(), device)
    world.shard(config.batch_size, off_strength_count(config.batch_size) if config.max_strength else 0)
    return world, device


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
