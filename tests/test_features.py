"""Tests for brushwork.perceptual.vgg: layout, random backbone, weight loading, VGGFeatures.

Nothing here downloads or reads a real torch.hub cache: an autouse fixture points the
hub dir at tmp_path and sets BRUSHWORK_OFFLINE=1. The "ImageNet" file is made locally
with random values in torchvision's vgg19 state-dict layout.
"""

import math
import os
import socket
import warnings

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from brushwork.perceptual import vgg as F
from brushwork.errors import BrushworkError

# state_dict_checksum(random_vgg19_state_dict()) for RANDOM_SEED=20161; it must never
# change, or every model trained on the random backbone silently changes its losses.
RANDOM_CHECKSUM = "e41b30e9b5d926b8627dbb676556f72f09ad883e929d645d4461f49dacb56a2d"
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BRUSHWORK_VGG_WEIGHTS", raising=False)
    monkeypatch.setenv("BRUSHWORK_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture(scope="session")
def fake_imagenet(tmp_path_factory):
    """(dir, state dict) with vgg19.pth and vgg19.safetensors holding random values."""
    with torch.device("meta"):  # layout only: no 140M-parameter init
        layout = torchvision.models.vgg19(weights=None).state_dict()
    gen = torch.Generator().manual_seed(0)
    # Conv layers plus the classifier biases (which must be ignored); the ~500 MB of
    # classifier weights are left out to keep the test fast.
    sd = {
        k: torch.randn(v.shape, generator=gen) * 0.05
        for k, v in layout.items()
        if k.startswith("features.") or k.endswith(".bias")
    }
    root = tmp_path_factory.mktemp("weights")
    torch.save(sd, root / "vgg19.pth")
    save_file(sd, str(root / "vgg19.safetensors"))
    return root, sd


@pytest.fixture(scope="module")
def random_features():
    return F.VGGFeatures(LAYERS, backbone="random")


def conv_keys():
    return list(F._CONV_SHAPES)


def test_layer_mapping_matches_torchvision():
    with torch.device("meta"):
        tv = torchvision.models.vgg19(weights=None)
    kinds = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}
    assert list(F.VGG19_LAYERS.values()) == list(range(len(tv.features))) == list(range(37))
    for name, index in F.VGG19_LAYERS.items():
        assert isinstance(tv.features[index], kinds[name[:4]]), name
    assert F.VGG19_LAYERS["relu4_2"] == 22 and F.VGG19_LAYERS["relu5_4"] == 35
    assert F.VGG19_CHANNELS["conv3_1"] == tv.features[10].out_channels == 256
    tv_convs = {k: tuple(v.shape) for k, v in tv.state_dict().items() if k.startswith("features.")}
    assert list(tv_convs.items()) == list(F._CONV_SHAPES.items())
    weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
    assert weights.url == F.IMAGENET_WEIGHTS_URL
    assert weights.url.endswith("/" + F.IMAGENET_WEIGHTS_FILENAME)


def test_random_weights_deterministic_and_pinned():
    a = F.random_vgg19_state_dict()
    F._random_weights.cache_clear()  # regenerate rather than compare with the cache
    b = F.random_vgg19_state_dict()
    assert list(a) == conv_keys()
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == torch.float32 for k in a)
    assert F.state_dict_checksum(a) == RANDOM_CHECKSUM
    assert all(not a[k].any() for k in a if k.endswith(".bias"))
    a["features.0.weight"].zero_()  # callers get their own tensors, not the cache
    assert F.state_dict_checksum(F.random_vgg19_state_dict()) == RANDOM_CHECKSUM


def test_random_weights_he_std():
    w = F.random_vgg19_state_dict(upto="conv3_1")["features.10.weight"]
    assert w.shape == (256, 128, 3, 3)
    assert w.std().item() == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.01)
    assert abs(w.mean().item()) < 1e-3


def test_truncated_generation_is_prefix_of_full():
    full = F.random_vgg19_state_dict()
    part = F.random_vgg19_state_dict(upto="relu2_1")
    assert list(part) == conv_keys()[:6]
    assert all(torch.equal(part[k], full[k]) for k in part)
    other = F.random_vgg19_state_dict(seed=F.RANDOM_SEED + 1, upto="conv1_1")
    assert not torch.equal(other["features.0.weight"], part["features.0.weight"])


def test_checksum_ignores_key_order():
    sd = F.random_vgg19_state_dict(upto="conv1_2")
    assert F.state_dict_checksum(dict(reversed(sd.items()))) == F.state_dict_checksum(sd)


def test_vggfeatures_shapes_frozen_and_gradients(random_features):
    m = random_features
    assert m.backbone == "random" and m.layers == LAYERS
    assert m.backbone_id.startswith(f"random-vgg19-pcg64-{F.RANDOM_SEED}-")
    assert len(m.body) == F.VGG19_LAYERS["relu5_1"] + 1  # nothing deeper is built
    assert all(not p.requires_grad for p in m.parameters()) and not m.training
    ref = F.random_vgg19_state_dict(upto="relu5_1")
    assert torch.equal(m.body[19].weight, ref["features.19.weight"])

    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    before = x.detach().clone()
    out = m(x)
    assert list(out) == list(LAYERS)
    sizes = dict(zip(LAYERS, (32, 16, 8, 4, 4, 2)))
    channels = dict(zip(LAYERS, (64, 128, 256, 512, 512, 512)))
    for name, t in out.items():
        assert t.shape == (1, channels[name], sizes[name], sizes[name]), name
    sum(t.square().mean() for t in out.values()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert torch.equal(x.detach(), before)


def test_vggfeatures_tiny_inputs(random_features):
    assert random_features.min_size == 16
    assert random_features(torch.rand(2, 3, 16, 16))["relu5_1"].shape == (2, 512, 1, 1)
    with pytest.raises(BrushworkError, match="8x8 but VGG-19 relu5_1 needs at least 16x16"):
        random_features(torch.rand(1, 3, 8, 8))
    shallow = F.VGGFeatures(["relu4_1"], backbone="random")
    assert shallow.min_size == 8
    assert shallow(torch.rand(1, 3, 8, 8))["relu4_1"].shape == (1, 512, 1, 1)


def test_vggfeatures_keeps_pre_relu_activations():
    m = F.VGGFeatures(["conv1_1", "relu1_1"], backbone="random")
    out = m(torch.rand(1, 3, 16, 16))
    assert (out["conv1_1"] < 0).any()  # an in-place ReLU would have clipped it
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp_min(0))


