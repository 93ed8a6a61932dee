"""Scale-out: training steps/s in 1 and 2 processes (torchrun, gloo on the CPU), and images/s
of `brushwork stylize` against a Ray job with 1 and 2 workers, side by side on one machine.

    python benchmarks/scale.py            # the project's photos, the default loss network
    python benchmarks/scale.py --quick    # synthetic data, the random VGG-19 (CI smoke run)

Training: the same global batch (--batch-size, default 4) and options in both, the GAN term
on from the first step; one process uses every core as threads, each of N processes 1/N of
them. Median seconds per step after --warmup steps, over --steps steps, on process 0 (each
step ends with an all-reduce, so process 0 waits for the slowest). Efficiency: the speed-up
over one process, divided by the number of processes.

Stylize: --photos photos of the validation folder at --max-size px with the bundled
starry_night. The CLI's loop (`stylize_paths`, all cores as threads, the model loaded before
the clock starts) against `stylize_dataset` on a local Ray of all cores started beforehand,
with 1 and 2 workers of one core each: images/s from the first image to the last (the
manifest's times; the actor pool's start, which the CLI has no counterpart of, is shown
apart), and the whole call.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import DATA, STYLES, command_line, machine, parser, synthetic_data, write_section

SECTION = "scale"
HERE = Path(__file__).resolve()


def train_worker(config_file: Path, steps: int, warmup: int) -> None:
    """Run inside each process (python or torchrun): time `steps` steps; process 0 prints them."""
    from brushwork.training.config import TrainConfig
    from brushwork.training.trainer import Trainer

    trainer = Trainer(TrainConfig.from_dict(json.loads(config_file.read_text())))
    times = []
    for index in range(warmup + steps):
        start = time.perf_counter()
        trainer.train_step()
        if index >= warmup:
            times.append(time.perf_counter() - start)
    if trainer.world.is_main:
        print("RESULT " + json.dumps({"median": statistics.median(times), "steps": len(times)}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_speed(config: dict, processes: int, threads: int, steps: int, warmup: int, folder: Path) -> float:
    """Median seconds per training step in `processes` processes of `threads` threads each."""
    config_file = folder / f"train-{processes}-{threads}.json"
    config_file.write_text(json.dumps({**config, "run_dir": str(folder / f"run-{processes}-{threads}")}))
    worker = [str(HERE), "--train-worker", str(config_file), "--steps", str(steps), "--warmup", str(warmup)]
    if processes == 1:
        command = [sys.executable, *worker]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", str(processes),
                   "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), *worker]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode:
        raise SystemExit(f"training in {processes} process(es) failed:\n{done.stderr[-3000:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])["median"]


def stylize_speeds(photos: Path, max_size: int, cores: int, folder: Path) -> dict[str, dict[str, float]]:
    """Images/s of the CLI's loop and of Ray jobs with 1 and 2 workers, on the same photos."""
    import ray

    from brushwork.batch import stylize_dataset
    from brushwork.batch.manifest import MANIFEST_NAME
    from brushwork.inference.stylize import Stylizer, stylize_paths

    count = len(list(photos.iterdir()))
    stylizer = Stylizer.from_file("starry_night", device="cpu")
    stylize_paths(stylizer, [next(photos.iterdir())], folder / "warm.png", max_size, progress=False)  # first-call costs
    results = {}
    threads = torch.get_num_threads()
    for cli_threads in dict.fromkeys((1, cores)):
        torch.set_num_threads(cli_threads)
        start = time.perf_counter()
        report = stylize_paths(stylizer, [photos], folder / f"cli-{cli_threads}", max_size, progress=False)
        seconds = time.perf_counter() - start
        assert len(report.written) == count, report.failed
        results[f"CLI, {cli_threads} thread{'s' if cli_threads > 1 else ''}"] = {
            "on": f"{cli_threads} thread(s)", "workers": 0, "rate": count / seconds, "total": count / seconds, "start": 0.0}  # fmt: skip
    torch.set_num_threads(threads)
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    try:
        for workers in (1, 2):
            output = folder / f"ray-{workers}"
            start = time.time()
            report = stylize_dataset("starry_night", [photos], output, workers=workers, max_size=max_size,
                                     device="cpu", progress=False)  # fmt: skip
            total = time.time() - start
            assert len(report.written) == count and report.workers == workers, report.failed
            times = sorted(json.loads(line)["time"] for line in (output / MANIFEST_NAME).read_text().splitlines()[1:])
            # From the first result to the last; results arrive a Ray block at a time, so the
            # images of the first block (recorded together) were made before the span began.
            first_block = sum(1 for t in times if t - times[0] < 0.05)
            rate = (count - first_block) / max(times[-1] - times[0], 1e-9)
            first = times[0] - start - first_block / rate  # the pool's start (and shipping the model)
            results[f"Ray, {workers} worker{'s' if workers > 1 else ''}"] = {
                "on": f"{workers} × 1 thread", "workers": workers, "rate": rate, "total": count / total, "start": max(0.0, first)}  # fmt: skip
    finally:
        ray.shutdown()
    return results


