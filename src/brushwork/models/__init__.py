"""The generator networks and their config (part of the inference core: no training imports)."""

from torch import nn

from brushwork.models.config import GeneratorConfig
from brushwork.models.generator import Generator
from brushwork.models.johnson import JohnsonNet

# The network of each architecture name (the names themselves: models/config.ARCHITECTURES).
_NETWORKS = {"brushwork": Generator, "johnson": JohnsonNet}


def build_generator(config: GeneratorConfig) -> nn.Module:
    """The generator network that `config.arch` names."""
    return _NETWORKS[config.arch](config)


__all__ = ["Generator", "GeneratorConfig", "JohnsonNet", "build_generator"]
