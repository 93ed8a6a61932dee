"""The conditioning vector of a model trained for strength control or several styles.

It is ``[S, w_1 … w_K]``: the strength S (0 returns the photo, 1 the trained style, more
exaggerates it) and one weight per style of the model, summing to 1 (one-hot for a single
style, a blend for a mix). Models of one style at one strength take none (``None``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from brushwork.errors import BrushworkError


def style_names(metadata: dict[str, Any]) -> list[str]:
    """The names of the styles a model paints, in the order of its conditioning vector."""
    styles = metadata.get("styles")
    if styles:
        return [style["name"] for style in styles]
    return [metadata.get("style_name", "style")]


def max_strength(metadata: dict[str, Any]) -> float:
    """The highest strength a model was trained for (0: one strength, 1, only)."""
    return float(metadata.get("max_strength", 0.0))


def is_conditioned(metadata: dict[str, Any]) -> bool:
    return bool(metadata.get("generator", {}).get("cond_dim", 0))


def parse_mix(text: str) -> dict[str, float]:
    """``"starry=0.7,wave=0.3"`` -> {"starry": 0.7, "wave": 0.3} (weights not yet checked);
    a single bare name is that style alone: ``"starry"`` -> {"starry": 1.0}."""
    mix: dict[str, float] = {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return {parts[0]: 1.0}
    for part in parts:
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or not name.strip() or math.isnan(weight):
            raise BrushworkError(f"--style-mix: {part!r} is not NAME=WEIGHT (e.g. starry=0.7,wave=0.3)")
        if name.strip() in mix:
            raise BrushworkError(f"--style-mix: {name.strip()!r} is named twice")
        mix[name.strip()] = weight
    if not mix:
        raise BrushworkError("--style-mix is empty (give NAME=WEIGHT,...)")
    return mix


def style_weights(metadata: dict[str, Any], mix: dict[str, float] | None) -> list[float]:
    """One weight per style of the model, normalised to sum to 1; default: the first style."""
    names = style_names(metadata)
    if not mix:
        return [1.0] + [0.0] * (len(names) - 1)
    unknown = [name for name in mix if name not in names]
    if unknown:
        raise BrushworkError(f"unknown style {unknown[0]!r} in this model; its styles: {', '.join(names)}")
    if any(weight < 0 or not math.isfinite(weight) for weight in mix.values()):
        raise BrushworkError(f"style weights must be finite and >= 0 (got {mix})")
    total = sum(mix.values())
    if total <= 0:
        raise BrushworkError("style weights are all zero; give at least one a positive weight")
    return [mix.get(name, 0.0) / total for name in names]


def condition(metadata: dict[str, Any], strength: float = 1.0, mix: dict[str, float] | None = None) -> Tensor | None:
    """The 1×(K+1) conditioning vector for `strength` and the style `mix` (None: the first
    style), checked against what the model was trained for; None for unconditioned models."""
    name = metadata.get("style_name", "this model")
    weights = style_weights(metadata, mix)
    top = max_strength(metadata)
    if not math.isfinite(strength) or strength < 0:
        raise BrushworkError(f"--strength must be >= 0 (got {strength})")
    if top == 0 and strength != 1:
        raise BrushworkError(
            f"{name} was trained at one strength; --strength needs a model trained with --max-strength (e.g. 1.5)"
        )
    if top and strength > top + 1e-9:
        raise BrushworkError(f"--strength {strength}: {name} was trained for strengths from 0 to {top:g}")
    if not is_conditioned(metadata):
        return None
    return torch.tensor([[strength, *weights]], dtype=torch.float32)
