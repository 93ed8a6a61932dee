"""Training speed: iterations/s at the default settings (brushwork against the Johnson
baseline), and
time-to-quality (wall time until validation SSIM and patch SWD settle within 5% of their final values).

    python benchmarks/training.py            # default settings, Starry Night, the default 800 steps
    python benchmarks/training.py --quick    # synthetic data, a few steps (CI smoke run)

Iterations/s: both generators in one process with the default TrainConfig (the
EfficientNet-Lite0 loss network; --quick: the random VGG-19), steps timed interleaved, before and after the adversarial term starts (a default
run spends `adversarial_start` = 20 % of its steps without it).

Time-to-quality: a default brushwork run, paused every --eval-every steps to measure mean
content SSIM and patch SWD (brushwork.evaluation.metrics, as `brushwork evaluate`) on the first
--val-photos photos of the validation folder at 256 px. Only training time is counted.
The validation photos are only measured, never trained on.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from brushwork.models import GeneratorConfig
from brushwork.training.config import TrainConfig
from brushwork.images import find_images, load_image
from brushwork.devices import pick_device
from brushwork.evaluation.evaluate import EvaluateConfig, style_reference
from brushwork.evaluation.metrics import content_ssim, patch_swd
from brushwork.training.trainer import Trainer
from common import DATA, STYLES, command_line, machine, parser, synthetic_data, write_section

SECTION = "training"
GENERATORS = {
    "brushwork": GeneratorConfig(),
    "johnson": GeneratorConfig(arch="johnson"),
}
TOLERANCE = 0.05


def train_config(
    name: str, content: Path, style: Path, run_dir: Path, quick: bool, iterations: int, device: str = "auto"
) -> TrainConfig:
    """The default TrainConfig for generator `name` (a GENERATORS key or an architecture)."""
    extra = dict(crop=48, batch_size=2, style_size=64, warmup_steps=1, backbone="random") if quick else {}
    generator = GENERATORS.get(name) or GeneratorConfig(arch=name)
    slug = name.replace(" ", "_")
    return TrainConfig(
        content=str(content), style=str(style), output=str(run_dir / f"{slug}.safetensors"),
        run_dir=str(run_dir / slug), iterations=iterations,
        generator=GeneratorConfig(**vars(generator)), device=device, **extra,
    )  # fmt: skip


def timed_step(trainer: Trainer, gan: bool) -> float:
    config = trainer.config
    gan_start = math.ceil(config.adversarial_start * config.iterations)
    trainer.step = max(trainer.step, gan_start) if gan else min(trainer.step, gan_start - 1)
    synchronize(trainer.device)
    start = time.perf_counter()
    trainer.train_step()
    synchronize(trainer.device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def iterations_per_second(content: Path, style: Path, run_dir: Path, quick: bool, rounds: int, device: str) -> dict:
    """Median seconds per step, per architecture and phase, timed interleaved."""
    trainers = {name: Trainer(train_config(name, content, style, run_dir, quick, 1500, device)) for name in GENERATORS}
    for trainer in trainers.values():  # warm-up: first steps allocate
        timed_step(trainer, gan=False), timed_step(trainer, gan=True)
    times: dict[tuple[str, bool], list[float]] = {(a, g): [] for a in GENERATORS for g in (False, True)}
    for _ in range(rounds):
        for arch, trainer in trainers.items():
            for gan in (False, True):
                times[arch, gan].append(timed_step(trainer, gan))
    share = TrainConfig().adversarial_start
    out = {}
    for arch in GENERATORS:
        plain, gan = statistics.median(times[arch, False]), statistics.median(times[arch, True])
        out[arch] = {"plain": plain, "gan": gan, "run": 1 / (share * plain + (1 - share) * gan)}
    return out


@torch.no_grad()
def _validate(trainer: Trainer, photos: list[torch.Tensor], reference) -> tuple[float, float]:
    ssim, swd = [], []
    for photo in photos:
        output = trainer.generator(photo.to(trainer.device)).cpu()
        ssim.append(float(content_ssim(photo, output)))
        swd.append(float(patch_swd(output, reference.patches)))
    return statistics.fmean(ssim), statistics.fmean(swd)


def time_to_quality(content, val, style, run_dir, quick, iterations, eval_every, val_photos, device) -> list[dict]:
    """Train a default brushwork model; return the validation curve (step, seconds, ssim, patch_swd)."""
    trainer = Trainer(train_config("brushwork", content, style, run_dir, quick, iterations, device))
    reference = style_reference(EvaluateConfig(content=str(val), style=str(style), model="-"), trainer.device)
    photos = [load_image(path, max_size=256) for path in find_images(val)[:val_photos]]
    seconds = 0.0
    curve = [{"step": 0, "seconds": 0.0, **dict(zip(("ssim", "patch_swd"), _validate(trainer, photos, reference)))}]
    while trainer.step < iterations:
        start = time.perf_counter()
        trainer.train_step()
        synchronize(trainer.device)
        seconds += time.perf_counter() - start
        if trainer.step % eval_every == 0 or trainer.step == iterations:
            ssim, swd = _validate(trainer, photos, reference)
            curve.append({"step": trainer.step, "seconds": seconds, "ssim": ssim, "patch_swd": swd})
            print(f"step {trainer.step}: {seconds:.0f} s, SSIM {ssim:.3f}, patch SWD {swd:.4f}", file=sys.stderr)
    return curve


def settled(curve: list[dict], tolerance: float = TOLERANCE) -> dict:
    """The first point after which SSIM and patch SWD both stay within `tolerance` of their final values."""
    final = curve[-1]
    for i, point in enumerate(curve):
        if all(
            abs(later[k] - final[k]) <= tolerance * abs(final[k]) for later in curve[i:] for k in ("ssim", "patch_swd")
        ):
            return point
    return final


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--content", type=Path, default=DATA / "content" / "train")
    p.add_argument("--val", type=Path, default=DATA / "content" / "val")
    p.add_argument("--style", type=Path, default=STYLES / "vangogh_the_starry_night_1889.jpg")
    p.add_argument("--iterations", type=int, default=TrainConfig().iterations)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--val-photos", type=int, default=8)
    p.add_argument("--rounds", type=int, default=10, help="timed steps per architecture and phase")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda; a GPU run writes its own section")
    args = p.parse_args()
    device = pick_device(args.device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        content, val, style = args.content, args.val, args.style
        if args.quick:
            content, val, style = synthetic_data(tmp / "data")
            args.iterations, args.eval_every, args.val_photos, args.rounds = 6, 2, 2, 2
        speed = iterations_per_second(content, style, tmp / "runs", args.quick, args.rounds, str(device))
        curve = time_to_quality(
            content, val, style, tmp / "runs", args.quick, args.iterations, args.eval_every, args.val_photos, str(device)
        )
    done = settled(curve)
    final = curve[-1]
    speed_rows = "\n".join(
        f"| {arch} | {1 / s['plain']:.2f} | {1 / s['gan']:.2f} | {s['run']:.2f} |" for arch, s in speed.items()
    )
    curve_rows = "\n".join(f"| {c['step']} | {c['seconds']:.0f} | {c['ssim']:.3f} | {c['patch_swd']:.4f} |" for c in curve)
    text = f"""
