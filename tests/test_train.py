import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.training.checkpoint import read_checkpoint
from brushwork.models import GeneratorConfig
from brushwork.training.config import TrainConfig
from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import load_model
from brushwork.training.trainer import Trainer, train

from .conftest import make_photo


@pytest.fixture
def config(tmp_path, photo_dir):
    style = make_photo(tmp_path / "painting.png", size=(48, 48), seed=5)
    return TrainConfig(
        content=str(photo_dir),
        style=str(style),
        output=str(tmp_path / "out" / "model.safetensors"),
        run_dir=str(tmp_path / "run"),
        iterations=40,
        batch_size=2,
        crop=48,
        style_size=48,
        lr_g=3e-3,
        backbone="random",
        device="cpu",
        sample_every=20,
        checkpoint_every=20,
        adversarial_start=0.5,
        generator=GeneratorConfig(channels=8, res_blocks=1),
    )


def _mean(history, key, rows):
    values = [h[key] for h in rows if key in h]
    return sum(values) / len(values)


def test_smoke_training_lowers_style_loss_and_writes_a_loadable_model(config, tmp_path, photo_dir):
    (photo_dir / "corrupt.jpg").write_bytes(b"not a jpeg")
    result = train(config, progress=False)
    assert len(result.skipped) == 1 and "corrupt.jpg" in result.skipped[0]
    assert result.steps == 40
    first, last = result.history[:8], result.history[-8:]
    assert _mean(result.history, "style", last) < _mean(result.history, "style", first)
    assert any("adversarial" in h for h in result.history[20:])
    assert not any("adversarial" in h for h in result.history[:20])
    generator, info = load_model(result.model_path)
    assert info["style_name"] == "painting" and info["backbone"] == "random" and info["steps"] == 40
    assert info["train_config"]["crop"] == 48
    assert info["style_thumbnail_jpeg_base64"]
    assert generator(torch.rand(1, 3, 19, 23)).shape == (1, 3, 19, 23)
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step_000020.png", "step_000040.png"]


@pytest.mark.parametrize("conditioned", [False, True], ids=["one_style", "two_styles_and_strength"])
def test_interrupted_run_resumes_at_the_same_step_with_the_same_result(config, tmp_path, monkeypatch, conditioned):
    config.iterations = 12
    config.adversarial_start = 0.25
    if conditioned:  # the styles' turns and the drawn strengths must also pick up where they stopped
        config.style = (_painting(tmp_path / "red.png", (220, 40, 30), 1), _painting(tmp_path / "blue.png", (30, 60, 220), 2))
        config.max_strength = 1.5
    straight = Trainer(config)
    straight.run(progress=False)

    config.run_dir = str(tmp_path / "run2")
    config.output = str(tmp_path / "resumed.safetensors")
    interrupted = Trainer(config)
    real_step = interrupted.train_step

    def stop_at_seven():
        if interrupted.step == 7:
            raise KeyboardInterrupt
        return real_step()

    monkeypatch.setattr(interrupted, "train_step", stop_at_seven)
    with pytest.raises(BrushworkError, match="interrupted at step 7.*--resume"):
        interrupted.run(progress=False)
    checkpoint = tmp_path / "run2" / "checkpoint.pt"
    assert read_checkpoint(checkpoint)["step"] == 7

    result = train(config, resume=checkpoint, progress=False)
    assert result.steps == 12 and [h["step"] for h in result.history] == list(range(1, 13))
    resumed, info = load_model(result.model_path)
    assert len(info.get("styles", [None])) == (2 if conditioned else 1)
    for name, value in straight.generator.state_dict().items():
        assert torch.allclose(value, resumed.state_dict()[name], atol=1e-6), name


