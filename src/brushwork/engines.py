"""Inference engines: what actually runs the generator, in PyTorch or in ONNX Runtime.

An engine is a callable ``(N×3×H×W float32 in [0, 1], color_source=None) -> N×3×H×W
float32 in [0, 1]`` (on the CPU for ONNX Runtime, on the engine's device for PyTorch); the
Stylizer and the tiler only see that callable. ``color_source`` is what models with a
colour-transfer stage take their colour statistics from (see color_transfer.py): the tiler
passes a subsample of the whole image so that all tiles share it; by default it is a
subsample of the images themselves. ``color_stage`` says whether the model has that stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .color_transfer import color_sample, color_stage
from .errors import BrushworkError, describe

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
        self.color_stage = color_stage(generator) is not None

    @torch.inference_mode()
    def __call__(self, images: Tensor, color_source: Tensor | None = None) -> Tensor:
        x = images.to(self.device, torch.float32).contiguous(memory_format=self.memory_format)
        extra = {}
        if self.color_stage and color_source is not None:
            extra["color_source"] = color_source.to(self.device, torch.float32)
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
        if self.input_names not in (["image"], ["image", "color_source"]):
            raise BrushworkError(f"{source}: not a brushwork ONNX export (inputs {self.input_names})")
        self.color_stage = "color_source" in self.input_names
        self.device = torch.device("cpu")

    def metadata(self) -> dict[str, Any]:
        """The brushwork metadata stored in the file by `brushwork export` ({} if none)."""
        text = self.session.get_modelmeta().custom_metadata_map.get("brushwork", "")
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return {}

    def __call__(self, images: Tensor, color_source: Tensor | None = None) -> Tensor:
        images = images.detach().to("cpu", torch.float32)
        feed = {"image": images.contiguous().numpy()}
        if self.color_stage:
            source = color_sample(images) if color_source is None else color_source.detach().to("cpu", torch.float32)
            feed["color_source"] = source.contiguous().numpy()
        return torch.from_numpy(self.session.run(["stylized"], feed)[0])