## Training{" on a GPU" if gpu else ""}: iterations/s and time-to-quality

`{command_line()}` — {machine()}{f"; device: {gpu}" if gpu else ""}.
Default settings (batch {TrainConfig().batch_size if not args.quick else 2}, crop {TrainConfig().crop if not args.quick else 48} px, {"the random VGG-19" if args.quick else "EfficientNet-Lite0"} loss network, bf16 autocast where the
device has it), style `{style.name}`, {torch.get_num_threads()} threads. Median of {args.rounds} interleaved steps per cell.

| generator | it/s before the GAN term | it/s with the GAN term | it/s over a default run |
|---|---|---|---|
{speed_rows}

Over a default run, brushwork trains {speed['brushwork']['run'] / speed['johnson']['run']:.2f}× as fast as the Johnson baseline;
a default run of {TrainConfig().iterations} steps takes about {TrainConfig().iterations / speed['brushwork']['run'] / 60:.1f} min of training loop here.

**Time-to-quality**: {args.iterations} steps; validation every {args.eval_every} steps on {args.val_photos} photos of
`{val.name}` at 256 px. SSIM and patch SWD stay within {TOLERANCE:.0%} of their final values
({final['ssim']:.3f}, {final['patch_swd']:.4f}) from step **{done['step']}**, after **{done['seconds']:.0f} s** of training
(the whole run: {final['seconds']:.0f} s).

| step | training seconds | SSIM | patch SWD |
|---|---|---|---|
{curve_rows}
"""
    write_section(args.results, SECTION + ("-gpu" if gpu else ""), text)
    print(text.strip())


if __name__ == "__main__":
    main()
