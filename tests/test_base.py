"""The base generator: a new style starts from a trained model's weights (training/base.py)."""

import dataclasses
import json

import pytest
import torch

from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import load_model, save_model
from brushwork.models import Generator, GeneratorConfig, build_generator
from brushwork.training.base import BASE_MODEL, load_start, resolve_init, start_from
from brushwork.training.config import TrainConfig
from brushwork.training.trainer import Trainer, train

from .conftest import make_photo


def _random_generator(seed: int, **options) -> Generator:
    torch.manual_seed(seed)
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1, **options))
    for p in generator.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return generator.eval()


@pytest.mark.parametrize("new_styles", [0, 2], ids=["one_style", "two_styles_and_strength"])
def test_a_start_paints_as_the_mean_of_the_base_styles(new_styles):
    base = _random_generator(0, cond_dim=4)  # strength and three styles
    generator = _random_generator(1, cond_dim=1 + new_styles if new_styles else 0)
    start_from(generator, base)
    photo = torch.rand(2, 3, 24, 32)
    expected = base(photo, torch.tensor([[1.0, 1 / 3, 1 / 3, 1 / 3]] * 2))
    if new_styles:  # every style of the new model, and any blend of them, starts at that mean
        for cond in ([1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.3, 0.7]):
            torch.testing.assert_close(generator(photo, torch.tensor([cond] * 2)), expected)
    else:
        torch.testing.assert_close(generator(photo), expected)


@pytest.mark.parametrize("arch", ["brushwork", "johnson"])
def test_a_start_of_one_style_is_copied_exactly(arch):
    base, generator = (build_generator(GeneratorConfig(arch=arch, channels=8, res_blocks=1)) for _ in range(2))
    for p in base.parameters():
        torch.nn.init.normal_(p, std=0.1)
    start_from(generator, base)
    for (name, theirs), ours in zip(base.state_dict().items(), generator.state_dict().values()):
        assert torch.equal(theirs, ours), name


def test_the_default_start_is_the_base_only_for_its_shape():
    assert resolve_init("", GeneratorConfig()) == "base"
    assert resolve_init("", GeneratorConfig(channels=8)) == "none"
    assert resolve_init("", GeneratorConfig(arch="johnson")) == "none"
    assert resolve_init("none", GeneratorConfig()) == "none"


def test_an_explicit_start_must_exist_and_fit(tmp_path):
    with pytest.raises(BrushworkError, match="channels 16 \\(this run: 8\\).*--init none"):
        load_start("base", GeneratorConfig(channels=8))
    with pytest.raises(BrushworkError, match="--init base.*arch brushwork \\(this run: johnson\\)"):
        load_start("base", GeneratorConfig(arch="johnson"))
    with pytest.raises(BrushworkError, match="missing.safetensors: no such model file"):
        load_start(str(tmp_path / "missing.safetensors"), GeneratorConfig())
    assert load_start("none", GeneratorConfig()) is None


def test_the_bundled_base_has_the_default_generator_shape():
    base, info = load_model(BASE_MODEL)
    assert dataclasses.replace(base.config, cond_dim=0) == GeneratorConfig()
    assert len(info["styles"]) == base.config.cond_dim - 1 == 20
    assert info["train_config"]["init"] == "none"


def test_training_starts_from_a_model_and_records_it(tmp_path, photo_dir):
    start = _random_generator(3)
    save_model(tmp_path / "start.safetensors", start, {"style_name": "start", "backbone": "random"})
    style = make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)
    config = TrainConfig(content=str(photo_dir), style=str(style), output=str(tmp_path / "m.safetensors"),
                         run_dir=str(tmp_path / "run"), iterations=1, batch_size=2, crop=48, style_size=48,
                         backbone="random", device="cpu", init=str(tmp_path / "start.safetensors"),
                         generator=GeneratorConfig(channels=8, res_blocks=1))  # fmt: skip
    trainer = Trainer(config)
    for (name, theirs), ours in zip(start.state_dict().items(), trainer.generator.state_dict().values()):
        assert torch.equal(theirs, ours), name
    assert json.loads(trainer.state_dict()["config"])["init"] == str(tmp_path / "start.safetensors")
    # Unset, a generator of another shape than the base's starts from random weights, and says so.
    config = dataclasses.replace(config, init="")
    assert Trainer(config).config.init == "none"


def test_a_resumed_run_does_not_need_its_start_any_more(tmp_path, photo_dir):
    start = tmp_path / "start.safetensors"
    save_model(start, _random_generator(3), {"style_name": "start", "backbone": "random"})
    style = make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)
    config = TrainConfig(content=str(photo_dir), style=str(style), output=str(tmp_path / "m.safetensors"),
                         run_dir=str(tmp_path / "run"), iterations=1, batch_size=2, crop=48, style_size=48,
                         backbone="random", device="cpu", init=str(start), adversarial_start=1.0,
                         generator=GeneratorConfig(channels=8, res_blocks=1))  # fmt: skip
    train(config, progress=False)
    start.unlink()
    resumed = dataclasses.replace(config, iterations=2, output=str(tmp_path / "more.safetensors"))
    assert train(resumed, resume=tmp_path / "run" / "checkpoint.pt", progress=False).steps == 2
    assert load_model(tmp_path / "more.safetensors")[1]["train_config"]["init"] == str(start)
