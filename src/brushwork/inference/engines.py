"""Inference engines: what actually runs the generator, in PyTorch or in ONNX Runtime.

An engine is a callable ``(N×3×H×W float32 in [0, 1], thumbnail=None, cond=None) -> N×3×H×W
float32 in [0, 1]`` (on the CPU for ONNX Runtime, on the engine's device for PyTorch); the
Stylizer and the tiler only see that callable. ``thumbnail`` is where models that need
image-wide statistics take them from (see thumbnail.py): the tiler passes the whole image's
so that all tiles share it; by default it is the thumbnail of the images themselves.
``uses_thumbnail`` says whether the model takes one. ``cond`` (1×K or N×K) is the
conditioning vector of models trained for strength control or several styles
(conditioning.py); other models take none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from brushwork.errors import BrushworkError, describe
from brushwork.models.thumbnail import thumbnail as make_thumbnail
from brushwork.models.thumbnail import uses_thumbnail

ENGINES = ("torch", "onnx")
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
ONNXRUNTIME_EXTRA = "pip install 'brushwork[onnx]'"


class TorchEngine:
    """PyTorch with optional bf16/fp16 autocast. Channels-last on CPUs (oneDNN's fast path);
    plain NCHW on GPUs, where this small network ran faster that way (benchmarks/gpu.py).
    ``compile``: torch.compile on a GPU, one graph per input shape (tiles have at most four)."""

    name = "torch"

    def __init__(self, generator: nn.Module, device: torch.device, precision: str = "fp32", compile: bool = False):
        if precision not in PRECISIONS:
            raise BrushworkError(f"--precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
        if precision == "fp16" and device.type == "cpu":
            raise BrushworkError("--precision fp16 needs a GPU; on a CPU use bf16 or fp32")
        if compile and device.type != "cuda":
            raise BrushworkError("--compile needs a CUDA GPU; on a CPU the eager engine is already the fast path")
        self.device = device
        self.dtype = PRECISIONS[precision]
        self.memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.generator = generator.to(device).eval().to(memory_format=self.memory_format)
        self.forward = torch.compile(self.generator, dynamic=False) if compile else self.generator
        self.uses_thumbnail = uses_thumbnail(generator)

    @torch.inference_mode()
    def __call__(self, images: Tensor, thumbnail: Tensor | None = None, cond: Tensor | None = None) -> Tensor:
        x = images.to(self.device, torch.float32).contiguous(memory_format=self.memory_format)
        extra = {}
        if self.uses_thumbnail and thumbnail is not None:
            extra["thumbnail"] = thumbnail.to(self.device, torch.float32)
        if cond is not None:
            extra["cond"] = cond.to(self.device, torch.float32).expand(len(x), -1)
        with torch.autocast(self.device.type, dtype=self.dtype or torch.bfloat16, enabled=self.dtype is not None):
            return self.forward(x, **extra).float().contiguous()


class OnnxEngine:
    """ONNX Runtime on an exported model (see export.py), CUDA if its build has it, else CPU."""

    name = "onnx"

    def __init__(self, model: bytes | str | Path, source: str = "model"):
        try:
            import onnxruntime
        except ImportError:
            raise BrushworkError(f"--engine onnx needs onnxruntime: {ONNXRUNTIME_EXTRA}") from None
        available = onnxruntime.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        try:
            self.session = onnxruntime.InferenceSession(
                model if isinstance(model, bytes) else str(model), options, providers=providers
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BrushworkError(f"{source}: not a loadable ONNX model ({describe(exc)})") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        if self.input_names not in (["image"], ["image", "thumbnail"], ["image", "cond"], ["image", "cond", "thumbnail"]):
            raise BrushworkError(f"{source}: not a brushwork ONNX export (inputs {self.input_names})")
        self.uses_thumbnail = "thumbnail" in self.input_names
        self.device = torch.device("cpu")

    def metadata(self) -> dict[str, Any]:
        """The brushwork metadata stored in the file by `brushwork export` ({} if none)."""
        text = self.session.get_modelmeta().custom_metadata_map.get("brushwork", "")
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return {}

    def __call__(self, images: Tensor, thumbnail: Tensor | None = None, cond: Tensor | None = None) -> Tensor:
        images = images.detach().to("cpu", torch.float32)
        feed = {"image": images.contiguous().numpy()}
        if "cond" in self.input_names:
            if cond is None:
                raise BrushworkError("this ONNX model needs a conditioning vector (strength, style weights)")
            feed["cond"] = cond.detach().to("cpu", torch.float32).expand(len(images), -1).contiguous().numpy()
        if self.uses_thumbnail:
            small = make_thumbnail(images) if thumbnail is None else thumbnail.detach().to("cpu", torch.float32)
            feed["thumbnail"] = small.contiguous().numpy()
        return torch.from_numpy(self.session.run(["stylized"], feed)[0])
