"""brushwork: GAN-based, content-preserving image style transfer.

    from brushwork import Stylizer, TrainConfig, train
    stylized = Stylizer.from_file("starry_night")(photo)           # PIL image or tensor
    train(TrainConfig(content="photos/", style="painting.jpg", output="mine.safetensors"))
"""

import importlib
from typing import TYPE_CHECKING

from brushwork.errors import BrushworkError
from brushwork.version import __version__

# Imported on first use, so that `brushwork stylize` does not pay for the training stack
# (the feature networks' timm, with the torchvision it imports, adds about 200 MB and two
# seconds to a process on a busy 2-core CPU).
_LAZY = {
    "EvaluateConfig": "evaluation.evaluate",
    "EvaluationResult": "evaluation.evaluate",
    "evaluate": "evaluation.evaluate",
    "OptimizeConfig": "evaluation.optimize",
    "StyleOptimizer": "evaluation.optimize",
    "GeneratorConfig": "models.config",
    "TrainConfig": "training.config",
    "bundled_styles": "styles",
    "Stylizer": "inference.stylize",
    "TrainResult": "training.trainer",
    "train": "training.trainer",
}

if TYPE_CHECKING:
    from brushwork.models.config import GeneratorConfig
    from brushwork.training.config import TrainConfig
    from brushwork.evaluation.evaluate import EvaluateConfig, EvaluationResult, evaluate
    from brushwork.evaluation.optimize import OptimizeConfig, StyleOptimizer
    from brushwork.styles import bundled_styles
    from brushwork.inference.stylize import Stylizer
    from brushwork.training.trainer import TrainResult, train


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
