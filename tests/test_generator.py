import pytest
import torch

from brushwork.errors import BrushworkError
from brushwork.models import Generator, GeneratorConfig, JohnsonNet, build_generator
from brushwork.training.discriminator import MultiScaleDiscriminator


def random_generator(std=0.2, **options):
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, **options))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=std)
    return generator.eval()


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (17, 33), (32, 32), (63, 40)])
def test_generator_keeps_any_size_aligned_with_the_photo(size):
    generator = random_generator()
    photo = torch.rand(2, 3, *size)
    out = generator(photo)
    assert out.shape == (2, 3, *size) and torch.isfinite(out).all()
    # With the painted change switched off, what is left is the gated photo path, pixel for
    # pixel: the padding to a multiple of 8 is cut off again and nothing is shifted.
    with torch.no_grad():
        generator.to_rgb.weight.zero_()
        generator.to_rgb.bias.zero_()
        generator.photo_gain.fill_(0.4)
    assert torch.allclose(generator(photo), 0.5 + 0.4 * (photo - 0.5), atol=1e-6)
    assert not torch.allclose(out, 0.5 + 0.4 * (photo - 0.5), atol=1e-3)  # the random network did paint


def test_untrained_generator_starts_from_a_blank_canvas_and_does_not_change_input():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, photo_gain=0.0))
    photo = torch.rand(1, 3, 13, 21) * 0.9 + 0.05
    before = photo.clone()
    out = generator(photo)
    assert torch.equal(photo, before)
    assert torch.allclose(out, torch.full_like(photo, 0.5))


def test_untrained_generator_starts_from_the_photo_scaled_by_its_start_gain():
    assert GeneratorConfig().photo_gain == 0.4
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, photo_gain=0.3))
    photo = torch.rand(1, 3, 13, 21)
    assert torch.allclose(generator(photo), 0.5 + 0.3 * (photo - 0.5), atol=1e-6)


def test_the_output_cannot_paint_a_two_pixel_pattern():
    # The change is made at 1/2 resolution and enlarged bilinearly: a checkerboard at the
    # pixel period (the hatching a depth-to-space output drew under the pretrained loss) is out of reach.
    generator = random_generator(photo_gain=0.0)
    with torch.no_grad():
        change = generator(torch.full((1, 3, 32, 32), 0.5)) - 0.5
    y, x = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    sign = ((x + y) % 2 * 2 - 1).float()
    checkerboard = (change * sign).mean(dim=(2, 3)).abs().sum() / change.abs().mean(dim=(2, 3)).sum()
    assert change.abs().mean() > 0.01 and checkerboard < 0.02


def test_conditioned_generator_needs_and_uses_cond():
    generator = random_generator(std=0.1, cond_dim=3)
    photo = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError):
        generator(photo)
    a = generator(photo, torch.tensor([[1.0, 1.0, 0.0]]))
    b = generator(photo, torch.tensor([[1.0, 0.0, 1.0]]))
    assert not torch.allclose(a, b)


def test_strength_zero_is_the_photo_and_strength_scales_the_change():
    generator = random_generator(std=0.1, cond_dim=2)
    photo = torch.rand(1, 3, 16, 16) * 0.6 + 0.2
    assert torch.equal(generator(photo, torch.tensor([[0.0, 1.0]])), photo)
    full, half = (generator(photo, torch.tensor([[s, 1.0]])) for s in (1.0, 0.5))
    assert (full - photo).abs().mean() > 0.01
    # The layers see S too, so half strength is not exactly half the change, but it is smaller.
    assert (half - photo).abs().mean() < (full - photo).abs().mean()


