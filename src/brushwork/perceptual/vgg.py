"""VGG-19 feature networks: torchvision's ImageNet weights (for users who have the file) or a
deterministic random-weight VGG-19 that needs no download (tests, speed benchmarks and the
evaluation's secondary Gram metric; it cannot describe a painting's style).

The layout is torchvision's ``vgg19().features``. ImageNet mean/std normalisation happens
here and nowhere else: callers pass images in [0, 1].
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import socket
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
import torch
from safetensors import safe_open
from torch import Tensor, nn

from brushwork.errors import BrushworkError, describe


#: Seed of the random-weight backbone. Changing it changes the backbone (and so the
#: losses) of every model trained with ``--backbone random``: treat it as frozen.
RANDOM_SEED = 20161

#: Same values as torchvision's ``VGG19_Weights.IMAGENET1K_V1``; hard-coded so that
#: importing this module does not pull in torchvision.models.
IMAGENET_WEIGHTS_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
IMAGENET_WEIGHTS_FILENAME = "vgg19-dcbb9e9d.pth"
_IMAGENET_HASH_PREFIX = "dcbb9e9d"

#: Gatys et al.'s style layers, the default with ``--backbone vgg19`` and the evaluation's.
VGG_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_ENV_WEIGHTS = "BRUSHWORK_VGG_WEIGHTS"
_ENV_OFFLINE = "BRUSHWORK_OFFLINE"
_DOWNLOAD_TIMEOUT_S = 10.0

_BLOCK_CONVS = (2, 2, 4, 4, 4)
_BLOCK_CHANNELS = (64, 128, 256, 512, 512)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg19_layout() -> tuple[tuple[str, int, int], ...]:
    """(name, in_ch, out_ch) of each module of torchvision's vgg19().features, in order."""
    layout, in_ch = [], 3
    for block, (n_convs, out_ch) in enumerate(zip(_BLOCK_CONVS, _BLOCK_CHANNELS), start=1):
        for k in range(1, n_convs + 1):
            layout += [(f"conv{block}_{k}", in_ch, out_ch), (f"relu{block}_{k}", out_ch, out_ch)]
            in_ch = out_ch
        layout.append((f"pool{block}", out_ch, out_ch))
    return tuple(layout)


_LAYOUT = _vgg19_layout()
#: Layer name -> index in torchvision's ``vgg19().features`` (conv1_1=0 ... pool5=36).
VGG19_LAYERS: Mapping[str, int] = MappingProxyType({n: i for i, (n, _, _) in enumerate(_LAYOUT)})
#: Layer name -> number of channels of its output.
VGG19_CHANNELS: Mapping[str, int] = MappingProxyType({n: c for n, _, c in _LAYOUT})
_CONVS = tuple((i, cin, cout) for i, (n, cin, cout) in enumerate(_LAYOUT) if n.startswith("conv"))
_CONV_SHAPES = {
    f"features.{i}.{part}": shape
    for i, cin, cout in _CONVS
    for part, shape in (("weight", (cout, cin, 3, 3)), ("bias", (cout,)))
}


def _layer_index(layer: int | str | None) -> int:
    """Features index of a layer name or index; None means the whole network."""
    if layer is None:
        return len(VGG19_LAYERS) - 1
    if isinstance(layer, str):
        if layer not in VGG19_LAYERS:
            valid = ", ".join(VGG19_LAYERS)
            raise BrushworkError(f"unknown VGG-19 layer {layer!r}; valid names: {valid}")
        return VGG19_LAYERS[layer]
    if not 0 <= layer < len(VGG19_LAYERS):
        raise ValueError(f"VGG-19 features index {layer} is outside 0..{len(VGG19_LAYERS) - 1}")
    return layer


