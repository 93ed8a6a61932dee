"""The generator's config: saved in every model file and checkpoint, so a model can be
rebuilt from the file alone (older files are brought up to date by brushwork.migrations)."""

from __future__ import annotations

from dataclasses import dataclass

from brushwork.errors import BrushworkError

ARCHITECTURES = ("brushwork", "johnson")
# Widths by architecture: brushwork's generator, and Johnson et al.'s 32.
DEFAULT_CHANNELS = {"brushwork": 16, "johnson": 32}
# Start gain of the brushwork generator's gated photo path (see models/generator.py). It moves
# little in training, so it sets how much of the photo the network starts from: 0 paints from
# scratch, 1 starts from the photo. Measured, 0.4 keeps more of the photo's colours early in
# training, and most of them fade by the end (docs/bundled-styles.md, "What is still weak").
PHOTO_GAIN = 0.4
# Noise channels beside the photo at the generator's input (layers.pixel_noise): without them
# the flat parts of a photo come out as a regular pattern.
NOISE_CHANNELS = 4
# Kernel of the brushwork generator's two stride-2 convs. A 3×3 kernel at stride 2 reads the
# padding on the left and top of an even-sized input but not on the right and bottom, so the
# network could tell those borders apart, and 0.6's models painted a band down the left edge;
# a 4×4 kernel reads one pixel of padding on every side (model format 4; older files have 3).
DOWN_KERNEL = 4


@dataclass
class GeneratorConfig:
    """Shape of the feed-forward generator."""

    arch: str = "brushwork"  # "brushwork" (models/generator.py) or "johnson" (the baseline, models/johnson.py)
    # Width. brushwork: at 1/2 resolution, 2x at 1/4, 4x at 1/8 where the residual blocks run.
    # 0 picks the architecture's default (DEFAULT_CHANNELS).
    channels: int = 0
    res_blocks: int = 5
    # Size of the conditioning vector [strength, one weight per style] (0: a model of one style
    # at one strength). Set by training from its styles and --max-strength, not by hand.
    cond_dim: int = 0
    # brushwork only (a TOML research knob): start gain of the gated photo path; None: PHOTO_GAIN.
    photo_gain: float | None = None
    # brushwork only: noise channels at the input (None: NOISE_CHANNELS; files older than
    # model format 3 have none).
    noise_channels: int | None = None
    # brushwork only: kernel of the stride-2 convs (None: DOWN_KERNEL; files older than model
    # format 4 have 3).
    down_kernel: int | None = None

    def __post_init__(self) -> None:
        if self.channels == 0:
            self.channels = DEFAULT_CHANNELS.get(self.arch, 16)
        if self.arch == "brushwork":
            self.photo_gain = PHOTO_GAIN if self.photo_gain is None else self.photo_gain
            self.noise_channels = NOISE_CHANNELS if self.noise_channels is None else self.noise_channels
            self.down_kernel = DOWN_KERNEL if self.down_kernel is None else self.down_kernel

    def validate(self) -> None:
        """Raise BrushworkError naming the first option that is out of range or does not apply."""
        if self.arch not in ARCHITECTURES:
            raise BrushworkError(f"--arch must be {' or '.join(ARCHITECTURES)} (got {self.arch!r})")
        if self.channels < 4 or self.res_blocks < 0:
            raise BrushworkError("generator channels must be >= 4 and res_blocks >= 0")
        if self.arch == "johnson" and self.photo_gain is not None:
            raise BrushworkError("generator.photo_gain is for the brushwork generator; Johnson's network has no photo path")
        if self.arch == "johnson" and self.noise_channels is not None:
            raise BrushworkError("generator.noise_channels is for the brushwork generator")
        if self.arch == "johnson" and self.down_kernel is not None:
            raise BrushworkError("generator.down_kernel is for the brushwork generator")
        if self.down_kernel is not None and self.down_kernel not in (3, 4):
            raise BrushworkError(f"generator.down_kernel must be 3 or 4 (got {self.down_kernel})")
        if self.noise_channels is not None and not 0 <= self.noise_channels <= 16:
            raise BrushworkError(f"generator.noise_channels must be from 0 to 16 (got {self.noise_channels})")
        if self.photo_gain is not None and not 0 <= self.photo_gain <= 1:
            raise BrushworkError(f"generator.photo_gain must be in [0, 1] (got {self.photo_gain})")
