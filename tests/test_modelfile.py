import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import FORMAT_VERSION, load_model, read_metadata, save_model


def test_round_trip_keeps_weights_and_metadata(tiny_model):
    generator, info = load_model(tiny_model)
    assert info["style_name"] == "tiny"
    assert info["format_version"] == FORMAT_VERSION
    assert info["generator"] == {"arch": "brushwork", "channels": 8, "res_blocks": 1, "cond_dim": 0, "photo_gain": 0.4,
                              "noise_channels": 4, "down_kernel": 4}
    assert "brushwork_version" in info
    photo = torch.rand(1, 3, 20, 20)
    again, _ = load_model(tiny_model)
    assert torch.equal(generator(photo), again(photo))
    assert not torch.allclose(generator(photo), photo, atol=1e-3)  # real weights, not identity


def _format_1_file(path, generator_config, generator=None, backbone="efficientnet-lite0"):
    """A model file as brushwork 0.3 (format 1) wrote it."""
    from brushwork.inference.modelfile import FORMAT_NAME
    from brushwork.models import Generator, GeneratorConfig

    generator = generator or Generator(GeneratorConfig(channels=8, res_blocks=1, noise_channels=0, down_kernel=3))
    info = {"style_name": "old", "generator": generator_config, "train_config": {"palette_weight": 0.0, "random_backbones": 1,
            "backbone": backbone, "generator": generator_config}}  # fmt: skip
    header = {"format": FORMAT_NAME, "format_version": "1", "brushwork": json.dumps(info)}
    save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, path, metadata=header)
    return generator


OLD_DESIGN = {"arch": "brushwork", "channels": 8, "res_blocks": 1, "cond_dim": 0, "version": 2, "norm": "thumbnail",
              "residual": "gated", "photo_gain": 0.4, "output_range": "clamp", "color_transfer": False,
              "per_style_blocks": False, "output_stage": "bilinear"}  # fmt: skip


def test_format_1_files_of_the_kept_design_load_and_paint_the_same(tmp_path):
    torch.manual_seed(0)
    from brushwork.models import Generator, GeneratorConfig

    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, noise_channels=0, down_kernel=3))  # as 0.3 made it
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.05)
    _format_1_file(tmp_path / "old.safetensors", OLD_DESIGN, generator.eval())
    loaded, info = load_model(tmp_path / "old.safetensors")
    assert info["format_version"] == FORMAT_VERSION
    assert info["generator"] == {"arch": "brushwork", "channels": 8, "res_blocks": 1, "cond_dim": 0, "photo_gain": 0.4,
                                 "noise_channels": 0, "down_kernel": 3}  # fmt: skip
    assert "palette_weight" not in info["train_config"]
    photo = torch.rand(1, 3, 21, 19)
    assert torch.equal(loaded(photo), generator(photo))


def test_a_recipe_loses_the_removed_options_at_their_off_value_and_keeps_others_as_history(tmp_path):
    from brushwork.models import Generator, GeneratorConfig

    generator = Generator(GeneratorConfig(channels=8, res_blocks=1))
    # A recipe without `init` (before 0.8) started from random weights.
    for recipe, kept in (({"tv_weight": 0.0, "grad_clip": 0.0, "style_layer_weights": [1.0, 1.0]}, {}),
                         ({"tv_weight": 0.5}, {"tv_weight": 0.5}), ({"init": "base"}, {"init": "base"})):  # fmt: skip
        save_model(tmp_path / "m.safetensors", generator, {"style_name": "m", "train_config": {"iterations": 5, **recipe}})
        assert load_model(tmp_path / "m.safetensors")[1]["train_config"] == {"iterations": 5, "init": "none", **kept}


def test_format_1_recipes_name_the_backbone_as_now(tmp_path):
    from brushwork.models import Generator, GeneratorConfig

    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, noise_channels=0, down_kernel=3))
    _format_1_file(tmp_path / "old.safetensors", OLD_DESIGN, generator, backbone="imagenet")
    assert load_model(tmp_path / "old.safetensors")[1]["train_config"]["backbone"] == "vgg19"
    # A recipe this version could not resume is history: the model still loads, its recipe as written.
    _format_1_file(tmp_path / "auto.safetensors", OLD_DESIGN, generator, backbone="auto")
    assert load_model(tmp_path / "auto.safetensors")[1]["train_config"]["backbone"] == "auto"