def _prepare_photos(source: Path, count: int, folder: Path) -> Path:
    """The first `count` photos of `source`, copied (a fixed set, the same for every run)."""
    folder.mkdir(parents=True)
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    for path in files:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--train-worker", type=Path, help=argparse.SUPPRESS)  # what each training process runs
    p.add_argument("--content", type=Path, default=DATA / "content" / "train")
    p.add_argument("--val", type=Path, default=DATA / "content" / "val")
    p.add_argument("--style", type=Path, default=STYLES / "vangogh_the_starry_night_1889.jpg")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=12, help="timed training steps per run")
    p.add_argument("--warmup", type=int, default=2, help="training steps before the clock starts")
    p.add_argument("--photos", type=int, default=48)
    p.add_argument("--max-size", type=int, default=512)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores the runs share")
    args = p.parse_args()
    if args.train_worker:
        return train_worker(args.train_worker, args.steps, args.warmup)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        content, val, style = args.content, args.val, args.style
        extra = {}
        if args.quick:
            content, val, style = synthetic_data(tmp / "data")
            extra = {"crop": 48, "style_size": 64, "backbone": "random", "generator": {"channels": 8, "res_blocks": 1}}
            args.steps, args.warmup, args.photos, args.max_size, args.batch_size = 3, 1, 6, 64, 2
        config = {"content": str(content), "style": [str(style)], "batch_size": args.batch_size, "iterations": 10_000,
                  "adversarial_start": 0.0, "device": "cpu", "output": str(tmp / "model.safetensors"), **extra}  # fmt: skip
        runs = dict.fromkeys([(1, 1), (1, args.cores), (2, 1)])  # (processes, threads each)
        step = {run: train_speed(config, *run, args.steps, args.warmup, tmp) for run in runs}
        photos = _prepare_photos(val, args.photos, tmp / "photos")
        stylize = stylize_speeds(photos, args.max_size, args.cores, tmp)
    base = stylize["Ray, 1 worker"]["rate"]
    stylize_rows = "\n".join(
        f"| {name} | {r['on']} | {r['rate']:.2f} | {r['total']:.2f} | {r['start']:.1f} | "
        + (f"{r['rate'] / (r['workers'] * base):.0%} |" if r["workers"] else "|")
        for name, r in stylize.items()
    )  # fmt: skip
    one = step[1, 1]
    train_rows = "\n".join(
        f"| {n} | {t} | {s:.2f} | {1 / s:.2f} | {args.batch_size / s:.2f} | {one / s:.2f}× | "
        + (f"{one / s / n:.0%} |" if t == 1 else "|")
        for (n, t), s in step.items()
    )  # fmt: skip
    backbone = "the random VGG-19" if args.quick else "EfficientNet-Lite0"
    text = f"""
## Scale: torchrun training and Ray batch jobs on {args.cores} cores

`{command_line()}` — {machine()}. CPU only (no GPU was lent to this run); the cores were shared
with other work, so read the ratios rather than the absolute numbers.

**Training** (`torchrun --nproc-per-node N -m brushwork train`, gloo): global batch {args.batch_size}
(each of N processes trains {args.batch_size}/N), crop {extra.get('crop', 128)} px, {backbone}, the GAN term on; median
of {args.steps} steps after {args.warmup}.

| processes | threads each | s/step | steps/s | photos/s | speed-up | efficiency |
|---|---|---|---|---|---|---|
{train_rows}

**Stylize** ({args.photos} photos of `{val.name}` at {args.max_size} px, bundled starry_night, float32):
images/s from the first output to the last; "whole call" includes starting the actor pool
(the CLI's model load is not counted); efficiency: against one Ray worker × workers.
Speed-up and efficiency are against one process (or worker) of one thread. On cores that
other work also uses, threads that wait for each other at every operation can lose most:
here one training process of {args.cores} threads took {step[1, args.cores] / step[2, 1]:.1f}× the step time of 2
single-thread processes, and 2 Ray workers made {stylize["Ray, 2 workers"]["rate"] / max(r["rate"] for k, r in stylize.items() if k.startswith("CLI")):.1f}× the images/s of the best CLI row.
Runs on this shared machine differ by up to 2× from one to the next: compare within a run.

| run | on | images/s | images/s, whole call | pool start (s) | efficiency |
|---|---|---|---|---|---|
{stylize_rows}
"""
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
