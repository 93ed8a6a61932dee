import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.inference import tiling
from brushwork.evaluation.metrics import psnr
from brushwork.inference.modelfile import save_model
from brushwork.models import Generator, GeneratorConfig
from brushwork.inference.stylize import Stylizer
from brushwork.models.thumbnail import thumbnail
from brushwork.inference.tiling import DEFAULT_MARGIN, plan_tiles, stylize_uint8


def textured_pixels(height, width, seed=0):
    """A photo-like uint8 image: smooth gradients plus fine noise, so every tile has detail."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 7.0 + y / 11.0)], axis=-1)
    image = np.clip(base + rng.normal(0, 0.08, base.shape), 0, 1)
    return torch.from_numpy((image * 255).astype(np.uint8))


def busy_generator(seed=0, **options):
    """A default-size generator (with `options`) with random weights strong enough to change
    the picture a lot."""
    torch.manual_seed(seed)
    generator = Generator(GeneratorConfig(**options))
    for name, p in generator.named_parameters():
        if name.endswith("weight") and p.ndim == 4:
            torch.nn.init.normal_(p, std=(2.0 / (p.shape[1] * 9)) ** 0.5)  # He init
    torch.nn.init.normal_(generator.to_rgb.weight, std=0.02)
    generator.photo_gain.data.fill_(0.5)
    return generator.eval()


def assert_seamless(whole, tiled, tile, margin=DEFAULT_MARGIN, multiple=8, min_psnr=40.0):
    """A tiled picture (H×W×3 uint8) against the whole-image pass: overall, and on 4-px strips
    across every seam, where a tile that read too little context would differ first. The
    image must be several tiles wide, so that some tiles read only part of it: a tile whose
    context is the whole image would match by construction."""
    whole, tiled = (image if isinstance(image, torch.Tensor) else torch.from_numpy(np.array(image)) for image in (whole, tiled))
    height, width = whole.shape[:2]
    parts = list(plan_tiles(height, width, tile, margin, multiple))
    assert any(p.context[2] - p.context[0] < height for p in parts), "every tile reads every row"
    assert any(p.context[3] - p.context[1] < width for p in parts), "every tile reads every column"
    rows = sorted({p.core[0] for p in parts} - {0})
    columns = sorted({p.core[1] for p in parts} - {0})

    def seams(image):
        return torch.cat([image[r - 2 : r + 2].reshape(-1, 3) for r in rows] + [image[:, c - 2 : c + 2].reshape(-1, 3) for c in columns])

    assert psnr(whole, tiled) >= min_psnr
    assert psnr(seams(whole), seams(tiled)) >= min_psnr


def sharing_thumbnail(generator, pixels):
    """The generator as the Stylizer runs it on tiles: every tile gets the whole image's thumbnail."""
    small = thumbnail(pixels.permute(2, 0, 1).unsqueeze(0))
    return lambda tile: generator(tile, thumbnail=small)


