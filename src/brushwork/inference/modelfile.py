"""Style model files: one ``.safetensors`` file with the generator weights and JSON metadata.

The metadata (architecture config, style name, backbone, training config, version, a small
thumbnail of the style) is enough to rebuild the generator from the file alone. Loading
never unpickles: a pickle passed as a model is recognised by its first bytes and refused.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from PIL import Image
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from brushwork.errors import BrushworkError, describe
from brushwork.files import atomic_write
from brushwork.migrations import MODEL_FORMAT_VERSION as FORMAT_VERSION
from brushwork.migrations import migrate_model_metadata
from brushwork.models import GeneratorConfig, build_generator
from brushwork.version import __version__

FORMAT_NAME = "brushwork-style-model"
THUMBNAIL_SIZE = 96
# Pickle protocol 2+ starts with 0x80; torch.save's zip container with "PK".
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")
_FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})


def thumbnail_base64(image: Image.Image, size: int = THUMBNAIL_SIZE) -> str:
    """A small JPEG of `image` as base64 text, for the model's metadata."""
    thumb = image.convert("RGB")
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=85)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def save_model(path: str | Path, generator: nn.Module, metadata: dict[str, Any]) -> None:
    """Write `generator` and `metadata` (JSON-serialisable) atomically to `path`.

    ``brushwork_version`` is the version that trained the model: this one, unless `metadata`
    already names one (a model re-saved in a newer format keeps its trainer's)."""
    path = Path(path)
    info = {"brushwork_version": __version__, **metadata}
    info.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, generator=vars(generator.config).copy())
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in generator.state_dict().items()}
    header = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "brushwork": json.dumps(info)}
    try:
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))
    except (OSError, SafetensorError) as exc:  # safetensors reports a full disk as its own error
        raise BrushworkError(f"{path}: cannot write model ({describe(exc)}); any earlier file there is unchanged") from None


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a brushwork model file, checked for format and brought up to the
    current format version (migrations.py)."""
    path = Path(path)
    return _metadata(path, _read_safetensors_header(path))


def _metadata(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise BrushworkError(f"{path}: brushwork model metadata is damaged")
    if meta.get("format") != FORMAT_NAME:
        raise BrushworkError(f"{path}: a .safetensors file but not a brushwork style model")
    try:  # a hand-edited file can hold any JSON in any field (found by tests/test_reliability_fuzz.py)
        version = int(meta.get("format_version", "0"))
        info = json.loads(meta["brushwork"])
        if not isinstance(info, dict):
            raise ValueError
        return migrate_model_metadata(info, version, str(path))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BrushworkError(f"{path}: brushwork model metadata is damaged") from None


def summary_rows(info: dict[str, Any], path: str | Path) -> list[tuple[str, str]]:
    """(label, value) rows describing a model's metadata, as `brushwork info` prints them
    (the web studio's Styles page shows the same)."""
    train_config = info.get("train_config", {})
    rows = [
        ("file", str(path)),
        ("style", info.get("style_name")),
        ("description", info.get("description")),
        ("kind", info.get("style_kind")),
        ("backbone", f"{info.get('backbone')} ({info.get('backbone_id')})"),
        ("generator", ", ".join(f"{k}={v}" for k, v in info.get("generator", {}).items())),
        ("trained", f"{info.get('steps')} steps, {info.get('train_seconds')} s on {info.get('device')}"),
        ("crop / batch", f"{train_config.get('crop')} px / {train_config.get('batch_size')}"),
        ("weights", ", ".join(f"{k}={train_config.get(k + '_weight')}" for k in ("content", "style", "adversarial", "tv"))),
        ("format", f"{info.get('format')} v{info.get('format_version')}, brushwork {info.get('brushwork_version')}"),
    ]
    if info.get("styles"):  # a model of several styles, or with strength control
        rows.insert(3, ("styles", ", ".join(style["name"] for style in info["styles"])))
        top = info.get("max_strength", 0)
        rows.insert(4, ("strength", f"0 to {top:g} (--strength)" if top else "1 only"))
    return [(key, str(value)) for key, value in rows]


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the generator from a model file. Returns (generator in eval mode, metadata)."""
    path = Path(path)
    header = _read_safetensors_header(path)
    info = _metadata(path, header)
    try:
        config = GeneratorConfig(**info["generator"])
        tensors = len(header) - ("__metadata__" in header)
        if not isinstance(config.res_blocks, int) or not 0 <= config.res_blocks <= tensors:
            # each block holds tensors: a larger count is a hand edit, and would take forever to build
            raise ValueError(f"res_blocks {config.res_blocks!r} for a file of {tensors} tensors")
        with torch.device("meta"):  # shapes only: a hand-edited config allocates nothing
            _check_tensors(header, build_generator(config))
        generator = build_generator(config)
        weights = load_file(path, device="cpu")
        generator.load_state_dict(weights)
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError, SafetensorError) as exc:
        raise BrushworkError(f"{path}: damaged brushwork model ({describe(exc)})") from None
    if not all(bool(torch.isfinite(w).all()) for w in weights.values()):
        raise BrushworkError(f"{path}: damaged brushwork model (weights hold NaN or infinity)")
    return generator.to(device).eval().requires_grad_(False), info


def _check_tensors(header: dict[str, Any], skeleton: nn.Module) -> None:
    """The header's tensor names, shapes and dtypes against the generator the metadata
    describes; a ValueError names the first mismatch. Read before any weight is loaded."""
    expected = {name: list(t.shape) for name, t in skeleton.state_dict().items()}
    found = {name: spec for name, spec in header.items() if name != "__metadata__"}
    if missing := sorted(expected.keys() - found.keys()):
        raise ValueError(f"{len(missing)} tensor(s) missing, e.g. {missing[0]}")
    if extra := sorted(found.keys() - expected.keys()):
        raise ValueError(f"{len(extra)} unexpected tensor(s), e.g. {extra[0]}")
    for name, spec in found.items():
        if not isinstance(spec, dict) or spec.get("dtype") not in _FLOAT_DTYPES:
            raise ValueError(f"tensor {name} is not floating point ({spec.get('dtype') if isinstance(spec, dict) else spec})")
        if spec.get("shape") != expected[name]:
            raise ValueError(f"tensor {name} has shape {spec.get('shape')}, the generator needs {expected[name]}")


def _read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a .safetensors file (8-byte little-endian length, then JSON).

    Anything else gets a one-line error; a pickle is named as such and never loaded.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = handle.read(8)
            length = int.from_bytes(start, "little")
            raw = handle.read(length) if 2 <= length <= size - 8 else b""
    except FileNotFoundError:
        raise BrushworkError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise BrushworkError(f"{path}: is a directory, not a model file") from None
    except OSError as exc:
        raise BrushworkError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise BrushworkError(f"{path}: empty file, not a brushwork model")
    try:
        header = json.loads(raw) if raw.startswith(b"{") else None
    except (ValueError, UnicodeDecodeError):
        header = None
    if isinstance(header, dict):
        return header
    # Checked only once the file is known not to be safetensors: a safetensors header
    # length can begin with the same byte as a pickle.
    if start.startswith(_PICKLE_MAGIC):
        raise BrushworkError(
            f"{path}: a pickle, zip or PyTorch checkpoint, not a brushwork model; refusing to load it "
            "(unpickling can run code; models travel as .safetensors)"
        )
    raise BrushworkError(f"{path}: not a brushwork model (not a .safetensors file)")
