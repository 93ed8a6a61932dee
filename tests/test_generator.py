import pytest
import torch
import torch.nn.functional as F

from brushwork.training.config import GeneratorConfig
from brushwork.models import Generator, MultiScaleDiscriminator
from brushwork.models.layers import StyleBankConv


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (17, 33), (32, 32), (63, 40)])
def test_generator_keeps_any_size(size):
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1))
    out = generator(torch.rand(2, 3, *size))
    assert out.shape == (2, 3, *size)
    assert out.min() >= 0 and out.max() <= 1


def test_untrained_gated_generator_starts_from_a_blank_canvas_and_does_not_change_input():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, norm="thumbnail", residual="gated", photo_gain=0.0))
    photo = torch.rand(1, 3, 13, 21) * 0.9 + 0.05
    before = photo.clone()
    out = generator(photo)
    assert torch.equal(photo, before)
    assert torch.allclose(out, torch.full_like(photo, 0.5))
    assert generator.photo_gain is not None and float(generator.photo_gain.detach()) == 0.0


def test_untrained_gated_generator_starts_from_the_photo_scaled_by_its_start_gain():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, norm="thumbnail", residual="gated", photo_gain=0.3))
    photo = torch.rand(1, 3, 13, 21)
    assert torch.allclose(generator(photo), 0.5 + 0.3 * (photo - 0.5), atol=1e-6)


def test_untrained_luma_generator_starts_from_the_photos_grey_shading_scaled_by_its_gain():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, norm="thumbnail", residual="luma", photo_gain=0.4))
    photo = torch.rand(1, 3, 13, 21)
    luminance = 0.299 * photo[:, :1] + 0.587 * photo[:, 1:2] + 0.114 * photo[:, 2:]
    out = generator(photo)
    assert torch.allclose(out, (0.5 + 0.4 * (luminance - 0.5)).expand_as(photo), atol=1e-6)
    assert torch.equal(out[:, 0], out[:, 2])  # the photo's hues do not pass


def test_tanh_output_range_is_smooth_and_strictly_inside_0_1():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, norm="thumbnail", residual="gated", photo_gain=0.0, output_range="tanh"))
    photo = torch.rand(1, 3, 13, 21)
    assert torch.equal(generator(photo), torch.full_like(photo, 0.5))  # grey start, as with the clamp
    with torch.no_grad():
        generator.to_rgb.bias.fill_(1.5)  # past white
    out = generator(photo)
    assert ((out > 0.99) & (out < 1)).all()
    out.sum().backward()
    assert generator.to_rgb.bias.grad.abs().min() > 0  # past the bound, still a true gradient


def test_untrained_generator_with_the_full_photo_path_is_identity():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, residual="full"))
    assert generator.photo_gain is None
    photo = torch.rand(1, 3, 13, 21) * 0.9 + 0.05
    assert torch.allclose(generator(photo), photo, atol=1e-5)


def test_untrained_generator_with_colour_transfer_returns_the_recoloured_photo():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, color_transfer=True, residual="full"))
    generator.colors.set_style([torch.rand(1, 3, 16, 16) * 0.4 + 0.3])
    photo = torch.rand(1, 3, 13, 21)
    assert torch.allclose(generator(photo), generator.colors(photo), atol=1e-5)
    assert not torch.allclose(generator(photo), photo, atol=0.05)


def _checkerboard_energy(stage: str) -> float:
    """How much of a random generator's change is the 2-pixel checkerboard (Nyquist) pattern."""
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, norm="none", residual="full", output_stage=stage))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.2)
    photo = torch.full((1, 3, 32, 32), 0.5)
    with torch.no_grad():
        change = generator.paint(photo, None, None) - photo
    y, x = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    sign = ((x + y) % 2 * 2 - 1).float()
    return float((change * sign).mean(dim=(2, 3)).abs().sum() / change.abs().mean(dim=(2, 3)).sum())


def test_bilinear_output_stage_cannot_paint_a_two_pixel_pattern_that_depth_to_space_can():
    assert _checkerboard_energy("bilinear") < 0.1 * _checkerboard_energy("shuffle")


def test_conditioned_generator_needs_and_uses_cond():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, cond_dim=2))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.1)
    photo = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError):
        generator(photo)
    a = generator(photo, torch.tensor([[1.0, 0.0]]))
    b = generator(photo, torch.tensor([[0.0, 1.0]]))
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("residual, output_range", [("full", "clamp"), ("gated", "clamp"), ("gated", "tanh")])
def test_strength_zero_is_the_photo_and_strength_scales_the_change(residual, output_range):
    config = GeneratorConfig(channels=8, res_blocks=1, cond_dim=2, norm="thumbnail", residual=residual, output_range=output_range)
    generator = Generator(config).eval()
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.1)
    photo = torch.rand(1, 3, 16, 16) * 0.6 + 0.2
    assert torch.equal(generator(photo, torch.tensor([[0.0, 1.0]])), photo)
    full, half = (generator(photo, torch.tensor([[s, 1.0]])) for s in (1.0, 0.5))
    assert (full - photo).abs().mean() > 0.01
    # The layers see S too, so half strength is not exactly half the change, but it is smaller.
    assert (half - photo).abs().mean() < (full - photo).abs().mean()


