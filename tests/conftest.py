import signal

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.inference.modelfile import save_model
from brushwork.models import Generator, GeneratorConfig


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Each test starts with Python's own Ctrl-C handler and leaves it so. `brushwork.cli.main`
    run as the program ignores SIGINT once it returns (its late-Ctrl-C guard); leaked into the
    test process, that made the training drills' second Ctrl-C a no-op and the `serve`
    subprocess (which inherits an ignored SIGINT) deaf to Ctrl-C."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def style_library(tmp_path, monkeypatch):
    """Each test's style library is its own empty folder, never the user's (brushwork/library.py)."""
    folder = tmp_path / "library"
    monkeypatch.setenv("BRUSHWORK_LIBRARY", str(folder))
    return folder


def make_photo(path, size=(40, 32), seed=0, mode="RGB"):
    """A small smooth test picture with some structure (gradients and a square)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    image = np.stack([x / w, y / h, 0.5 + 0.3 * np.sin(x / 3.0)], axis=-1)
    image[h // 4 : h // 2, w // 4 : w // 2] = rng.random(3)
    Image.fromarray((image * 255).astype(np.uint8)).convert(mode).save(path)
    return path


@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(3):
        make_photo(folder / f"p{i}.jpg", seed=i)
    make_photo(folder / "sub" / "deep.png", size=(24, 30), seed=9)
    return folder


@pytest.fixture
def tiny_model(tmp_path):
    """A model file with a small random (non-identity) generator."""
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.05)
    path = tmp_path / "tiny.safetensors"
    save_model(path, generator, {"style_name": "tiny", "description": "tiny test style", "backbone": "random"})
    return path


@pytest.fixture
def two_style_model(tmp_path):
    """A model file conditioned on strength and two styles ("warm", "cool"), with random
    (non-identity) weights, as the bundled `classics`."""
    torch.manual_seed(1)
    config = GeneratorConfig(channels=8, res_blocks=1, cond_dim=3)
    generator = Generator(config)
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.1)
    path = tmp_path / "two.safetensors"
    styles = [{"name": "warm", "kind": "painting"}, {"name": "cool", "kind": "painting"}]
    save_model(path, generator, {"style_name": "two", "description": "two test styles", "backbone": "random",
                                 "max_strength": 1.5, "styles": styles})  # fmt: skip
    return path
