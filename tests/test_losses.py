import pytest
import torch

from brushwork.perceptual.losses import (
    content_loss, gram_distance, gram_matrix, lost_contrast, mean_grams, random_directions, sliced_wasserstein_loss,
    style_loss, tonal_layout, tone_loss, unexplained_color,
)  # fmt: skip
from brushwork.perceptual.objective import PerceptualObjective
from brushwork.training.discriminator import discriminator_loss, generator_adversarial_loss


def test_gram_matrix_hand_computed():
    # One sample, C=2, H=1, W=2: F = [[1, 2], [3, 4]]; F Fᵀ = [[5, 11], [11, 25]]; /(C·H·W)=4.
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    assert torch.allclose(gram_matrix(features), expected)


def test_gram_matrix_is_per_sample_and_symmetric():
    features = torch.randn(3, 4, 5, 6)
    grams = gram_matrix(features)
    assert grams.shape == (3, 4, 4)
    assert torch.allclose(grams, grams.transpose(1, 2))
    assert torch.allclose(grams[1], gram_matrix(features[1:2])[0])


def test_content_loss_known_value_and_scale():
    a = torch.zeros(1, 2, 2, 2)
    b = torch.ones(1, 2, 2, 2) * 3
    assert content_loss(a, b).item() == 9.0  # mean of 3²
    assert content_loss(a, b, scale=9.0).item() == 1.0
    assert content_loss(b, b).item() == 0.0


def test_style_loss_weights_and_broadcast():
    g = {"a": torch.ones(2, 2, 2), "b": torch.zeros(2, 3, 3)}
    targets = {"a": torch.zeros(1, 2, 2), "b": torch.full((1, 3, 3), 2.0)}
    # layer a: MSE 1; layer b: MSE 4.
    assert style_loss(g, targets, {"a": 1.0, "b": 1.0}).item() == 5.0
    assert style_loss(g, targets, {"a": 2.0, "b": 0.5}).item() == 4.0
    assert style_loss(g, targets, {"a": 1.0}).item() == 1.0


def test_hinge_losses_known_values():
    real = [torch.full((1, 1, 2, 2), 2.0)]  # beyond the margin: no loss
    fake = [torch.full((1, 1, 2, 2), -2.0)]
    assert discriminator_loss(real, fake).item() == 0.0
    assert discriminator_loss([torch.zeros(1, 1, 2, 2)], [torch.zeros(1, 1, 2, 2)]).item() == 2.0
    assert generator_adversarial_loss([torch.full((1, 1, 2, 2), 0.5)]).item() == -0.5


def test_relative_layer_weights_divide_by_the_targets_mean_square():
    from brushwork.perceptual.losses import relative_layer_weights

    targets = {"a": torch.full((1, 2, 2), 2.0), "b": torch.full((1, 3, 3), 0.5)}
    weights = relative_layer_weights(targets)
    assert weights["a"].item() == pytest.approx(0.25) and weights["b"].item() == pytest.approx(4.0)
    assert relative_layer_weights(targets, {"a": 3.0}) == {"a": pytest.approx(0.75)}
    # With these weights, a Gram off by 10 % in every entry costs 0.01 in every layer.
    grams = {k: v * 1.1 for k, v in targets.items()}
    assert style_loss(grams, targets, weights).item() == pytest.approx(0.02, rel=1e-4)


def test_per_sample_weights_scale_each_samples_share():
    grams = {"a": torch.stack([torch.zeros(2, 2), torch.ones(2, 2)])}
    target = {"a": torch.zeros(1, 2, 2)}
    weights = {"a": 1.0}
    assert style_loss(grams, target, weights) == pytest.approx(0.5)
    assert style_loss(grams, target, weights, torch.tensor([1.0, 0.0])) == pytest.approx(0.0)
    assert style_loss(grams, target, weights, torch.tensor([0.0, 2.0])) == pytest.approx(1.0)
    fake = [torch.tensor([[[[-3.0]]], [[[1.0]]]])]  # D's logits for two outputs
    assert generator_adversarial_loss(fake, sample_weights=torch.tensor([0.0, 1.0])) == pytest.approx(-0.5)