@pytest.mark.parametrize(
    "change, named",
    [({"norm": "none", "residual": "full", "output_stage": "shuffle"}, "norm none, residual full, output_stage shuffle"),
     ({"color_transfer": True}, "color_transfer True"), ({"per_style_blocks": True}, "per_style_blocks True"),
     ({"output_range": "tanh"}, "output_range tanh"), ({"version": 1}, "brushwork 0.1's generator")],
)  # fmt: skip
def test_files_of_dropped_designs_are_refused_naming_the_release_that_reads_them(tmp_path, change, named):
    _format_1_file(tmp_path / "old.safetensors", {**OLD_DESIGN, **change})
    with pytest.raises(BrushworkError, match="old.safetensors: ") as err:
        load_model(tmp_path / "old.safetensors")
    assert named in str(err.value) and "brushwork 0.3 reads it" in str(err.value)


def test_format_1_files_without_the_design_keys_are_brushwork_0_2s(tmp_path):
    # brushwork 0.2 wrote no norm/residual/output_stage: its local, photo + change design.
    _format_1_file(tmp_path / "old.safetensors", {"arch": "brushwork", "channels": 8, "res_blocks": 1, "cond_dim": 0, "version": 2})
    with pytest.raises(BrushworkError, match="norm none, residual full, output_stage shuffle"):
        read_metadata(tmp_path / "old.safetensors")


def test_pickle_is_refused_without_loading(tmp_path):
    marker = tmp_path / "was_unpickled"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "evil.pt"
    bad.write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(BrushworkError, match="pickle.*refusing") as err:
        load_model(bad)
    assert "evil.pt" in str(err.value)
    assert not marker.exists()
    torch.save({"w": torch.zeros(1)}, tmp_path / "ckpt.pth")
    with pytest.raises(BrushworkError, match="pickle"):
        read_metadata(tmp_path / "ckpt.pth")


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"hello, not a model at all", "not a brushwork model"), (b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage", "not a brushwork model")],
)
def test_non_models_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "thing.safetensors"
    path.write_bytes(content)
    with pytest.raises(BrushworkError, match=message) as err:
        load_model(path)
    assert "thing.safetensors" in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_foreign_safetensors(tmp_path):
    with pytest.raises(BrushworkError, match="no such model file"):
        load_model(tmp_path / "nope.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, foreign, metadata={"format": "pt"})
    with pytest.raises(BrushworkError, match="not a brushwork style model"):
        load_model(foreign)


def _rewrite_metadata(src, dst, **changes):
    from safetensors import safe_open

    with safe_open(src, "pt") as handle:
        meta = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    meta.update(changes)
    save_file(tensors, dst, metadata=meta)


def test_newer_format_version_is_refused(tmp_path, tiny_model):
    newer = tmp_path / "newer.safetensors"
    _rewrite_metadata(tiny_model, newer, format_version=str(FORMAT_VERSION + 1))
    with pytest.raises(BrushworkError, match="newer brushwork"):
        load_model(newer)


def test_mismatched_weights_are_a_clear_error(tmp_path, tiny_model):
    info = read_metadata(tiny_model)
    info["generator"]["channels"] = 16
    wrong = tmp_path / "wrong.safetensors"
    _rewrite_metadata(tiny_model, wrong, brushwork=json.dumps(info))
    with pytest.raises(BrushworkError, match="damaged brushwork model") as err:
        load_model(wrong)
    assert "\n" not in str(err.value)


def test_header_length_starting_like_a_pickle_still_loads(tmp_path, tiny_model):
    # A safetensors header length whose first byte is 0x80 (the pickle protocol marker).
    from safetensors import safe_open

    with safe_open(tiny_model, "pt") as handle:
        meta = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    base_len = int.from_bytes(tiny_model.read_bytes()[:8], "little")
    meta["padding"] = ""
    path = tmp_path / "padded.safetensors"
    for extra in range(0, 512):
        meta["padding"] = "x" * extra
        save_file(tensors, path, metadata=meta)
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80, base_len
    generator, info = load_model(path)
    assert info["style_name"] == "tiny"


def test_a_model_keeps_the_version_that_trained_it(tmp_path):
    from brushwork import __version__
    from brushwork.inference.modelfile import save_model
    from brushwork.models import Generator, GeneratorConfig

    generator = Generator(GeneratorConfig(channels=8, res_blocks=1))
    save_model(tmp_path / "new.safetensors", generator, {"style_name": "new"})
    assert read_metadata(tmp_path / "new.safetensors")["brushwork_version"] == __version__
    save_model(tmp_path / "resaved.safetensors", generator, {"style_name": "old", "brushwork_version": "0.3.1"})
    assert read_metadata(tmp_path / "resaved.safetensors")["brushwork_version"] == "0.3.1"