@functools.lru_cache(maxsize=4)  # each entry is up to ~80 MB; callers get clones
def _random_weights(seed: int, n_convs: int) -> tuple[Tensor, ...]:
    rng = np.random.Generator(np.random.PCG64(seed))
    weights = []
    for _, in_ch, out_ch in _CONVS[:n_convs]:
        # Drawn in layer order and cut off early, so a layer never depends on n_convs.
        w = rng.standard_normal(out_ch * in_ch * 9)
        w *= math.sqrt(2.0 / (in_ch * 9))
        weights.append(torch.from_numpy(w.astype(np.float32).reshape(out_ch, in_ch, 3, 3)))
    return tuple(weights)


def random_vgg19_state_dict(
    seed: int = RANDOM_SEED, upto: int | str | None = None
) -> dict[str, Tensor]:
    """Deterministic He-initialised VGG-19 conv weights, identical on every machine.

    Weights are float64 standard normals from ``Generator(PCG64(seed))``, drawn layer by
    layer in features order, scaled by ``sqrt(2 / (in_ch * 9))`` and cast to float32;
    biases are zero. ``upto`` (layer name or features index, default: all) stops after
    the last conv at or before it; the layers produced do not depend on where it stops.

    Returns:
        ``{"features.{i}.weight": out×in×3×3, "features.{i}.bias": out}`` for the convs,
        fresh tensors the caller may modify.
    """
    last = _layer_index(upto)
    weights = _random_weights(seed, sum(1 for i, _, _ in _CONVS if i <= last))
    out: dict[str, Tensor] = {}
    for (i, _, out_ch), w in zip(_CONVS, weights):
        out[f"features.{i}.weight"] = w.clone()
        out[f"features.{i}.bias"] = torch.zeros(out_ch)
    return out


def state_dict_checksum(sd: Mapping[str, Tensor]) -> str:
    """Hex sha256 over (key, shape, little-endian float32 bytes), keys sorted so that
    insertion order (e.g. .pth vs .safetensors copies of the same weights) does not matter."""
    digest = hashlib.sha256()
    for key in sorted(sd):
        arr = sd[key].detach().to("cpu", torch.float32).contiguous().numpy()
        digest.update(f"{key}\0{tuple(arr.shape)}\0".encode())
        digest.update(arr.astype("<f4", copy=False).data)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    """``Type: first line`` of an exception (the type helps with torch.load's many errors)."""
    text, kind = describe(exc, limit=180), type(exc).__name__
    return text if text == kind else f"{kind}: {text}"


def _read_conv_entries(path: Path) -> dict[str, object]:
    """The entries of a weights file whose keys are VGG-19 conv keys (values unchecked)."""
    if not path.exists():
        raise BrushworkError(f"{path}: VGG-19 weights file not found")
    if not path.is_file():
        raise BrushworkError(f"{path}: VGG-19 weights path is not a file")
    if path.stat().st_size == 0:
        raise BrushworkError(f"{path}: VGG-19 weights file is empty")
    try:
        if path.suffix.lower() == ".safetensors":
            # Lazy reads skip the ~500 MB classifier that full copies carry.
            with safe_open(str(path), framework="pt", device="cpu") as f:
                return {k: f.get_tensor(k) for k in f.keys() if k in _CONV_SHAPES}
        # mmap (zip format only) likewise avoids reading the classifier.
        mmap = zipfile.is_zipfile(path)
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # any loader failure means the file is unusable
        msg = f"{path}: not a readable VGG-19 weights file ({_one_line(exc)})"
        raise BrushworkError(msg) from None
    if not isinstance(obj, Mapping):
        raise BrushworkError(
            f"{path}: not a VGG-19 state dict (it holds a {type(obj).__name__}, not a dict)"
        )
    return {k: v for k, v in obj.items() if k in _CONV_SHAPES}