class _Channels(torch.nn.Module):
    """A stand-in feature network: "x" is the image itself, "y" its 2×2 average."""

    min_size = 2

    def forward(self, images):
        return {"x": images, "y": torch.nn.functional.avg_pool2d(images, 2)}


def test_the_tone_term_sees_where_light_and_dark_are_not_how_bright():
    torch.manual_seed(0)
    photo = torch.rand(2, 3, 32, 32)
    layout = tonal_layout(torch.nn.functional.avg_pool2d(photo, 8))
    darker = tonal_layout(torch.nn.functional.avg_pool2d(0.2 + 0.3 * photo, 8))  # dimmed, less contrast
    inverted = tonal_layout(torch.nn.functional.avg_pool2d(1 - photo, 8))
    flat = tonal_layout(torch.full((2, 3, 4, 4), 0.1))
    assert tone_loss(darker, layout).item() == pytest.approx(0.0, abs=1e-3)
    assert tone_loss(inverted, layout).item() == pytest.approx(2.0, abs=1e-3)
    assert tone_loss(flat, layout).item() == pytest.approx(1.0, abs=1e-5)  # a black picture keeps no scene
    shuffled = tonal_layout(torch.nn.functional.avg_pool2d(photo[..., torch.randperm(32)], 8))
    assert 0.3 < tone_loss(shuffled, layout).item() < 1.7


def test_the_colour_mapping_term_tells_a_recoloured_photo_from_colour_clouds():
    torch.manual_seed(0)
    photo = torch.rand(2, 3, 16, 16)
    r, g, b = photo.unbind(1)
    recoloured = torch.stack([0.2 + 0.5 * g * g, 1 - r, 0.3 * r + 0.6 * b * g], dim=1)  # one colour for each colour
    y, x = torch.meshgrid(torch.linspace(0, 3, 16), torch.linspace(0, 3, 16), indexing="ij")
    cloud = torch.stack([torch.sin(x + y), torch.cos(2 * x), torch.sin(3 * y)])[None]  # colour where, not what
    clouded = (0.5 * photo + 0.5 * (0.5 + 0.5 * cloud)).clamp(0, 1)
    assert unexplained_color(recoloured, photo).item() < 1e-3
    assert unexplained_color(photo, photo).item() < 1e-3
    assert unexplained_color(clouded, photo).item() > 0.5
    assert unexplained_color(torch.full_like(photo, 0.4), photo).item() == pytest.approx(0.0, abs=1e-6)  # flat: nothing to explain
    # Part clouds, part photo: the share in between, and a gradient that takes the clouds away.
    mixed = (0.8 * photo + 0.2 * (0.5 + 0.5 * cloud)).requires_grad_()
    share = unexplained_color(mixed, photo)
    assert 0.05 < share.item() < unexplained_color(clouded, photo).item()
    share.backward()
    assert (mixed.grad * cloud).sum() > 0  # descending the gradient removes cloud


def test_the_contrast_term_asks_a_one_hue_recolouring_to_keep_the_shapes_apart():
    torch.manual_seed(0)
    photo = torch.rand(2, 3, 16, 16)
    gold = torch.tensor([0.8, 0.65, 0.2])[:, None, None]
    one_hue = (0.5 + 0.1 * (photo.mean(1, keepdim=True) - 0.5)) * gold  # every colour into gold, little apart
    assert lost_contrast(photo, photo).item() == pytest.approx(0.0, abs=1e-6)
    assert lost_contrast(1 - photo, photo).item() == pytest.approx(0.0, abs=1e-6)  # other colours, as far apart
    assert lost_contrast(2 * photo, photo).item() == 0.0  # more contrast than the photo is not penalised
    assert lost_contrast(torch.full_like(photo, 0.4), photo).item() == pytest.approx(1.0, abs=1e-3)  # flat
    assert lost_contrast(one_hue, photo).item() > 0.7
    squeezed = one_hue.clone().requires_grad_()
    lost_contrast(squeezed, photo).backward()
    spread = squeezed - squeezed.mean((2, 3), keepdim=True)
    assert (squeezed.grad * spread.detach()).sum() < 0  # descending the gradient spreads the colours apart


