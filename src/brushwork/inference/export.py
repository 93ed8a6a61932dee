"""Export a style model for runtimes without brushwork: ONNX (onnxruntime, web, mobile) and
TorchScript (C++ libtorch).

Both take any height and width (and batch): the exported graph pads to the generator's
stride and crops back itself. The model's metadata (style name, training settings) travels
inside the file: ONNX ``metadata_props`` key ``brushwork``, TorchScript extra file
``brushwork.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from brushwork.errors import BrushworkError, describe
from brushwork.files import atomic_write
from brushwork.models.thumbnail import uses_thumbnail

EXPORT_FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
METADATA_KEY = "brushwork"
ONNX_EXTRA = "pip install 'brushwork[onnx]'"


# The generator's forward() arguments each export takes, with the graph input names they get.
INPUT_NAMES = {"images": "image", "cond": "cond", "thumbnail": "thumbnail"}


def _example_inputs(generator: nn.Module) -> dict[str, torch.Tensor]:
    """Example values of the forward() arguments this generator uses, by argument name."""
    inputs = {"images": torch.rand(2, 3, 64, 64)}  # batch 2: an example batch of 1 gets specialised
    cond_dim = getattr(generator.config, "cond_dim", 0)
    if cond_dim:
        inputs["cond"] = torch.zeros(2, cond_dim)
    if uses_thumbnail(generator):
        inputs["thumbnail"] = torch.rand(2, 3, 32, 32)
    return inputs


def onnx_bytes(generator: nn.Module, metadata: dict[str, Any]) -> bytes:
    """The generator as a serialized ONNX model with dynamic batch, height and width.

    Inputs: ``image`` (N×3×H×W float32 in [0, 1]); for conditioned generators ``cond``; for
    generators that take image-wide statistics (thumbnail normalisation, colour transfer)
    ``thumbnail`` (N×3×h×w, any size: the image those statistics come from; pass the image
    itself if it is small, else a copy of it with the longer side 256 px, and for a tile of a
    larger image that whole image's thumbnail). Output: ``stylized``.
    """
    try:
        import onnxscript  # noqa: F401  (the exporter needs it; fail here with a clear message)
    except ImportError:
        raise BrushworkError(f"ONNX export needs the onnx and onnxscript packages: {ONNX_EXTRA}") from None
    generator = generator.cpu().eval()
    inputs = _example_inputs(generator)
    batch = torch.export.Dim("batch", min=1, max=4096)
    dynamic = {
        "images": {0: batch, 2: torch.export.Dim("height", min=1), 3: torch.export.Dim("width", min=1)},
        "cond": {0: batch},
        "thumbnail": {0: batch, 2: torch.export.Dim("thumbnail_height"), 3: torch.export.Dim("thumbnail_width")},
    }
    dynamic = {name: dims for name, dims in dynamic.items() if name in inputs}
    try:
        # The exporter reports each stage on stdout/logging; a CLI user only needs the result.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _quiet_logging():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                generator,
                (),
                kwargs=inputs,
                dynamo=True,
                input_names=[INPUT_NAMES[name] for name in inputs],
                output_names=["stylized"],
                dynamic_shapes=dynamic,
            )
    except Exception as exc:  # the exporter raises many types; the message says what failed
        raise BrushworkError(f"ONNX export failed ({describe(exc)})") from None
    proto = program.model_proto
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    return proto.SerializeToString()


def torchscript_bytes(generator: nn.Module, metadata: dict[str, Any]) -> bytes:
    """The generator traced to TorchScript (sizes stay dynamic: the pad/crop are traced as
    shape arithmetic), with the metadata as extra file ``brushwork.json``."""
    generator = generator.cpu().eval()
    buffer = io.BytesIO()
    # Tracer warnings are about the shape arithmetic, which is intended; TorchScript itself
    # is deprecated upstream but still what libtorch C++ programs load.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(generator, example_kwarg_inputs=_example_inputs(generator))
        torch.jit.save(traced, buffer, _extra_files={f"{METADATA_KEY}.json": json.dumps(metadata)})
    return buffer.getvalue()


def export_model(model: str | Path, fmt: str = "onnx", output: str | Path | None = None) -> Path:
    """Export a model file or bundled style to `fmt` ("onnx" or "torchscript").

    `output` defaults to the model's name with the format's extension in the current folder.
    """
    from brushwork.inference.modelfile import load_model
    from brushwork.styles import resolve_model

    if fmt not in EXPORT_FORMATS:
        raise BrushworkError(f"--format {fmt}: unsupported export format (use {' or '.join(EXPORT_FORMATS)})")
    source = resolve_model(model)
    generator, metadata = load_model(source)
    if output is None:
        output = Path(source.stem + EXPORT_FORMATS[fmt])
    output = Path(output)
    data = onnx_bytes(generator, metadata) if fmt == "onnx" else torchscript_bytes(generator, metadata)
    try:
        atomic_write(output, lambda tmp: Path(tmp).write_bytes(data))
    except OSError as exc:
        raise BrushworkError(f"{output}: cannot write ({exc.strerror or exc})") from None
    return output


@contextlib.contextmanager
def _quiet_logging():
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
