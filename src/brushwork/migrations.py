"""Bring model files and checkpoints written by older brushwork versions up to date.

The one place that knows old schemas. Each file records its schema version (model files:
``format_version``; checkpoints: ``brushwork_checkpoint``), and a file is migrated one
version at a time up to the current one. What this version can no longer run (generator
designs that were measured and dropped) is refused with a message that names the brushwork
release that still reads the file.

Schema history:

- model format 1 / checkpoint 1 (brushwork 0.1–0.3): the generator config carried the design
  options ``version``, ``norm``, ``residual``, ``output_range``, ``output_stage``,
  ``color_transfer`` and ``per_style_blocks``; keys missing from a file meant the values of
  the release that wrote it. The training config had ``palette_weight`` and
  ``random_backbones``, and backbones named ``imagenet`` and ``auto``.
- model format 2 / checkpoint 2 (brushwork 0.4): one brushwork design (thumbnail
  normalisation, gated photo path, bilinear output) and Johnson's baseline.
- model format 3 / checkpoint 3 (brushwork 0.5): the brushwork generator takes noise channels
  (``noise_channels``; older files have none) and is trained with the sliced Wasserstein
  objective (older checkpoints resume with it).
- model format 4 / checkpoint 4 (brushwork 0.7): the brushwork generator's stride-2 convs
  are 4×4 (``down_kernel``; older files have 3×3 ones).
- Training option added in 0.8.0, without a new format: ``init``, the generator a run started
  from. Checkpoints and model recipes without it started from random weights (``none``).
- Training options removed after 0.5.0, without a new format: ``tv_weight``, ``grad_clip`` and
  ``style_layer_weights``, TOML keys that no default or recipe set. Configs of any version
  (checkpoints, TOML files, model recipes) that hold them at their off value read as before.
"""

from __future__ import annotations

from typing import Any

from brushwork.errors import BrushworkError

MODEL_FORMAT_VERSION = 4
CHECKPOINT_VERSION = 4
READS_OLD_DESIGNS = "brushwork 0.3 reads it (pip install 'brushwork==0.3.*'); or train it again"

# Design options of model format 1 and the only values brushwork 0.4 still runs; a missing key
# holds the value of the oldest release that wrote such files.
_KEPT_DESIGN = {"norm": "thumbnail", "residual": "gated", "output_range": "clamp", "output_stage": "bilinear",
                "color_transfer": False, "per_style_blocks": False}  # fmt: skip
_MISSING_MEANT = {"norm": "none", "residual": "full", "output_range": "clamp", "output_stage": "shuffle",
                  "color_transfer": False, "per_style_blocks": False}  # fmt: skip
_GENERATOR_FIELDS = ("arch", "channels", "res_blocks", "cond_dim", "photo_gain")


# A removed training option -> whether a stored value of it is its off value (what this
# version does): then dropping it changes nothing. Training wrote the resolved layer weights
# (1 each) into its config, so those are off too.
_REMOVED_OPTIONS = {
    "tv_weight": lambda value: not value,
    "grad_clip": lambda value: not value,
    "style_layer_weights": lambda value: not value or (isinstance(value, (list, tuple)) and all(w == 1 for w in value)),
}


def drop_removed_options(values: dict[str, Any], source: str) -> dict[str, Any]:
    """A training config without the options removed after 0.5.0, or a BrushworkError for one
    set to anything but its off value (this version cannot train that recipe)."""
    values = dict(values)
    for key, is_off in _REMOVED_OPTIONS.items():
        if key in values and not is_off(values.pop(key)):
            raise BrushworkError(f"{source}: sets {key}, an option this version removed; brushwork 0.5.0 reads it "
                                 "(pip install 'brushwork==0.5.0'), or remove the key")  # fmt: skip
    return values


# Fields of the brushwork generator added after format 2: the format that added each, and the
# value that files of older formats ran with.
_ADDED_GENERATOR_FIELDS = {3: ("noise_channels", 0), 4: ("down_kernel", 3)}


# Training options added without a new format, and the value every run stored without them had.
_ADDED_OPTIONS = {"init": "none"}


def add_new_options(values: dict[str, Any]) -> dict[str, Any]:
    """A stored training config (checkpoint, model recipe) with the options added since it was
    written, at the values it ran with."""
    return {**_ADDED_OPTIONS, **values}


