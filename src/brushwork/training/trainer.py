"""The training loop: content + sliced Wasserstein style + adversarial (+ TV) losses for a feed-forward generator.

Every random draw of a step (which photos, which crops, which painting patches) comes from
a generator seeded by (seed, step), so a run resumed from a checkpoint continues exactly as
if it had never stopped.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.func import functional_call
from tqdm.auto import tqdm

from brushwork.errors import BrushworkError, describe
from brushwork.images import find_images, open_image, pil_to_tensor, save_image
from brushwork.inference.modelfile import save_model
from brushwork.models import build_generator
from brushwork.perceptual.features import feature_network
from brushwork.perceptual.losses import jittered_views, smallest_view
from brushwork.perceptual.objective import PerceptualObjective, min_image_size
from brushwork.sheets import fit_cell, image_grid
from brushwork.training.base import load_start, resolve_init, start_from
from brushwork.training.checkpoint import read_checkpoint, save_checkpoint
from brushwork.training.config import TrainConfig
from brushwork.training.crops import RandomCrops
from brushwork.training.discriminator import MultiScaleDiscriminator, discriminator_loss, generator_adversarial_loss
from brushwork.training.distributed import join_world
from brushwork.training.interrupt import StepBoundaryInterrupt, StoppedMidStep
from brushwork.training.style_source import StyleSource, load_style

SAMPLE_PHOTOS = 4
CALIBRATION_PHOTOS = 8  # training crops whose style distances are the objective's units
CALIBRATION_SEED = 7919  # their draw's seed, offset from the run's
SAMPLE_SIZE = 256


@dataclass
class TrainResult:
    model_path: Path
    steps: int
    seconds: float
    backbone: str
    history: list[dict[str, float]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unreadable images, "path: reason"


def step_generator(seed: int, step: int) -> torch.Generator:
    """The RNG for one training step: a pure function of (seed, step)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def training_condition(strengths: Tensor, style: int, n_styles: int) -> Tensor:
    """N×(K+1) conditioning vectors (inference/conditioning.py's layout): each sample's
    strength, and style `style` one-hot."""
    weights = torch.zeros(len(strengths), n_styles, device=strengths.device)
    weights[:, style] = 1
    return torch.cat([strengths[:, None], weights], dim=1)


