from torch import nn

from ..config import GeneratorConfig
from .discriminator import MultiScaleDiscriminator
from .generator import Generator
from .johnson import JohnsonNet

ARCHITECTURES = {"brushwork": Generator, "johnson": JohnsonNet}


def build_generator(config: GeneratorConfig) -> nn.Module:
    """The generator network that `config.arch` names, built from `config`."""
    return ARCHITECTURES[config.arch](config)


__all__ = ["ARCHITECTURES", "Generator", "JohnsonNet", "MultiScaleDiscriminator", "build_generator"]
