"""GPU checks: half precision, torch.compile and tiling on a CUDA device. Skipped without one."""

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.evaluation.metrics import psnr
from brushwork.inference.stylize import Stylizer

from .test_tiling import assert_seamless, textured_pixels

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture
def photo():
    return Image.fromarray(textured_pixels(200, 264, seed=4).numpy())


def _pixels(image):
    return torch.from_numpy(np.array(image))


def test_gpu_output_matches_the_cpus(photo):
    cpu = _pixels(Stylizer.from_file("starry_night", device="cpu")(photo))
    gpu = _pixels(Stylizer.from_file("starry_night", device="cuda")(photo))
    assert psnr(cpu, gpu) >= 40.0


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_half_precision_stays_close_to_fp32(photo, precision):
    full = _pixels(Stylizer.from_file("starry_night", device="cuda")(photo))
    half = _pixels(Stylizer.from_file("starry_night", device="cuda", precision=precision)(photo))
    assert psnr(full, half) >= 30.0


def test_compiled_model_paints_the_same(photo):
    eager = _pixels(Stylizer.from_file("classics", device="cuda", strength=0.7)(photo))
    compiled = _pixels(Stylizer.from_file("classics", device="cuda", strength=0.7, compile=True)(photo))
    assert psnr(eager, compiled) >= 40.0


def test_gpu_tiles_match_the_whole_image():
    photo = Image.fromarray(textured_pixels(480, 640, seed=4).numpy())  # 5 × 7 tiles of 96 px
    whole = _pixels(Stylizer.from_file("great_wave", device="cuda", tile=0)(photo))
    tiled = _pixels(Stylizer.from_file("great_wave", device="cuda", tile=96)(photo))
    assert_seamless(whole, tiled, 96)


def test_training_runs_on_the_gpu(tmp_path, photo_dir):
    from brushwork.models import GeneratorConfig
    from brushwork.training.config import TrainConfig
    from brushwork.training.trainer import train

    from .conftest import make_photo

    style = make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)
    config = TrainConfig(content=str(photo_dir), style=str(style), output=str(tmp_path / "m.safetensors"),
                         run_dir=str(tmp_path / "run"), iterations=3, batch_size=2, crop=48, style_size=48,
                         device="cuda", generator=GeneratorConfig(channels=8, res_blocks=1))  # fmt: skip
    result = train(config, progress=False)
    assert result.steps == 3 and result.model_path.is_file()