def off_strength_count(batch_size: int) -> int:
    """With strength control, how many photos each step adds at strengths other than 1."""
    return max(1, batch_size // 2)


class Trainer:
    """Holds the models, optimisers and data of one run. `run()` trains to `config.iterations`."""

    def __init__(self, config: TrainConfig, resuming: bool = False):
        config.validate()
        # The backbone's default layers are written into the config, so the model file says which were used.
        config.content_layer, config.style_layers = config.loss_layers()
        self.config = config
        self.world, self.device = join_world(config)  # under torchrun, one of several processes (distributed.py)
        torch.manual_seed(config.seed)
        content_paths = find_images(config.content)
        if not content_paths:
            raise BrushworkError(f"{config.content}: no images found (jpg, png, webp, bmp, tiff)")
        self.content = RandomCrops(content_paths, crop=config.crop, short_side=(config.crop, 2 * config.crop))
        self.styles: list[StyleSource] = [
            load_style(path, config.crop, config.style_size, name) for name, path in config.style_specs()
        ]
        self.name = config.name or "+".join(style.name for style in self.styles)
        self.run_dir = Path(config.run_dir or Path("runs") / self.name)
        # Conditioned models take [strength, one weight per style] (conditioning.py).
        config.generator.cond_dim = 1 + len(self.styles) if config.conditioned else 0
        config.init = resolve_init(config.init, config.generator)
        # Before the slow setup, so a bad --init fails at once; a resumed run takes its weights
        # from the checkpoint, and its start (perhaps gone since) is only recorded.
        start = None if resuming else load_start(config.init, config.generator)

        style_images = [list(style.images()) for style in self.styles]  # decoded once, for the style targets
        layers = tuple(dict.fromkeys((*config.style_layers, config.content_layer)))
        self.vgg = feature_network(layers, config.backbone, config.vgg_weights or None).to(self.device)
        smallest = min_image_size(self.vgg)
        if smallest_view(config.crop) < smallest:  # the loss sees jittered views of the crops
            needed = next(side for side in itertools.count(config.crop) if smallest_view(side) >= smallest)
            raise BrushworkError(f"crop must be at least {needed} pixels for --backbone {config.backbone} (got {config.crop})")
        self.objective = PerceptualObjective(self.vgg, config.style_layers, style_images, self.device, config.content_layer)
        # Each style layer's distance in units of the photos' own (objective.py), measured on a
        # fixed, seeded batch of training crops: a resumed run gets the same units.
        calibration = self.content.sample(CALIBRATION_PHOTOS, torch.Generator().manual_seed(config.seed + CALIBRATION_SEED))
        self.generator = build_generator(config.generator).to(self.device)
        if start is not None:
            start_from(self.generator, start.to(self.device))
        # One discriminator per style: each tells its own paintings from the outputs meant to look like them.
        discriminators = [MultiScaleDiscriminator() for _ in self.styles]
        self.discriminator = (discriminators[0] if len(discriminators) == 1 else torch.nn.ModuleList(discriminators))
        self.discriminator.to(self.device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr_g, betas=(0.9, 0.999))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
        self.bf16 = resolve_precision(config.precision, self.device) == "bf16"
        self.objective.calibrate(calibration.to(self.device), torch.Generator().manual_seed(config.seed))
        self.step = 0
        self.elapsed = 0.0
        self.history: list[dict[str, float]] = []
        self.sample_photos = self._sample_photos(content_paths)
        self.world.synchronize(self)

    def autocast(self):
        """bfloat16 for the frozen feature network where the hardware runs it fast (see benchmarks/)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _discriminator(self, style: int) -> torch.nn.Module:
        return self.discriminator if len(self.styles) == 1 else self.discriminator[style]

    def _strengths(self, rng: torch.Generator) -> Tensor | None:
        """Each photo's strength for this step; None without strength control (all 1).

        A step trains `batch_size` photos at strength 1 exactly, as a model without strength
        control would, and `off_strength_count` more at strengths drawn uniformly from
        [0, max_strength]. Measured, drawing every photo's strength left strength 1 far weaker
        than a model trained at strength 1 alone (docs/method.md)."""
        if not self.config.max_strength:
            return None
        drawn = torch.rand(off_strength_count(self.config.batch_size), generator=rng) * self.config.max_strength
        return torch.cat([torch.ones(self.config.batch_size), drawn]).to(self.device)

    # -- one step ---------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        config, rng = self.config, step_generator(self.config.seed, self.step)
        factor = lr_factor(self.step, config)
        for optimizer, lr in ((self.opt_g, config.lr_g), (self.opt_d, config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * factor
        style = self.step % len(self.styles)  # several styles take turns, one per step: a step costs the same for K
        strengths = self._strengths(rng)
        shard = self.world.shard(config.batch_size, 0 if strengths is None else len(strengths) - config.batch_size)
        photos = self.content.sample_each(shard.photos(config.seed, self.step)).to(self.device)
        strengths, n = shard.take(strengths), shard.local_batch  # this process's share (training/shards.py)
        cond = None
        if config.conditioned:
            ones = torch.ones(n, device=self.device)
            cond = training_condition(ones if strengths is None else strengths, style, len(self.styles))
        if strengths is None:
            stylized = self.generator(photos, cond)
        else:  # photos at strength 1 train the whole network, the others only how S modulates it
            at_one = self.generator(photos[:n], cond[:n])
            parameters = self.generator.off_strength_parameters()
            stylized = torch.cat([at_one, functional_call(self.generator, parameters, (photos[n:], cond[n:]))])
        # The photos at strength 1 (all of them without strength control): only they are meant
        # to look like the painting, so only they meet the discriminator.
        at_strength_one = stylized[:n]
        seen_photos, seen_stylized = jittered_views(photos, stylized, rng)
        with self.autocast():
            photo_target = self.objective.content_target(seen_photos)
            features = self.objective.features(seen_stylized)
        # Losses in float32 whatever precision the feature network ran in (objective.py).
        losses = {
            "content": self.objective.content(features, photo_target),
            "style": self.objective.style(features, style, strengths, rng),
        }
        total = config.content_weight * losses["content"] + config.style_weight * losses["style"]

        if config.adversarial_weight and self.step >= config.adversarial_start * config.iterations:
            discriminator = self._discriminator(style)
            real = self.styles[style].real_crops.sample_each(shard.paintings(config.seed, self.step)).to(self.device)
            d_loss = discriminator_loss(discriminator(real), discriminator(at_strength_one.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.world.average_gradients(discriminator)
            self.opt_d.step()
            discriminator.requires_grad_(False)  # G's step must not move D
            losses["adversarial"] = generator_adversarial_loss(discriminator(stylized), sample_weights=strengths)
            discriminator.requires_grad_(True)
            losses["discriminator"] = d_loss.detach()
            total = total + config.adversarial_weight * losses["adversarial"]

        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.world.average_gradients(self.generator)
        # The gradient's norm, for the log (an infinite limit clips nothing).
        losses["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.generator.parameters(), math.inf)
        self.opt_g.step()
        losses["total"] = total.detach()
        self.step += 1
        values = self.world.mean_values(losses)  # the whole batch's, over every process
        if not all(math.isfinite(v) for v in values.values()):
            raise TrainingDiverged(f"training diverged at step {self.step} (losses {values}); lower the learning rates")
        return values

    # -- the loop -----------------------------------------------------------------------
    def run(self, progress: bool = True) -> TrainResult:
        config = self.config
        writer = _tensorboard_writer(self.run_dir / "tensorboard") if self.world.is_main else None
        bar = tqdm(
            total=config.iterations, initial=self.step, desc=f"train {self.name}", unit="it",
            disable=not progress or not self.world.is_main,
        )
        started = time.perf_counter() - self.elapsed
        stop = StepBoundaryInterrupt()
        try:
            while self.step < config.iterations:
                with stop:
                    values = self.train_step()
                self.elapsed = time.perf_counter() - started
                bar.update(1)
                bar.set_postfix({k: f"{v:.3g}" for k, v in values.items() if k != "total"}, refresh=False)
                self.history.append({"step": self.step, **values})
                if writer and (self.step % 10 == 0 or self.step == config.iterations):
                    for key, value in values.items():
                        writer.add_scalar(f"loss/{key}", value, self.step)
                if self.world.is_main and (self.step % config.sample_every == 0 or self.step == config.iterations):
                    self.save_samples()
                if self.step % config.checkpoint_every == 0:
                    self.save_checkpoint()
                if self.world.any(stop.requested):  # every process stops at the same step
                    raise KeyboardInterrupt
        except TrainingDiverged as exc:  # the weights are spoilt: never saved, the checkpoint on disk is kept
            raise TrainingDiverged(f"{exc}; {self._kept_checkpoint()}") from None
        except StoppedMidStep:  # a half-done step cannot be resumed exactly: nothing is saved
            raise BrushworkError(f"interrupted twice, during step {self.step + 1}; {self._kept_checkpoint()}") from None
        except KeyboardInterrupt:
            bar.close()
            try:
                path = self.save_checkpoint()
            except KeyboardInterrupt:  # a second Ctrl-C while saving: the half-written file is dropped
                raise BrushworkError(f"interrupted twice, while saving step {self.step}; {self._kept_checkpoint()}") from None
            raise BrushworkError(
                f"interrupted at step {self.step}; checkpoint saved to {path} (continue with --resume {path})"
            ) from None
        finally:
            bar.close()
            if writer:
                writer.close()
        if self.step % config.checkpoint_every:  # else the loop has just written it
            self.save_checkpoint()
        if self.world.is_main:
            save_model(config.output, self.generator, self.metadata())
        bad = [*self.content.skipped, *(item for style in self.styles for item in style.real_crops.skipped)]
        skipped = self.world.union([f"{path}: {reason}" for path, reason in bad])
        return TrainResult(Path(config.output), self.step, self.elapsed, self.vgg.backbone, self.history, skipped)

    # -- outputs ------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        first = self.styles[0]
        kind = first.kind if len(self.styles) == 1 else f"{len(self.styles)} styles"
        info = {
            "style_name": self.name,
            "description": self.config.description or f"{self.name} ({kind})",
            "style_kind": kind,
            "backbone": self.vgg.backbone,
            "backbone_id": self.vgg.backbone_id,
            "steps": self.step,
            "train_seconds": round(self.elapsed, 1),
            "device": str(self.device),
            "train_config": self.config.to_dict(),
            "style_thumbnail_jpeg_base64": first.thumbnail(),
        }
        if self.config.conditioned:  # what the conditioning vector means (conditioning.py)
            info["max_strength"] = self.config.max_strength
            info["styles"] = [{"name": style.name, "kind": style.kind, "thumbnail_jpeg_base64": style.thumbnail()}
                              for style in self.styles]  # fmt: skip
        return info

    @torch.no_grad()
    def save_samples(self) -> Path:
        """A grid of fixed sample photos: each row is photo | stylized (each style, at strength 1)."""
        tiles = []
        for photo in self.sample_photos:
            photo = photo.to(self.device)
            tiles.append(photo[0])
            for style in range(len(self.styles)):
                cond = None
                if self.config.conditioned:
                    cond = training_condition(torch.ones(1, device=self.device), style, len(self.styles))
                tiles.append(self.generator(photo, cond)[0])
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        save_image(image_grid(tiles, columns=1 + len(self.styles)), path)
        return path

    def _kept_checkpoint(self) -> str:
        path = self.run_dir / "checkpoint.pt"
        return f"the last good checkpoint, {path}, is kept" if path.is_file() else "no checkpoint had been written"

    def save_checkpoint(self) -> Path:
        path = self.run_dir / "checkpoint.pt"
        if self.world.is_main:
            save_checkpoint(path, self.state_dict())
        return path

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue at this step (plain values and tensors)."""
        return {
            "step": self.step,
            "elapsed": self.elapsed,
            "config": json.dumps(self.config.to_dict()),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "history": json.dumps(self.history),
        }

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Restore models, optimisers, step and history from :meth:`state_dict`'s values."""
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            step, elapsed, history = int(state["step"]), float(state["elapsed"]), json.loads(state["history"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise BrushworkError(f"{source}: checkpoint does not match this configuration ({describe(exc)})") from None
        if step > self.config.iterations:
            raise BrushworkError(f"{source}: checkpoint is at step {step}, past --iterations {self.config.iterations}")
        self.step, self.elapsed, self.history = step, elapsed, history

    def _sample_photos(self, paths: list[Path]) -> list[Tensor]:
        chosen = paths[:: max(1, len(paths) // SAMPLE_PHOTOS)][:SAMPLE_PHOTOS]
        photos = []
        for path in chosen:
            try:
                photo = open_image(path)
            except BrushworkError:
                continue  # a bad photo is already reported by the crop sampler
            # Square centre crops keep the grid compact whatever the photos' orientation.
            photos.append(pil_to_tensor(fit_cell(photo, SAMPLE_SIZE, crop=True)))
        return photos


def lr_factor(step: int, config: TrainConfig) -> float:
    """The learning-rate multiplier at `step`: a linear warm-up, then a cosine decay to
    ``config.lr_final``. A pure function of the step, so a resumed run stays exact.

    The warm-up keeps the first large, uniform style gradients from throwing the generator
    into saturation; the decay lets the run settle instead of wandering, or collapsing back
    to the identity as a constant rate once did at the very end of a run.
    """
    if config.warmup_steps and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.iterations - config.warmup_steps)
    return config.lr_final + (1 - config.lr_final) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> "bf16" on CPUs with native bfloat16 (AVX512-BF16/AMX) and bf16-capable GPUs, else "fp32"."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        native = native or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        return "bf16" if native else "fp32"
    return "fp32"


class TrainingDiverged(BrushworkError):
    """A loss or gradient became NaN or infinite."""


def _tensorboard_writer(log_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(log_dir))


def train(config: TrainConfig, resume: str | Path | None = None, progress: bool = True) -> TrainResult:
    """Train a style model as described by `config`; with `resume`, continue a checkpoint.

    Returns a TrainResult with the model path, steps, wall time and loss history.
    """
    trainer = Trainer(config, resuming=bool(resume))
    if resume:
        trainer.load_state_dict(read_checkpoint(resume), str(resume))
    return trainer.run(progress=progress)

