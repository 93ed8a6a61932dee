"""brushwork: GAN-based, content-preserving image style transfer.

    from brushwork import Stylizer, TrainConfig, train
    stylized = Stylizer.from_file("starry_night")(photo)           # PIL image or tensor
    train(TrainConfig(content="photos/", style="painting.jpg", output="mine.safetensors"))
"""

import importlib
from typing import TYPE_CHECKING

from .errors import BrushworkError
from .version import __version__

# Imported on first use, so that `brushwork stylize` does not pay for the training stack
# (torchvision alone adds about 170 MB and a second to every process).
_LAZY = {
    "EvaluateConfig": "evaluate",
    "EvaluationResult": "evaluate",
    "evaluate": "evaluate",
    "OptimizeConfig": "optimize",
    "StyleOptimizer": "optimize",
    "GeneratorConfig": "config",
    "TrainConfig": "config",
    "bundled_styles": "styles",
    "Stylizer": "stylize",
    "TrainResult": "train",
    "train": "train",
}

if TYPE_CHECKING:
    from .config import GeneratorConfig, TrainConfig
    from .evaluate import EvaluateConfig, EvaluationResult, evaluate
    from .optimize import OptimizeConfig, StyleOptimizer
    from .styles import bundled_styles
    from .stylize import Stylizer
    from .train import TrainResult, train


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BrushworkError",
    "EvaluateConfig",
    "EvaluationResult",
    "OptimizeConfig",
    "StyleOptimizer",
    "GeneratorConfig",
    "Stylizer",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "bundled_styles",
    "evaluate",
    "train",
]
