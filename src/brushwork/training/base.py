"""The base generator: where `brushwork train` starts a new style.

One model of 20 paintings, trained once by this project (docs/train_base.sh), each painting
a style of its own. Its convolutions have learnt what painting any of them takes (flat
regions, strokes, outlines); a new style starts from them, with every normalisation layer at
the mean of the base's styles, so training only has to move towards one more painting.
Measured: 400 steps from 0.8's base painted as well as 800 from random weights (docs/method.md,
"What 0.8 changed"); 0.9's base, trained with 0.9's objective, gives in 150 steps what 0.8's
gave in 400 ("A new style in a minute").

``--init``: ``base`` (this file), ``none`` (random weights), or any model (a file or a bundled
style name) of the same generator shape, Johnson's network included. Left unset, a run starts
from the base when its generator has the base's shape (the defaults), else from random weights.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import load_model
from brushwork.models.config import GeneratorConfig
from brushwork.models.layers import ConditionalAffine
from brushwork.styles import resolve_model

BASE_MODEL = Path(__file__).with_name("base.safetensors")
# Generator fields a start must share with the run; the conditioning size may differ (the
# base has one weight per painting, a new model its own styles).
_SHAPE_FIELDS = tuple(f.name for f in dataclasses.fields(GeneratorConfig) if f.name != "cond_dim")


def _shape(config: GeneratorConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in _SHAPE_FIELDS}


def resolve_init(init: str, generator: GeneratorConfig) -> str:
    """The start a run records: ``base``, ``none`` or a model path. Unset (``""``): ``base``
    when `generator` has the default shape, which is the base's (a test holds them equal),
    else ``none``. An explicit start must exist and fit (:func:`load_start`)."""
    if init:
        return init
    return "base" if _shape(generator) == _shape(GeneratorConfig()) else "none"


def load_start(init: str, generator: GeneratorConfig) -> torch.nn.Module | None:
    """The generator a run with `init` (resolved) starts from, or None for random weights; a
    BrushworkError if it is missing or of another shape than `generator`."""
    if init == "none":
        return None
    path = BASE_MODEL if init == "base" else resolve_model(init)
    if init == "base" and not path.is_file():
        raise BrushworkError(f"--init base: the base generator is missing from this installation ({path}); reinstall brushwork")
    start, _ = load_model(path)
    if _shape(start.config) != _shape(generator):
        differ = [f"{k} {v} (this run: {getattr(generator, k)})" for k, v in _shape(start.config).items() if getattr(generator, k) != v]
        raise BrushworkError(f"--init {init}: its generator differs from this run's ({', '.join(differ)}); "
                             "give --init none to start from random weights")  # fmt: skip
    return start


def _mean_style_norm(layer: ConditionalAffine) -> torch.Tensor:
    """A start's normalisation layer as 2C values (scale − 1, then shift) at strength 1 and
    the mean of its styles. An unconditioned layer's own parameters, exactly: through
    ``scale_shift``, ``(1 + scale) − 1`` would round."""
    if not layer.cond_dim:
        return torch.cat([layer.scale, layer.shift])
    styles = layer.cond_dim // 2  # the layers see [w, (S − 1)·w] (models/generator.py)
    cond = torch.cat([torch.full((1, styles), 1 / styles), torch.zeros(1, styles)], dim=1)
    return layer.to_scale_shift(cond)[0]


@torch.no_grad()
def start_from(generator: torch.nn.Module, start: torch.nn.Module) -> None:
    """Copy `start`'s weights into `generator` (same shape, any conditioning): the
    convolutions as they are, each normalisation layer at the mean of `start`'s styles, for
    every style of `generator` and at every strength (what strength changes is learnt anew)."""
    norms = dict(start.named_modules())
    for name, layer in generator.named_modules():
        if not isinstance(layer, ConditionalAffine):
            continue
        values = _mean_style_norm(norms[name]).to(next(generator.parameters()).device)
        if layer.cond_dim:
            styles = layer.cond_dim // 2
            layer.to_scale_shift.weight.zero_()
            layer.to_scale_shift.weight[:, :styles] = values[:, None]  # the style weights sum to 1
            layer.to_scale_shift.bias.zero_()
        else:
            layer.scale.copy_(values[: len(layer.scale)])
            layer.shift.copy_(values[len(layer.scale) :])
    is_norm = {f"{name}." for name, layer in generator.named_modules() if isinstance(layer, ConditionalAffine)}
    weights = {k: v for k, v in start.state_dict().items() if not any(k.startswith(prefix) for prefix in is_norm)}
    missing, unexpected = generator.load_state_dict(weights, strict=False)
    assert not unexpected and all(any(k.startswith(prefix) for prefix in is_norm) for k in missing)