@pytest.mark.parametrize("per_style_blocks", [False, True])
def test_photos_off_strength_one_train_only_what_strength_one_does_not_use(per_style_blocks):
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, cond_dim=3, per_style_blocks=per_style_blocks))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.1)
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


def test_style_bank_conv_convolves_each_image_with_its_styles_blended_filters():
    torch.manual_seed(0)
    conv = StyleBankConv(5, 4, banks=3)
    banks, biases = conv.weight.unflatten(0, (3, 4)), conv.bias.unflatten(0, (3, 4))
    assert torch.equal(banks[0], banks[2])  # the banks start equal
    with torch.no_grad():
        conv.weight.normal_()
        conv.bias.normal_()
    images = torch.rand(3, 5, 11, 14)
    w = torch.tensor([[0.0, 1.0, 0.0], [0.3, 0.0, 0.7], [0.5, 0.5, 0.0]])
    got = conv(images, w)
    for image, weights, out in zip(images, w, got):
        padded = F.pad(image[None], (1, 1, 1, 1), mode="replicate")
        weight = torch.einsum("k,koihw->oihw", weights, banks)
        assert torch.allclose(out, F.conv2d(padded, weight, weights @ biases)[0], atol=1e-5)
        assert torch.allclose(conv(image[None], weights[None])[0], out, atol=1e-5)  # a batch of one mix: one conv


def test_model_of_several_styles_has_its_own_residual_filters_per_style_and_old_files_load_shared():
    generator = Generator(GeneratorConfig(channels=8, res_blocks=2, cond_dim=4, per_style_blocks=True))  # [S, w1..w3]
    banked = [name for name, module in generator.named_modules() if isinstance(module, StyleBankConv)]
    assert len(banked) == 4 and all(name.startswith("blocks.") for name in banked)  # 2 blocks × 2 convs
    assert all(generator.get_submodule(name).weight.shape == (3 * 32, 32, 3, 3) for name in banked)
    assert not GeneratorConfig.from_saved({"version": 2, "cond_dim": 4}).per_style_blocks


@pytest.mark.parametrize("options", [{"norm": "thumbnail"}, {"norm": "none", "color_transfer": True}])
def test_generator_is_local_given_a_thumbnail_so_tiles_can_match_whole_image(options):
    # The output at a pixel far from a change must not depend on that change: image-wide
    # statistics come only from the thumbnail, which the tiler passes to every tile.
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, **options))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.2)
    photo = torch.rand(1, 3, 128, 128)
    changed = photo.clone()
    changed[:, :, 100:, 100:] = 0
    small = torch.rand(1, 3, 16, 16)
    a, b = generator(photo, thumbnail=small), generator(changed, thumbnail=small)
    assert torch.allclose(a[:, :, :40, :40], b[:, :, :40, :40])
    # Guard: with its own statistics (no thumbnail given) the far pixels do change.
    assert not torch.allclose(generator(photo)[:, :, :40, :40], generator(changed)[:, :, :40, :40])


def test_thumbnail_normalisation_is_instance_normalisation_on_small_images():
    # A training crop is its own thumbnail: the statistics are the crop's, as in plain instance norm.
    torch.manual_seed(0)
    thumb = Generator(GeneratorConfig(channels=8, res_blocks=1, norm="thumbnail"))
    plain = Generator(GeneratorConfig(channels=8, res_blocks=1, norm="instance"))
    for p in thumb.parameters():
        torch.nn.init.normal_(p, std=0.2)
    plain.load_state_dict(thumb.state_dict())
    photo = torch.rand(2, 3, 40, 56)
    assert torch.allclose(thumb(photo), plain(photo), atol=1e-5)
    assert torch.allclose(thumb(photo), thumb(photo, thumbnail=photo.clone()), atol=1e-5)  # two passes, same stats


def test_discriminator_scales():
    discriminator = MultiScaleDiscriminator(scales=3, channels=8)
    outputs = discriminator(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outputs] == [(2, 1, 16, 16), (2, 1, 8, 8), (2, 1, 4, 4)]


def test_johnson_baseline_has_the_papers_size_and_keeps_any_image_size():
    from brushwork.models import JohnsonNet, build_generator

    net = build_generator(GeneratorConfig(arch="johnson"))
    assert isinstance(net, JohnsonNet)
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(1.68e6, rel=0.01)  # as Johnson et al.
    small = build_generator(GeneratorConfig(arch="johnson", channels=8, res_blocks=1))
    for h, w in ((37, 53), (16, 16), (9, 30), (1, 1)):
        out = small(torch.rand(2, 3, h, w))
        assert out.shape == (2, 3, h, w) and 0 <= out.min() and out.max() <= 1
