"""brushwork: GAN-based, content-preserving image style transfer.

    from brushwork import Stylizer, TrainConfig, train
    stylized = Stylizer.from_file("starry_night")(photo)           # PIL image or tensor
    train(TrainConfig(content="photos/", style="painting.jpg", output="mine.safetensors"))
"""

from .config import GeneratorConfig, TrainConfig
from .errors import BrushworkError
from .evaluate import EvaluateConfig, EvaluationResult, evaluate
from .optimize import OptimizeConfig, StyleOptimizer
from .styles import bundled_styles
from .stylize import Stylizer
from .train import TrainResult, train
from .version import __version__

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