def _load_weights_file(path: Path) -> dict[str, Tensor]:
    """Validated float32 copies of the 16 conv layers of a VGG-19 weights file."""
    entries = _read_conv_entries(path)
    missing = [k for k in _CONV_SHAPES if k not in entries]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise BrushworkError(f"{path}: not a VGG-19 state dict (missing {missing[0]}{more})")
    out: dict[str, Tensor] = {}
    for key, shape in _CONV_SHAPES.items():
        value = entries[key]
        if not (isinstance(value, Tensor) and value.is_floating_point()):
            raise BrushworkError(f"{path}: {key} is not a floating-point tensor")
        if tuple(value.shape) != shape:
            msg = f"{path}: {key} has shape {tuple(value.shape)}, VGG-19 needs {shape}"
            raise BrushworkError(msg)
        # A real copy: detaches from the mmap'd file and never aliases caller data.
        value = value.detach().to(torch.float32, memory_format=torch.contiguous_format, copy=True)
        if not torch.isfinite(value).all():
            raise BrushworkError(f"{path}: {key} contains NaN or infinite values")
        out[key] = value
    return out


def _cached_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_WEIGHTS_FILENAME


def _env_weights_path() -> Path | None:
    value = os.environ.get(_ENV_WEIGHTS, "").strip()
    return Path(value).expanduser() if value else None


def _download_imagenet(dst: Path) -> None:
    """Fetch the torchvision file into torch.hub's cache, hash-checked."""
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)  # fail fast when offline
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(
            IMAGENET_WEIGHTS_URL, str(dst), hash_prefix=_IMAGENET_HASH_PREFIX, progress=False
        )
    except Exception as exc:
        raise BrushworkError(
            f"ImageNet VGG-19 weights are not cached at {dst} and could not be downloaded "
            f"({_one_line(exc)}); pass --vgg-weights PATH or use --backbone random"
        ) from None
    finally:
        socket.setdefaulttimeout(old_timeout)


def imagenet_weights_available(path: str | Path | None = None) -> bool:
    """Whether ImageNet VGG-19 weights can be had without a download: ``path``,
    ``$BRUSHWORK_VGG_WEIGHTS`` or torch.hub's cache (the file is not validated here)."""
    return path is not None or _env_weights_path() is not None or _cached_weights_path().is_file()


def load_imagenet_state_dict(
    path: str | Path | None = None, *, download: bool = False
) -> dict[str, Tensor]:
    """torchvision's ImageNet VGG-19 conv weights (``vgg19-dcbb9e9d.pth``), validated.

    Looks at, in order: ``path``; ``$BRUSHWORK_VGG_WEIGHTS``; torch.hub's cache
    (``<hub dir>/checkpoints/vgg19-dcbb9e9d.pth``); a download into that cache when
    ``download`` is true. ``.safetensors`` files are read with safetensors, anything
    else with ``torch.load(weights_only=True)``. Classifier keys are ignored.

    Returns:
        ``{"features.{i}.weight": out×in×3×3, "features.{i}.bias": out}`` for the 16
        convs: float32, fresh tensors. Problems raise a one-line BrushworkError.
    """
    chosen = Path(path).expanduser() if path is not None else _env_weights_path()
    if chosen is not None:
        return _load_weights_file(chosen)
    cached = _cached_weights_path()
    if not cached.is_file():
        if not download:
            raise BrushworkError(
                f"ImageNet VGG-19 weights are not cached at {cached}; pass --vgg-weights "
                f"PATH, set {_ENV_WEIGHTS} or use --backbone random"
            )
        _download_imagenet(cached)
    return _load_weights_file(cached)


def resolve_backbone(
    name: str,
    weights_path: str | Path | None = None,
    *,
    upto: int | str | None = None,
    seed: int = RANDOM_SEED,
) -> dict[str, Tensor]:
    """The VGG-19 conv weights of backbone ``name``: "vgg19" (torchvision's ImageNet weights,
    from `weights_path`, ``$BRUSHWORK_VGG_WEIGHTS`` or torch.hub's cache, else a download
    unless ``$BRUSHWORK_OFFLINE`` is "1") or "random" (the deterministic random backbone;
    ``seed`` picks another one). ``upto`` (layer name or features index) drops convs after it."""
    if name == "random":
        return random_vgg19_state_dict(seed, upto)
    if name != "vgg19":
        raise BrushworkError(f"unknown VGG-19 backbone {name!r}; choose vgg19 or random")
    sd = load_imagenet_state_dict(weights_path, download=os.environ.get(_ENV_OFFLINE, "").strip() != "1")
    last = _layer_index(upto)
    return {k: v for k, v in sd.items() if int(k.split(".")[1]) <= last}