@pytest.mark.parametrize(
    "height, width, tile, margin",
    [(100, 130, 32, 16), (64, 64, 64, 0), (9, 300, 40, 8), (1, 1, 8, 8), (6000, 8000, 1024, 64), (1030, 2051, 512, 60)],
)
def test_tiles_cover_the_image_once_on_the_stride_grid(height, width, tile, margin):
    covered = np.zeros((height, width), dtype=int)
    for part in plan_tiles(height, width, tile, margin, multiple=8):
        top, left, bottom, right = part.core
        covered[top:bottom, left:right] += 1
        c_top, c_left, c_bottom, c_right = part.context
        assert c_top <= top and c_left <= left and c_bottom >= bottom and c_right >= right
        assert 0 <= c_top and 0 <= c_left and c_bottom <= height and c_right <= width
        assert c_top % 8 == 0 and c_left % 8 == 0  # same pixel grid as the whole image
        margin8 = -(-margin // 8) * 8
        assert c_top <= max(0, top - margin8) and c_left <= max(0, left - margin8)
        assert c_bottom >= min(height, bottom + margin8) and c_right >= min(width, right + margin8)
    assert (covered == 1).all()


def test_tiles_of_a_large_image_share_few_input_shapes():
    # Each new input shape costs the convolution library a set-up pass.
    shapes = {
        (-(c[2] - c[0]) // 8, -(c[3] - c[1]) // 8)
        for c in (part.context for part in plan_tiles(6000, 8000, 1024, 64))
    }
    assert len(shapes) <= 4


def test_tiled_output_matches_whole_image():
    generator = busy_generator()
    pixels = textured_pixels(400, 520)
    with torch.inference_mode():
        whole = stylize_uint8(generator, pixels, tile=0)
        tiled = stylize_uint8(sharing_thumbnail(generator, pixels), pixels, tile=128)
    assert (whole.float() - pixels.float()).abs().mean() > 10  # the generator really changes the image
    assert_seamless(whole, tiled, 128)


def test_small_margin_shows_seams_so_the_margin_matters():
    # Guards the test above: without context, tiles visibly disagree with the whole image.
    generator = busy_generator()
    pixels = textured_pixels(256, 256)
    with torch.inference_mode():
        whole = stylize_uint8(generator, pixels, tile=0)
        tiled = stylize_uint8(sharing_thumbnail(generator, pixels), pixels, tile=64, margin=0)
    assert psnr(whole, tiled) < 40.0


def test_stylizer_tiles_share_the_whole_images_statistics(tmp_path):
    # Left half red, right half blue: each tile alone has very different statistics (colours,
    # and so features), so tiles that took their own would disagree with the whole-image pass.
    generator = busy_generator()
    path = tmp_path / "colours.safetensors"
    save_model(path, generator, {"style_name": "colours"})
    pixels = textured_pixels(400, 520).numpy() // 4
    pixels[:, :260, 0] += 150
    pixels[:, 260:, 2] += 150
    photo = Image.fromarray(pixels)
    whole = torch.from_numpy(np.array(Stylizer.from_file(path, device="cpu", tile=0)(photo)))
    stylizer = Stylizer.from_file(path, device="cpu", tile=128)
    tiled = torch.from_numpy(np.array(stylizer(photo)))
    assert (whole.float() - torch.from_numpy(pixels).float()).abs().mean() > 10
    assert_seamless(whole, tiled, 128)
    # Guard: tiles that took their own statistics (no shared thumbnail) do not match.
    engine = stylizer.engine
    stylizer.engine = lambda tile, thumbnail=None, cond=None: engine(tile)
    stylizer.engine.uses_thumbnail = False  # so the Stylizer passes no thumbnail
    own = torch.from_numpy(np.array(stylizer(photo)))
    assert psnr(whole, own) < 40.0


def test_stylizer_tiles_large_images_automatically(tiny_model, monkeypatch):
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    calls = []
    engine = stylizer.engine

    def counting(images, *source):
        calls.append(tuple(images.shape))
        return engine(images, *source)

    counting.uses_thumbnail = engine.uses_thumbnail
    stylizer.engine = counting
    photo = Image.fromarray(textured_pixels(96, 80).numpy())
    stylizer(photo)
    assert len(calls) == 1  # small: one pass
    monkeypatch.setattr(tiling, "AUTO_TILE_PIXELS", 64 * 64)
    monkeypatch.setattr(tiling, "DEFAULT_TILE", 32)
    calls.clear()
    stylizer(photo)
    assert len(calls) == 9  # 3 × 3 tiles of 32 px
    stylizer.tile = 0
    calls.clear()
    stylizer(photo)
    assert len(calls) == 1  # --tile 0 never tiles


def test_a_gpu_runs_whole_what_fits_in_half_its_free_memory(monkeypatch):
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (80 * 2**30, 80 * 2**30))
    roomy = tiling.auto_tile_pixels(cuda)
    assert roomy == 40 * 2**30 // tiling.BYTES_PER_PIXEL  # 8000×6000 runs whole on an 80 GB card
    assert tiling.resolve_tile(6000, 8000, None, roomy) == 0
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (2**30, 4 * 2**30))
    assert tiling.auto_tile_pixels(cuda) == tiling.AUTO_TILE_PIXELS  # never below the CPU's limit
    assert tiling.auto_tile_pixels(torch.device("cpu")) == tiling.AUTO_TILE_PIXELS
    assert tiling.resolve_tile(6000, 8000, None, tiling.AUTO_TILE_PIXELS) == tiling.DEFAULT_TILE


def test_tile_option_gives_the_same_picture(tiny_model):
    photo = Image.fromarray(textured_pixels(288, 352, seed=3).numpy())  # 9 × 11 tiles of 32 px
    whole = Stylizer.from_file(tiny_model, device="cpu", tile=0)(photo)
    tiled = Stylizer.from_file(tiny_model, device="cpu", tile=32)(photo)
    assert_seamless(whole, tiled, 32)


def test_whole_image_normalising_models_warn_when_tiled(tmp_path):
    from brushwork.inference.modelfile import save_model

    from brushwork.models import build_generator

    generator = build_generator(GeneratorConfig(arch="johnson", channels=8, res_blocks=1))  # instance norm per tile
    path = tmp_path / "norm.safetensors"
    save_model(path, generator, {"style_name": "norm"})
    photo = Image.fromarray(textured_pixels(64, 64).numpy())
    with pytest.warns(UserWarning, match="normalises over the whole image"):
        Stylizer.from_file(path, device="cpu", tile=32)(photo)


def test_bf16_precision_stays_close_to_fp32(tiny_model):
    photo = Image.fromarray(textured_pixels(64, 96).numpy())
    full = np.asarray(Stylizer.from_file(tiny_model, device="cpu")(photo))
    half = np.asarray(Stylizer.from_file(tiny_model, device="cpu", precision="bf16")(photo))
    assert psnr(torch.from_numpy(full.copy()), torch.from_numpy(half.copy())) >= 30.0


def test_cli_tile_option(tiny_model, tmp_path, capsys):
    from brushwork.cli import main

    photo = tmp_path / "photo.png"
    Image.fromarray(textured_pixels(288, 320, seed=5).numpy()).save(photo)
    assert main(["stylize", str(tiny_model), str(photo), "-o", str(tmp_path / "whole.png"), "--tile", "0"]) == 0
    assert main(["stylize", str(tiny_model), str(photo), "-o", str(tmp_path / "tiled.png"), "--tile", "32"]) == 0
    whole, tiled = (torch.from_numpy(np.array(Image.open(tmp_path / name))) for name in ("whole.png", "tiled.png"))
    assert whole.shape == tiled.shape == (288, 320, 3)
    assert_seamless(whole, tiled, 32)
