"""The generator networks and their config (part of the inference core: no training imports)."""

from torch import nn

from brushwork.models.config import GeneratorConfig
from brushwork.models.generator import Generator
from brushwork.models.johnson import JohnsonNet

ARCHITECTURES = {"brushwork": Generator, "johnson": JohnsonNet}


def build_generator(config: GeneratorConfig) -> nn.Module:
    """The generator network that `config.arch` names."""
    return ARCHITECTURES[config.arch](config)


__all__ = ["ARCHITECTURES", "Generator", "GeneratorConfig", "JohnsonNet", "build_generator"]