class VGGFeatures(nn.Module):
    """Frozen VGG-19 returning named activations of images in [0, 1].

    Only the layers up to the deepest requested one are built. An input must be at
    least ``min_size`` pixels on each side: ``2 ** (pools up to the deepest layer)``,
    e.g. 8 for relu4_x, 16 for relu5_x (giving 1×1 maps), 32 for pool5.

    Attributes:
        backbone: "vgg19" (ImageNet weights) or "random", as ``--backbone`` names them.
        backbone_id: e.g. ``"random-vgg19-pcg64-20161-<12 hex>"`` or
            ``"vgg19-<12 hex>"``; the hex is :func:`state_dict_checksum` of the
            conv weights this module holds (so it also reflects the depth).
        layers: requested layer names, in request order, without duplicates.
        min_size: smallest input height/width accepted.
    """

    def __init__(
        self,
        layers: Sequence[str],
        backbone: str = "random",
        weights_path: str | Path | None = None,
        random_seed: int = RANDOM_SEED,
    ) -> None:
        super().__init__()
        names = (layers,) if isinstance(layers, str) else tuple(dict.fromkeys(layers))
        if not names:
            raise BrushworkError("no VGG-19 layers requested")
        depth = max(_layer_index(n) for n in names)
        self.layers: tuple[str, ...] = names
        self.min_size = 2 ** sum(1 for n, _, _ in _LAYOUT[: depth + 1] if n.startswith("pool"))
        self._deepest = _LAYOUT[depth][0]
        self._taps = {VGG19_LAYERS[n]: n for n in names}

        self.backbone = backbone
        sd = resolve_backbone(backbone, weights_path, upto=depth, seed=random_seed)
        ids = {"vgg19": "vgg19", "random": f"random-vgg19-pcg64-{random_seed}"}
        self.backbone_id = f"{ids[self.backbone]}-{state_dict_checksum(sd)[:12]}"

        # Built on meta and given the (fresh) loaded tensors: no wasted init, no copy.
        with torch.device("meta"):
            self.body = _make_features(depth)
        self.body.load_state_dict(
            {k.removeprefix("features."): v for k, v in sd.items()}, strict=True, assign=True
        )
        # Channels-last: oneDNN's native layout, so no reorder around every convolution
        # (default training went from 2.86 to 3.90 it/s on 2 CPU cores: benchmarks/training.py).
        self.body.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()
        for buffer, values in (("mean", _IMAGENET_MEAN), ("std", _IMAGENET_STD)):
            self.register_buffer(buffer, torch.tensor(values).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        """images: N×3×H×W in [0, 1] -> {layer: N×C×h×w} for each requested layer
        (channels-last tensors).

        Differentiable with respect to ``images``; the input is not modified.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N×3×H×W images, got shape {tuple(images.shape)}")
        h, w = images.shape[-2:]
        if min(h, w) < self.min_size:
            m, deepest = self.min_size, self._deepest
            raise BrushworkError(f"image is {h}x{w} but VGG-19 {deepest} needs at least {m}x{m}")
        x = ((images - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        found: dict[str, Tensor] = {}
        for i, module in enumerate(self.body):
            x = module(x)
            if i in self._taps:
                found[self._taps[i]] = x
        return {name: found[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"backbone_id={self.backbone_id!r}, layers={self.layers}"


def _make_features(depth: int) -> nn.Sequential:
    """torchvision's vgg19().features up to index ``depth``, ReLUs not in place."""
    modules: list[nn.Module] = []
    for name, in_ch, out_ch in _LAYOUT[: depth + 1]:
        if name.startswith("conv"):
            modules.append(nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1))
        elif name.startswith("relu"):
            modules.append(nn.ReLU(inplace=False))  # earlier activations must stay intact
        else:
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*modules)
