from torch import nn

from ..config import GeneratorConfig
from .discriminator import MultiScaleDiscriminator
from .generator import Generator
from .generator_v1 import GeneratorV1
from .johnson import JohnsonNet

ARCHITECTURES = {"brushwork": Generator, "johnson": JohnsonNet}


def build_generator(config: GeneratorConfig) -> nn.Module:
    """The generator network that `config.arch` (and, for brushwork, `config.version`) names."""
    if config.arch == "brushwork" and config.version == 1:
        return GeneratorV1(config)
    return ARCHITECTURES[config.arch](config)


__all__ = ["ARCHITECTURES", "Generator", "GeneratorV1", "JohnsonNet", "MultiScaleDiscriminator", "build_generator"]