@pytest.mark.parametrize("name", ["vgg19.pth", "vgg19.safetensors"])
def test_imagenet_file_loads(fake_imagenet, name):
    root, sd = fake_imagenet
    loaded = F.load_imagenet_state_dict(root / name)
    assert list(loaded) == conv_keys()  # classifier keys dropped
    assert all(torch.equal(loaded[k], sd[k]) for k in loaded)
    m = F.VGGFeatures(["relu1_2"], backbone="vgg19", weights_path=str(root / name))
    assert m.backbone == "vgg19" and m.backbone_id.startswith("vgg19-")
    assert torch.equal(m.body[2].weight, sd["features.2.weight"])
    assert m(torch.rand(1, 3, 8, 8))["relu1_2"].shape == (1, 64, 8, 8)


def write_bad_file(tmp_path, kind):
    path = tmp_path / {"corrupt_st": "bad.safetensors"}.get(kind, f"{kind}.pth")
    # expand() views keep these files tiny while their shapes look full-size.
    full = {k: torch.zeros(()).expand(s) for k, s in F._CONV_SHAPES.items()}
    if kind == "linear":
        torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    elif kind in ("corrupt", "corrupt_st"):
        path.write_bytes(os.urandom(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "shape":
        torch.save({**full, "features.0.weight": torch.zeros(64, 3, 5, 5)}, path)
    elif kind == "nan":
        torch.save({**full, "features.0.bias": torch.full((64,), math.nan)}, path)
    return path  # "missing": never written


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("linear", "not a VGG-19 state dict (missing features.0.weight and 31 more)"),
        ("corrupt", "not a readable VGG-19 weights file"),
        ("corrupt_st", "not a readable VGG-19 weights file"),
        ("empty", "file is empty"),
        ("missing", "not found"),
        ("tensor", "not a VGG-19 state dict"),
        ("shape", "features.0.weight has shape (64, 3, 5, 5), VGG-19 needs (64, 3, 3, 3)"),
        ("nan", "NaN"),
    ],
)
def test_bad_weights_files(tmp_path, kind, message):
    path = write_bad_file(tmp_path, kind)
    with pytest.raises(BrushworkError) as info:
        F.load_imagenet_state_dict(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    with pytest.raises(BrushworkError, match=path.name):
        F.resolve_backbone("vgg19", path)


def test_failed_download_is_an_error_and_restores_the_timeout(monkeypatch):
    monkeypatch.delenv("BRUSHWORK_OFFLINE")
    seen = []

    def fail(url, dst, **kwargs):
        seen.append(socket.getdefaulttimeout())
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    old = socket.getdefaulttimeout()
    with pytest.raises(BrushworkError, match="could not be downloaded.*network is unreachable.*--vgg-weights"):
        F.resolve_backbone("vgg19")
    assert seen == [10.0] and socket.getdefaulttimeout() == old


def test_imagenet_without_weights_is_an_error():
    with pytest.raises(BrushworkError, match="not cached at .*vgg19-dcbb9e9d.pth"):
        F.resolve_backbone("vgg19")


def test_imagenet_uses_the_hub_cache(fake_imagenet, isolated_env):
    root, sd = fake_imagenet
    (isolated_env / "checkpoints").mkdir(parents=True)
    (isolated_env / "checkpoints" / F.IMAGENET_WEIGHTS_FILENAME).symlink_to(root / "vgg19.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = F.resolve_backbone("vgg19", upto="relu1_1")
    assert list(loaded) == conv_keys()[:2] and torch.equal(loaded["features.0.weight"], sd["features.0.weight"])


def test_env_var_weights_path(fake_imagenet, monkeypatch, tmp_path):
    root, sd = fake_imagenet
    monkeypatch.setenv("BRUSHWORK_VGG_WEIGHTS", str(root / "vgg19.safetensors"))
    loaded = F.resolve_backbone("vgg19", upto="pool1")
    assert list(loaded) == conv_keys()[:4]
    assert torch.equal(loaded["features.2.bias"], sd["features.2.bias"])
    monkeypatch.setenv("BRUSHWORK_VGG_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(BrushworkError, match="nowhere.pth: VGG-19 weights file not found"):
        F.resolve_backbone("vgg19")


def test_unknown_names():
    from brushwork.perceptual.features import feature_network

    with pytest.raises(BrushworkError, match="unknown VGG-19 backbone 'vgg16'; choose vgg19 or random"):
        F.resolve_backbone("vgg16")
    with pytest.raises(BrushworkError, match="unknown backbone 'auto'; choose one of efficientnet-lite0, vgg19, random"):
        feature_network(["relu1_1"], "auto")
    with pytest.raises(BrushworkError, match="unknown VGG-19 layer 'relu9_9'.*relu1_1"):
        F.VGGFeatures(["relu1_1", "relu9_9"], backbone="random")
    with pytest.raises(BrushworkError, match="unknown VGG-19 backbone 'imagenet'"):
        F.VGGFeatures(["relu1_1"], backbone="imagenet")  # the old name