def migrate_generator(generator: dict[str, Any], version: int) -> dict[str, Any]:
    """A generator config of format `version` (2 or newer) as the current format."""
    generator = dict(generator)
    if generator.get("arch", "brushwork") == "brushwork":
        for added_in, (key, old_value) in _ADDED_GENERATOR_FIELDS.items():
            if version < added_in:
                generator[key] = old_value
    return generator


def migrate_generator_v1(generator: dict[str, Any], source: str) -> dict[str, Any]:
    """A format-1 generator config as format 2, or a BrushworkError for a dropped design."""
    arch = generator.get("arch", "brushwork")
    if arch == "brushwork":
        if generator.get("version", 1) == 1:
            raise BrushworkError(f"{source}: made with brushwork 0.1's generator, which this version dropped; {READS_OLD_DESIGNS}")
        dropped = [f"{key} {generator.get(key, _MISSING_MEANT[key])}" for key, kept in _KEPT_DESIGN.items()
                   if generator.get(key, _MISSING_MEANT[key]) != kept]  # fmt: skip
        if dropped:
            raise BrushworkError(
                f"{source}: made with a generator design this version dropped ({', '.join(dropped)}); {READS_OLD_DESIGNS}"
            )
    migrated = {key: generator[key] for key in _GENERATOR_FIELDS if key in generator}
    if arch != "brushwork":
        migrated.pop("photo_gain", None)  # format 1 stored 0 for Johnson's network, which has no photo path
    return migrated


def migrate_train_config_v1(values: dict[str, Any], source: str) -> dict[str, Any]:
    """A checkpoint-1 training config (plain values) as checkpoint 2."""
    values = dict(values)
    values.setdefault("lr_final", 1.0)  # brushwork 0.1 kept the learning rates constant
    if values.pop("palette_weight", 0.0):
        raise BrushworkError(f"{source}: trained with the palette loss, which this version dropped; {READS_OLD_DESIGNS}")
    if values.pop("random_backbones", 1) > 1:
        raise BrushworkError(f"{source}: trained against several random backbones, which this version dropped; {READS_OLD_DESIGNS}")
    backbone = values.get("backbone", "auto")
    if backbone == "auto":
        raise BrushworkError(f"{source}: trained with --backbone auto, which this version dropped; {READS_OLD_DESIGNS}")
    values["backbone"] = "vgg19" if backbone == "imagenet" else backbone
    values["generator"] = migrate_generator_v1(values.get("generator") or {}, source)
    return values


def migrate_train_config(values: dict[str, Any], version: int) -> dict[str, Any]:
    """A checkpoint-`version` training config (2 or newer) as the current one."""
    return {**values, "generator": migrate_generator(values.get("generator") or {}, version)}


def migrate_model_metadata(info: dict[str, Any], version: int, source: str) -> dict[str, Any]:
    """A model file's metadata, read at format `version`, as the current format."""
    if version > MODEL_FORMAT_VERSION:
        raise BrushworkError(
            f"{source}: made by a newer brushwork (model format {version}; this version reads up to "
            f"{MODEL_FORMAT_VERSION}); upgrade brushwork"
        )
    info = dict(info)
    if version < 2:
        info["generator"] = migrate_generator_v1(info.get("generator") or {}, source)
        try:  # the recipe, for `brushwork info`; a dropped option there is history, not an error
            info["train_config"] = migrate_train_config_v1(info["train_config"], source)
        except (BrushworkError, KeyError, TypeError):
            pass
    if version < MODEL_FORMAT_VERSION:
        info["generator"] = migrate_generator(info.get("generator") or {}, max(version, 2))
        if isinstance(info.get("train_config"), dict):
            info["train_config"] = migrate_train_config(info["train_config"], max(version, 2))
    if isinstance(info.get("train_config"), dict):
        try:
            info["train_config"] = drop_removed_options(info["train_config"], source)
        except BrushworkError:
            pass  # as above: the recipe is history
        info["train_config"] = add_new_options(info["train_config"])
    info["format_version"] = MODEL_FORMAT_VERSION
    return info


def migrate_checkpoint_config(values: dict[str, Any], version: int, source: str) -> dict[str, Any]:
    """A checkpoint's training config, stored at checkpoint `version`, as the current one."""
    if version > CHECKPOINT_VERSION:
        raise BrushworkError(f"{source}: checkpoint from a newer brushwork; upgrade brushwork")
    if version < 2:
        values = migrate_train_config_v1(values, source)
    if version < CHECKPOINT_VERSION:
        values = migrate_train_config(values, max(version, 2))
    return add_new_options(drop_removed_options(values, source))