def test_photos_off_strength_one_train_only_what_strength_one_does_not_use():
    generator = random_generator(std=0.1, cond_dim=3)
    photo, cond = torch.rand(2, 3, 16, 16), torch.tensor([[0.4, 1.0, 0.0], [1.3, 0.3, 0.7]])
    out = torch.func.functional_call(generator, generator.off_strength_parameters(), (photo, cond))
    assert torch.equal(out, generator(photo, cond))
    out.sum().backward()
    trained = {name for name, p in generator.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert trained and all(name.endswith("to_scale_shift.weight") for name in trained)
    for name, p in generator.named_parameters():
        if name in trained:  # columns 0-1 take w (used at S = 1), 2-3 take (S − 1)·w
            assert p.grad[:, :2].abs().sum() == 0 and p.grad[:, 2:].abs().sum() > 0
    # So changing those weights leaves strength 1 as it was.
    at_one = torch.tensor([[1.0, 0.2, 0.8]])
    before = generator(photo, at_one.expand(2, 3))
    with torch.no_grad():
        for name in trained:
            generator.get_parameter(name)[:, 2:] += 0.3
    assert torch.allclose(generator(photo, at_one.expand(2, 3)), before, atol=1e-6)
    assert not torch.allclose(generator(photo, cond), out)


def test_generator_is_local_given_a_thumbnail_so_tiles_can_match_whole_image():
    # The output at a pixel far from a change must not depend on that change: image-wide
    # statistics come only from the thumbnail, which the tiler passes to every tile.
    generator = random_generator()
    photo = torch.rand(1, 3, 128, 128)
    changed = photo.clone()
    changed[:, :, 100:, 100:] = 0
    small = torch.rand(1, 3, 16, 16)
    a, b = generator(photo, thumbnail=small), generator(changed, thumbnail=small)
    assert torch.allclose(a[:, :, :40, :40], b[:, :, :40, :40])
    # Guard: with its own statistics (no thumbnail given) the far pixels do change.
    assert not torch.allclose(generator(photo)[:, :, :40, :40], generator(changed)[:, :, :40, :40])


def test_thumbnail_normalisation_is_instance_normalisation_on_small_images():
    # A training crop is its own thumbnail: every layer's statistics are the crop's, as in
    # plain instance norm. Checked on the first layer against torch's instance norm.
    generator = random_generator()
    photo = torch.rand(2, 3, 40, 56)
    assert torch.allclose(generator(photo), generator(photo, thumbnail=photo.clone()), atol=1e-5)  # two passes, same stats
    from brushwork.models.layers import NormStatistics

    layer = generator.encode[0]
    conv = layer.conv(generator.input_blocks(photo))
    expected = torch.nn.functional.instance_norm(conv) * (1 + layer.affine.scale)[None, :, None, None] + layer.affine.shift[None, :, None, None]
    assert torch.allclose(layer.affine(conv, NormStatistics()), expected, atol=1e-4)


def test_pixel_noise_is_a_function_of_the_pixel_bytes_alone():
    from brushwork.models.layers import pixel_noise

    pixels = torch.randint(0, 256, (1, 3, 32, 48), generator=torch.Generator().manual_seed(0)) / 255  # as decoded from a file
    blocks = torch.nn.functional.pixel_unshuffle(pixels, 2)
    noise = pixel_noise(blocks, 4)
    assert noise.shape == (1, 4, 16, 24)
    assert abs(float(noise.mean())) < 0.05 and noise.std() > 0.5  # centred and spread (uniform: 0, 0.58)
    # The same bytes give the same value wherever they are (so a tile gets the whole image's),
    # and a change below one grey level changes nothing.
    assert torch.equal(pixel_noise(blocks[..., 5:9, 7:20], 4), noise[..., 5:9, 7:20])
    assert torch.equal(pixel_noise(blocks + 0.1 / 255, 4), noise)
    flat = pixel_noise(torch.full((1, 12, 4, 4), 0.5), 4)
    assert torch.equal(flat, flat[..., :1, :1].expand_as(flat))  # a flat area stays flat


@pytest.mark.parametrize("down_kernel, mirrored", [(4, True), (3, False)])
def test_no_border_is_special_with_4x4_downsampling(down_kernel, mirrored):
    # Weights that are their own mirror image (the first layer's across the pixel-unshuffle
    # channels too): the network then paints a mirrored photo as the mirror of its painting,
    # unless some layer reads the left border differently from the right (3×3 stride-2 convs).
    generator = random_generator(noise_channels=0, down_kernel=down_kernel)
    mirror = torch.arange(12).view(3, 2, 2).flip(-1).flatten()  # the 2×2 block's columns swap
    with torch.no_grad():
        for name, p in generator.named_parameters():
            if p.dim() == 4:
                p.copy_((p + p.flip(-1)) / 2)
        first = generator.encode[0].conv.weight
        first.copy_((first + first[:, mirror].flip(-1)) / 2)
    photo = torch.rand(1, 3, 32, 48)
    assert torch.allclose(generator(photo.flip(-1)), generator(photo).flip(-1), atol=1e-5) == mirrored


def test_models_without_noise_channels_still_run():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, noise_channels=0))
    assert generator.encode[0].conv.in_channels == 12
    assert generator(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    with pytest.raises(BrushworkError, match="noise_channels"):
        GeneratorConfig(arch="johnson", noise_channels=2).validate()
    for config, option in ((GeneratorConfig(arch="johnson", down_kernel=4), "down_kernel"), (GeneratorConfig(down_kernel=5), "3 or 4")):
        with pytest.raises(BrushworkError, match=option):
            config.validate()


def test_discriminator_scales():
    discriminator = MultiScaleDiscriminator(scales=3, channels=8)
    outputs = discriminator(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outputs] == [(2, 1, 16, 16), (2, 1, 8, 8), (2, 1, 4, 4)]


def test_johnson_baseline_has_the_papers_size_and_keeps_any_image_size():
    net = build_generator(GeneratorConfig(arch="johnson"))
    assert isinstance(net, JohnsonNet)
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(1.68e6, rel=0.01)  # as Johnson et al.
    small = build_generator(GeneratorConfig(arch="johnson", channels=8, res_blocks=1))
    for h, w in ((37, 53), (16, 16), (9, 30), (1, 1)):
        out = small(torch.rand(2, 3, h, w))
        assert out.shape == (2, 3, h, w)
