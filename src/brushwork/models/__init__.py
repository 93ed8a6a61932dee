from .discriminator import MultiScaleDiscriminator
from .generator import Generator

__all__ = ["Generator", "MultiScaleDiscriminator"]
