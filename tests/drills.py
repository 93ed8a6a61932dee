"""Kill and Ctrl-C drills on a tiny training run (random backbone, 32-px crops).

Each drill runs `brushwork train` in a subprocess, stops it with SIGKILL or SIGINT at random
moments, checks that the checkpoint on disk always loads, resumes until the run finishes and
compares the model with an uninterrupted run of the same seed. Shared by
tests/test_reliability_kill.py and benchmarks/reliability.py.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from brushwork.training.checkpoint import read_checkpoint
from tests.hostile_corpus import picture

TOML = """
iterations = {iterations}
batch_size = 2
crop = 48
style_size = 48
warmup_steps = 2
adversarial_start = 0.3
backbone = "random"
device = "cpu"
seed = 3
sample_every = 1000
checkpoint_every = {checkpoint_every}
[generator]
channels = 8
res_blocks = 1
"""
# One thread: the same float reductions in every process, so runs compare bit for bit.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@dataclass
class DrillReport:
    kills: int = 0
    during_write: int = 0  # kills sent while a checkpoint's temporary file existed
    checkpoints_loaded: int = 0
    resumes: int = 0
    identical: bool = False


def setup(root: Path, iterations: int = 40, checkpoint_every: int = 1, name: str = "train") -> Path:
    """Tiny photos, a painting and a TOML config `name`.toml under `root`; returns its path."""
    (root / "photos").mkdir(parents=True, exist_ok=True)
    for i in range(3):
        picture(48, 40, seed=i).save(root / "photos" / f"p{i}.png")
    picture(48, 48, seed=9).save(root / "painting.png")
    config = root / f"{name}.toml"
    config.write_text(f'content = "{root / "photos"}"\nstyle = "{root / "painting.png"}"\n'
                      + TOML.format(iterations=iterations, checkpoint_every=checkpoint_every))  # fmt: skip
    return config


def start(args: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "brushwork", "train", *args, "--quiet"]
    return subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fresh_args(config: Path, name: str) -> list[str]:
    root = config.parent
    return ["--config", str(config), "--output", str(root / f"{name}.safetensors"), "--run-dir", str(root / name)]


def reference(config: Path) -> Path:
    """The model of an uninterrupted run."""
    done = start(fresh_args(config, "reference"))
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    return config.parent / "reference.safetensors"


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = load_file(a), load_file(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _checkpoint_step(path: Path) -> int:
    """The step of the checkpoint at `path` (0 if none); read_checkpoint raises if it is damaged."""
    return int(read_checkpoint(path)["step"]) if path.exists() else 0


def _wait_for_write(run_dir: Path, process: subprocess.Popen, timeout: float) -> bool:
    """Poll until a checkpoint's temporary file appears (True) or the time is up."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and process.poll() is None:
        if run_dir.is_dir() and any(n.startswith(".checkpoint.") for n in os.listdir(run_dir)):
            return True
        time.sleep(0.0005)
    return False


def _wait_for_progress(checkpoint: Path, process: subprocess.Popen, timeout: float) -> None:
    """Poll until the run replaces its checkpoint (it has trained at least one step)."""
    first = checkpoint.stat().st_mtime_ns if checkpoint.exists() else None
    end = time.monotonic() + timeout
    while time.monotonic() < end and process.poll() is None:
        if checkpoint.exists() and checkpoint.stat().st_mtime_ns != first:
            return
        time.sleep(0.005)


def kill_drill(config: Path, kills: int = 20, seed: int = 0) -> DrillReport:
    """SIGKILL a run `kills` times (every third aimed at a checkpoint write), resuming after each."""
    rng = random.Random(seed)
    report = DrillReport()
    run_dir, checkpoint = config.parent / "killed", config.parent / "killed" / "checkpoint.pt"
    last_step = 0
    while True:
        args = ["--resume", str(checkpoint)] if checkpoint.exists() else fresh_args(config, "killed")
        report.resumes += checkpoint.exists()
        process = start(args)
        if report.kills < kills:
            if report.kills % 3 == 2:
                report.during_write += _wait_for_write(run_dir, process, timeout=60)
            elif report.kills % 10 == 0:
                time.sleep(rng.uniform(0.1, 2.0))  # while it starts up
            else:  # once it has trained a step, anywhere in the steps and writes that follow
                _wait_for_progress(checkpoint, process, timeout=60)
                time.sleep(rng.uniform(0.0, 1.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                report.kills += 1
        out, err = process.communicate(timeout=600)
        step = _checkpoint_step(checkpoint)  # must load after every kill
        report.checkpoints_loaded += checkpoint.exists()
        assert step >= last_step, f"checkpoint went back from step {last_step} to {step}"
        last_step = step
        if process.returncode == 0:
            break
        assert process.returncode == -signal.SIGKILL, err
    report.identical = same_weights(config.parent / "killed.safetensors", config.parent / "reference.safetensors")
    return report


def interrupt_drill(config: Path, presses: int, name: str, seed: int = 0) -> tuple[int, str, int]:
    """Ctrl-C (SIGINT, `presses` times 20 ms apart) a run once it has written its first
    checkpoint. Returns (exit status, stderr, step of the checkpoint on disk after it)."""
    rng = random.Random(seed)
    checkpoint = config.parent / name / "checkpoint.pt"
    process = start(fresh_args(config, name))
    end = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.5))
    for _ in range(presses):
        process.send_signal(signal.SIGINT)
        time.sleep(0.02)
    out, err = process.communicate(timeout=600)
    return process.returncode, err, _checkpoint_step(checkpoint)


def finish(config: Path, name: str) -> bool:
    """Resume run `name` to the end; True if its model equals the uninterrupted run's."""
    done = start(["--resume", str(config.parent / name / "checkpoint.pt")])
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    return same_weights(config.parent / f"{name}.safetensors", config.parent / "reference.safetensors")