def test_the_objective_is_zero_for_the_painting_and_the_photo_and_relative_otherwise():
    torch.manual_seed(0)
    painting, photo = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 64, 64)
    objective = PerceptualObjective(_Channels(), ("x", "y"), [[painting]], "cpu", content_layer="x")
    # the two feature layers at the image's size and at half size, and the colours at 1/2 and 1/8
    assert set(objective.weights) == {"x", "y", "x@1/2", "y@1/2", "pixels", "pixels@1/8"}
    assert objective.style(objective.features(painting)).item() == pytest.approx(0.0, abs=1e-10)
    target = objective.content_target(photo)
    assert objective.content(objective.features(photo), target).item() == pytest.approx(0.0, abs=1e-3)
    # Relative content error: twice the photo is off by the photo's own mean square, i.e. 1;
    # its tonal layout is the photo's (light and dark in the same places).
    assert objective.content(objective.features(2 * photo), target).item() == pytest.approx(1.0, abs=1e-3)
    # Calibrated on the photo, each layer's distance is 1 for the photo itself (same directions).
    objective.calibrate(photo, torch.Generator().manual_seed(3))
    distances = objective.layer_distances(objective.features(photo), rng=torch.Generator().manual_seed(3))
    assert {k: v.item() for k, v in distances.items()} == pytest.approx(dict.fromkeys(objective.weights, 1.0))
    objective.weights["y"] = 2.0
    style = objective.style(objective.features(photo), rng=torch.Generator().manual_seed(3))
    assert style.item() == pytest.approx(7.0)


def test_the_colour_layer_can_be_left_out():
    painting = torch.rand(1, 3, 8, 8)
    objective = PerceptualObjective(_Channels(), ("x",), [[painting]], "cpu", color_weight=0.0)
    assert list(objective.weights) == ["x", "x@1/2"]


def test_sliced_wasserstein_of_a_shift_is_the_squared_projected_shift():
    points = torch.randn(1, 50, 2)
    axes = torch.eye(2)  # directions along x and y: the projections are the coordinates
    assert sliced_wasserstein_loss(points, points[0], axes).item() == pytest.approx(0.0, abs=1e-12)
    shifted = points + torch.tensor([1.0, 2.0])
    # Along x every quantile moves by 1, along y by 2: (1² + 2²) / 2.
    assert sliced_wasserstein_loss(shifted, points[0], axes).item() == pytest.approx(2.5, rel=1e-5)


def test_sliced_wasserstein_ignores_order_and_compares_quantiles_across_counts():
    points = torch.randn(1, 40, 3)
    directions = random_directions(3, 16, torch.Generator().manual_seed(0))
    shuffled = points[:, torch.randperm(40)]
    assert sliced_wasserstein_loss(shuffled, points[0], directions).item() == pytest.approx(0.0, abs=1e-12)
    doubled = torch.cat([points[0], points[0]])  # the same distribution, twice the samples
    assert sliced_wasserstein_loss(points, doubled, directions).item() == pytest.approx(0.0, abs=1e-12)
    # One distance per image of the batch.
    far = torch.stack([points[0], points[0] + 3])
    distances = sliced_wasserstein_loss(far, points[0], directions)
    assert distances.shape == (2,) and distances[0] == 0 and distances[1] > 1


def test_random_directions_are_unit_vectors():
    directions = random_directions(5, 7, torch.Generator().manual_seed(1))
    assert directions.shape == (5, 7)
    assert torch.allclose(directions.norm(dim=0), torch.ones(7))


def test_gram_distance_is_relative_per_layer():
    features = {"a": torch.rand(1, 4, 6, 6), "b": torch.rand(1, 2, 3, 3)}
    targets = mean_grams([features, features], ("a", "b"))
    assert gram_distance(features, targets) == pytest.approx(0.0, abs=1e-12)
    # Twice the features: every Gram is 4× its target, (4 − 1)² = 9 relative error per layer.
    assert gram_distance({k: 2 * v for k, v in features.items()}, targets) == pytest.approx(9.0, rel=1e-5)