def test_bad_training_inputs(config, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    config.content = str(empty)
    with pytest.raises(BrushworkError, match="no images found"):
        Trainer(config)
    config.content = str(tmp_path / "missing")
    with pytest.raises(BrushworkError, match="missing"):
        Trainer(config)


@pytest.mark.parametrize(
    "field, value, named",
    [("iterations", 0, "--iterations"), ("crop", 8, "crop"), ("lr_g", -1.0, "lr_g"), ("style_weight", -2.0, "--style-weight"),
     ("backbone", "imagenet", "--backbone"), ("precision", "fp16", "precision")],
)  # fmt: skip
def test_options_out_of_range_are_named_as_the_user_gives_them(config, field, value, named):
    """A flag is named as a flag, a TOML-only key as its key."""
    setattr(config, field, value)
    with pytest.raises(BrushworkError, match=f"^{named} "):
        Trainer(config)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_photo_gain_out_of_range(config, value):
    config.generator.photo_gain = value
    with pytest.raises(BrushworkError, match="photo_gain must be in"):
        Trainer(config)


@pytest.mark.parametrize(
    "change, message",
    [({"vgg_weights": "w.pth"}, "--vgg-weights is for --backbone vgg19"),
     ({"generator": GeneratorConfig(arch="johnson", photo_gain=0.3)}, "photo_gain is for the brushwork generator"),
     ({"generator": GeneratorConfig(arch="johnson"), "max_strength": 1.5}, "need the brushwork generator")],
)  # fmt: skip
def test_options_that_do_not_apply_are_errors(config, change, message):
    for field, value in change.items():
        setattr(config, field, value)
    with pytest.raises(BrushworkError, match=message):
        config.validate()


def test_checkpoint_that_is_not_ours(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(BrushworkError, match="not a brushwork checkpoint"):
        read_checkpoint(path)
    path.write_bytes(b"junk")
    with pytest.raises(BrushworkError, match="not a readable brushwork checkpoint"):
        read_checkpoint(path)


def test_ctrl_c_during_a_step_stops_at_the_step_boundary(config, monkeypatch):
    import os
    import signal

    config.iterations = 10
    trainer = Trainer(config)
    real_step = trainer.train_step

    def step_with_ctrl_c():
        values = real_step()
        if trainer.step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-step: the step still completes
        return values

    monkeypatch.setattr(trainer, "train_step", step_with_ctrl_c)
    with pytest.raises(BrushworkError, match="interrupted at step 3"):
        trainer.run(progress=False)
    assert read_checkpoint(trainer.run_dir / "checkpoint.pt")["step"] == 3


@pytest.mark.slow
def test_training_moves_colours_towards_the_style(tmp_path, photo_dir):
    """End to end on tiny data: after a short run the outputs' colours move towards the painting."""
    import numpy as np
    from PIL import Image

    from brushwork import Stylizer

    stripes = np.zeros((64, 64, 3), dtype=np.uint8)
    stripes[:, :, 0] = 230
    stripes[::8, :, 2] = 200  # orange with blue stripes: far from the photos' colours
    Image.fromarray(stripes).save(tmp_path / "painting.png")
    config = TrainConfig(
        content=str(photo_dir), style=str(tmp_path / "painting.png"), output=str(tmp_path / "m.safetensors"),
        run_dir=str(tmp_path / "run"), iterations=250, batch_size=2, crop=48, style_size=64,
        backbone="random", device="cpu", sample_every=1000, checkpoint_every=1000,
        generator=GeneratorConfig(channels=8, res_blocks=2),
    )
    train(config, progress=False)
    photo = Image.open(next(photo_dir.glob("*.jpg"))).convert("RGB")
    out = Stylizer.from_file(tmp_path / "m.safetensors", device="cpu")(photo)
    target = stripes.reshape(-1, 3).mean(0)
    before = np.abs(np.asarray(photo, dtype=float).reshape(-1, 3).mean(0) - target).sum()
    after = np.abs(np.asarray(out, dtype=float).reshape(-1, 3).mean(0) - target).sum()
    assert after < 0.75 * before, (after, before)


def test_johnson_baseline_trains_with_the_same_losses_and_loads_back(config, tmp_path):
    from brushwork.models import JohnsonNet
    from brushwork.inference.stylize import Stylizer

    config.generator = GeneratorConfig(arch="johnson", channels=8, res_blocks=1)
    config.iterations = 4
    result = train(config, progress=False)
    stylizer = Stylizer.from_file(result.model_path, device="cpu")
    assert isinstance(stylizer.generator, JohnsonNet)
    assert stylizer(torch.rand(3, 20, 28)).shape == (3, 20, 28)


def test_learning_rate_warms_up_then_decays_to_its_final_fraction():
    from brushwork.training.trainer import lr_factor

    config = TrainConfig(content="x", style="y", iterations=1000, warmup_steps=100, lr_final=0.1)
    factors = [lr_factor(step, config) for step in range(1000)]
    assert factors[0] == pytest.approx(0.01) and factors[99] == pytest.approx(1.0)
    after = factors[100:]
    assert after[0] == pytest.approx(1.0) and all(a >= b for a, b in zip(after, after[1:]))
    assert factors[-1] == pytest.approx(0.1, abs=1e-3)
    constant = TrainConfig(content="x", style="y", iterations=50, warmup_steps=0, lr_final=1.0)
    assert {lr_factor(step, constant) for step in range(50)} == {1.0}


def test_checkpoints_of_format_1_resume_with_their_schedule_and_old_designs_are_refused(config, tmp_path):
    import json

    import dataclasses

    from brushwork.migrations import CHECKPOINT_VERSION
    from brushwork.training.checkpoint import checkpoint_config

    old = config.to_dict()  # as brushwork 0.3 wrote it
    old.update(palette_weight=0.0, random_backbones=1, backbone="random")
    old["generator"].update(version=2, norm="thumbnail", residual="gated", output_range="clamp", output_stage="bilinear",
                            color_transfer=False, per_style_blocks=False)  # fmt: skip
    del old["lr_final"]  # brushwork 0.1 had none: a constant rate
    torch.save({"brushwork_checkpoint": 1, "config": json.dumps(old)}, tmp_path / "old.pt")
    values = checkpoint_config(tmp_path / "old.pt")
    assert values["lr_final"] == 1.0 and "palette_weight" not in values and "random_backbones" not in values
    # Checkpoints before format 3 had a generator without noise channels, and before format 4
    # one with 3×3 stride-2 convs, and resume as such.
    assert TrainConfig.from_dict(values).generator == dataclasses.replace(config.generator, noise_channels=0, down_kernel=3)
    for change, message in (({"palette_weight": 300.0}, "palette loss"), ({"random_backbones": 3}, "several random"),
                            ({"generator": {**old["generator"], "norm": "none"}}, "norm none"),
                            ({"generator": {"arch": "brushwork"}}, "brushwork 0.1")):  # fmt: skip
        torch.save({"brushwork_checkpoint": 1, "config": json.dumps({**old, **change})}, tmp_path / "older.pt")
        with pytest.raises(BrushworkError, match=f"older.pt: .*{message}.*brushwork 0.3 reads it"):
            checkpoint_config(tmp_path / "older.pt")
    torch.save({"brushwork_checkpoint": CHECKPOINT_VERSION + 1, "config": json.dumps(values)}, tmp_path / "newer.pt")
    with pytest.raises(BrushworkError, match="newer brushwork"):
        checkpoint_config(tmp_path / "newer.pt")


def test_format_1_backbone_names_are_migrated_and_auto_is_refused(config, tmp_path):
    import json

    from brushwork.training.checkpoint import checkpoint_config

    old = config.to_dict()  # as brushwork 0.3 wrote it, backbone aside
    old.update(palette_weight=0.0, random_backbones=1)
    old["generator"].update(version=2, norm="thumbnail", residual="gated", output_range="clamp", output_stage="bilinear",
                            color_transfer=False, per_style_blocks=False)  # fmt: skip
    for name, now in (("imagenet", "vgg19"), ("random", "random"), ("vgg19", "vgg19")):
        torch.save({"brushwork_checkpoint": 1, "config": json.dumps({**old, "backbone": name})}, tmp_path / "old.pt")
        assert TrainConfig.from_dict(checkpoint_config(tmp_path / "old.pt")).backbone == now, name
    del old["backbone"]  # brushwork 0.1 wrote none: it meant auto
    for values in ({**old, "backbone": "auto"}, old):
        torch.save({"brushwork_checkpoint": 1, "config": json.dumps(values)}, tmp_path / "auto.pt")
        with pytest.raises(BrushworkError, match="auto.pt: trained with --backbone auto.*brushwork 0.3 reads it"):
            checkpoint_config(tmp_path / "auto.pt")


def test_removed_options_at_their_off_value_still_resume_and_others_are_refused(config, tmp_path):
    import json

    from brushwork.training.checkpoint import checkpoint_config
    from brushwork.training.config import load_toml

    config.iterations = 2
    train(config, progress=False)
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=True)
    stored = json.loads(state["config"])
    # As brushwork 0.5.0 wrote them: the options off, the layer weights resolved to 1 each.
    removed = {"tv_weight": 0.0, "grad_clip": 0.0, "style_layer_weights": [1.0] * len(stored["style_layers"])}
    torch.save({**state, "config": json.dumps({**stored, **removed})}, tmp_path / "old.pt")
    values = checkpoint_config(tmp_path / "old.pt")
    assert not set(removed) & set(values)
    assert train(TrainConfig.from_dict({**values, "iterations": 4}), resume=tmp_path / "old.pt", progress=False).steps == 4
    for key, value in (("tv_weight", 0.1), ("grad_clip", 1.0), ("style_layer_weights", [1.0, 2.0])):
        torch.save({**state, "config": json.dumps({**stored, key: value})}, tmp_path / "set.pt")
        with pytest.raises(BrushworkError, match=f"set.pt: sets {key}, an option this version removed; brushwork 0.5.0 reads it"):
            checkpoint_config(tmp_path / "set.pt")
    (tmp_path / "old.toml").write_text('iterations = 5\ntv_weight = 0.0\ngrad_clip = 0\n')
    assert load_toml(tmp_path / "old.toml") == {"iterations": 5}
    (tmp_path / "set.toml").write_text("tv_weight = 1e-4\n")
    with pytest.raises(BrushworkError, match="set.toml: sets tv_weight"):
        load_toml(tmp_path / "set.toml")


def test_trainer_state_round_trips_and_a_mismatched_checkpoint_is_named(config, tmp_path):
    config.iterations = 3
    trainer = Trainer(config)
    trainer.train_step()
    state = trainer.state_dict()
    other = Trainer(config)
    other.load_state_dict(state)
    assert other.step == 1 and other.history == trainer.history
    for name, value in trainer.generator.state_dict().items():
        assert torch.equal(value, other.generator.state_dict()[name])
    config.generator = GeneratorConfig(channels=16, res_blocks=1)
    with pytest.raises(BrushworkError, match="ck.pt: checkpoint does not match"):
        Trainer(config).load_state_dict(state, "ck.pt")


def test_samples_show_each_photo_next_to_its_stylized_version(config, tmp_path):
    config.iterations = 1
    trainer = Trainer(config)
    path = trainer.save_samples()
    rows = len(trainer.sample_photos)
    with Image.open(path) as grid:
        assert grid.size == (2 * 256 + 6, rows * 262 - 6)  # one row per sample photo: photo | stylized
        first = np.asarray(grid.crop((0, 0, 256, 256)), dtype=float)
    photo = trainer.sample_photos[0][0].permute(1, 2, 0).numpy() * 255
    assert np.abs(first - photo).mean() < 1


def _painting(path, rgb, seed):
    """A synthetic painting: one dominant colour with stroke-like noise."""
    rng = np.random.default_rng(seed)
    image = np.clip(np.array(rgb, float) + rng.normal(0, 40, (48, 48, 1)) * rng.random((1, 1, 3)), 0, 255)
    Image.fromarray(image.astype(np.uint8)).save(path)
    return str(path)


def test_one_model_learns_several_named_styles_and_strength(config, tmp_path):
    red = _painting(tmp_path / "red.png", (220, 40, 30), 1)
    blue = _painting(tmp_path / "blue.png", (30, 60, 220), 2)
    config.style = (f"fire={red}", blue)
    config.max_strength = 1.5
    config.iterations = 80
    result = train(config, progress=False)
    generator, info = load_model(result.model_path)
    assert [s["name"] for s in info["styles"]] == ["fire", "blue"] and info["max_strength"] == 1.5
    assert info["generator"]["cond_dim"] == 3
    photo = torch.rand(1, 3, 32, 32) * 0.5 + 0.25
    fire, cool = (generator(photo, torch.tensor([[1.0, *w]])) for w in ((1, 0), (0, 1)))
    assert (fire[:, 0] - fire[:, 2]).mean() > (cool[:, 0] - cool[:, 2]).mean() + 0.05  # red vs blue
    assert torch.equal(generator(photo, torch.tensor([[0.0, 1, 0]])), photo)


def test_style_names_and_conditioning_options_are_checked(config, tmp_path):
    config.style = ("a=x.jpg", "a=y.jpg")
    with pytest.raises(BrushworkError, match="two styles named 'a'"):
        config.validate()
    config.style = "one.jpg"
    assert config.styles() == ("one.jpg",) and not config.conditioned
    config.max_strength = 1.5
    config.validate()
    config.generator = GeneratorConfig(arch="johnson")
    with pytest.raises(BrushworkError, match="need the brushwork generator"):
        config.validate()
    assert TrainConfig.from_dict({"style": "p.jpg"}).style == ("p.jpg",)  # one style in TOML may be a string
    assert TrainConfig(style=("p.jpg",), name="mine").style_specs() == [("mine", "p.jpg")]


def test_strength_control_adds_photos_off_strength_one_and_trains_the_discriminator_on_strength_one_only(config, monkeypatch):
    config.max_strength, config.batch_size, config.adversarial_start = 1.5, 4, 0
    trainer = Trainer(config)
    seen, judged = [], []
    original = trainer.generator.forward
    monkeypatch.setattr(trainer.generator, "forward", lambda images, cond=None: seen.append(cond) or original(images, cond))
    judge = trainer.discriminator.forward
    monkeypatch.setattr(trainer.discriminator, "forward", lambda images: judged.append(len(images)) or judge(images))
    trainer.train_step()
    strengths = torch.cat(seen)[:, 0].tolist()
    assert strengths[:4] == [1.0] * 4 and len(strengths) == 6 and strengths[4] != strengths[5]
    # D's step: real crops, then the strength-1 fakes only; G's step: every fake (its adversarial
    # term weighted by each photo's strength).
    assert judged == [4, 4, 6]
