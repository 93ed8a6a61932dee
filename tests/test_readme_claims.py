"""Behaviour the README promises that other test files do not cover."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.cli import main
from brushwork.models import GeneratorConfig
from brushwork.training.config import TrainConfig
from brushwork.training.trainer import train

from .conftest import make_photo
from .test_cli import assert_one_line_error, run


def test_the_inference_core_imports_no_training_loss_metric_or_feature_network_code():
    # A fresh interpreter: this test process has long imported everything.
    code = (
        "import sys, brushwork.inference.stylize, brushwork.inference.export, brushwork.inference.regions, "
        "brushwork.inference.mixing; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('brushwork'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "brushwork.inference.stylize" in loaded
    forbidden = [m for m in loaded if m.split(".")[1:2] in (["training"], ["perceptual"], ["evaluation"], ["cli"])]
    assert not forbidden, forbidden
    assert "timm" not in subprocess.run([sys.executable, "-c", code.replace("m.startswith('brushwork')", "True")],
                                        capture_output=True, text=True, check=True).stdout.split()  # fmt: skip


def test_the_stylize_and_styles_commands_load_only_the_inference_core(tiny_model, tmp_path):
    photo = make_photo(tmp_path / "photo.png")
    code = (
        "import sys; from brushwork.cli import main; "
        f"assert main(['stylize', {str(tiny_model)!r}, {str(photo)!r}, '-o', {str(tmp_path / 'out.png')!r}, '--quiet']) == 0; "
        "assert main(['styles']) == 0; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('brushwork.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()
    assert "brushwork.inference.stylize" in loaded and (tmp_path / "out.png").is_file()
    # The flags' defaults come from perceptual/options.py, which imports nothing heavy.
    heavy = [m for m in loaded if m.split(".")[1] in ("training", "evaluation", "perceptual")
             and m not in ("brushwork.perceptual", "brushwork.perceptual.options")]  # fmt: skip
    assert not heavy, heavy


def test_train_help_is_a_short_curated_list_with_defaults_and_choices(capsys):
    from brushwork.training.config import FLAGS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    flags = [line.split()[0].rstrip(",") for line in text.splitlines() if line.startswith("  -")]
    assert "-h" in flags and len(flags) <= 22, flags  # 21 options and --help
    # A flag with a short form is listed by it ("-o OUTPUT, --output OUTPUT").
    long_flags = ("--" + f.replace("_", "-") for f in FLAGS)
    assert sorted(flags) == sorted(["-h", "--config", "--resume", "--quiet", *("-o" if f == "--output" else f for f in long_flags)])
    for flag in ("--iterations", "--init", "--content-weight", "--style-weight", "--batch-size"):
        assert flag in flags
    from brushwork.perceptual.options import CONTENT_WEIGHT

    content_help = text.split("\n  --content-weight", 1)[1].split("\n  -", 1)[0]
    assert "(default: 150)" in text and f"(default: {CONTENT_WEIGHT})" in " ".join(content_help.split())
    assert "{efficientnet-lite0,vgg19,random}" in text and "{brushwork,johnson}" in text
    for research in ("--lr-g", "--crop", "--style-layers", "--photo-gain", "--precision"):
        assert research not in flags  # TOML keys only


def test_research_options_live_in_the_toml_config(tmp_path, photo_dir, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    style = make_photo(tmp_path / "painting.png", size=(40, 40))
    (tmp_path / "cfg.toml").write_text(
        f'content = "{photo_dir}"\nstyle = "{style}"\niterations = 2\ncrop = 48\nbatch_size = 1\nlr_g = 0.001\n'
        'backbone = "random"\nstyle_size = 40\n[generator]\nchannels = 8\nres_blocks = 1\nphoto_gain = 0.2\n'
    )
    code, _, err = run(["train", "--config", "cfg.toml", "--output", "m.safetensors", "--quiet"], capsys)
    assert code == 0, err
    code, out, _ = run(["info", "m.safetensors", "--json"], capsys)
    assert '"lr_g": 0.001' in out and '"photo_gain": 0.2' in out
    code, _, err = run(["train", "--config", "cfg.toml", "--crop", "64"], capsys)
    assert code == 2 and "unrecognized arguments: --crop" in err


@pytest.fixture
def quick(tmp_path, photo_dir):
    style = make_photo(tmp_path / "painting.png", size=(40, 40), seed=3)
    return TrainConfig(
        content=str(photo_dir), style=str(style), output=str(tmp_path / "m.safetensors"), run_dir=str(tmp_path / "run"),
        iterations=2, batch_size=1, crop=48, style_size=40, backbone="random", device="cpu", sample_every=100,
        checkpoint_every=2, generator=GeneratorConfig(channels=8, res_blocks=1),
    )  # fmt: skip


def test_flags_given_with_resume_override_the_stored_ones(quick, tmp_path, capsys):
    train(quick, progress=False)
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    code, out, err = run(["train", "--resume", checkpoint, "--iterations", 4, "--output", tmp_path / "more.safetensors",
                          "--quiet"], capsys)  # fmt: skip
    assert code == 0, err
    assert "4 steps" in out and (tmp_path / "more.safetensors").is_file()
    code, out, _ = run(["info", tmp_path / "more.safetensors", "--json"], capsys)
    assert '"iterations": 4' in out and '"crop": 48' in out  # the rest comes from the checkpoint
    code, _, err = run(["train", "--resume", checkpoint, "--config", "x.toml"], capsys)
    assert code == 2
    assert_one_line_error(err, "--resume", "not both")


def test_training_on_a_collection_and_tensorboard_curves(quick, tmp_path):
    pytest.importorskip("tensorboard")
    collection = tmp_path / "artist"
    collection.mkdir()
    for seed in range(3):
        make_photo(collection / f"work{seed}.png", size=(44, 36), seed=10 + seed)
    quick.style = (str(collection),)
    result = train(quick, progress=False)
    from brushwork.inference.modelfile import read_metadata

    info = read_metadata(result.model_path)
    assert info["style_kind"] == "collection" and info["style_name"] == "artist"
    events = list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars = EventAccumulator(str(events[0].parent)).Reload().Tags()["scalars"]
    assert {"loss/content", "loss/style", "loss/total"} <= set(scalars)


def test_several_inputs_each_get_their_own_output_subfolder(tiny_model, tmp_path, capsys):
    first, second = tmp_path / "trip", tmp_path / "home"
    for folder in (first, second / "garden"):
        folder.mkdir(parents=True)
    make_photo(first / "a.jpg")
    make_photo(second / "garden" / "b.png")
    single = make_photo(tmp_path / "c.png")
    code, _, err = run(["stylize", tiny_model, first, second, single, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code == 0, err
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*"))
    assert written == ["c.png", "home/garden/b.png", "trip/a.jpg"]


@pytest.mark.parametrize("ext", ["png", "webp", "tiff"])
def test_transparency_is_kept(tiny_model, tmp_path, capsys, ext):
    rgba = np.zeros((24, 32, 4), dtype=np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.linspace(0, 255, 32, dtype=np.uint8)[None, :]
    source = tmp_path / f"cut.{ext}"
    Image.fromarray(rgba, "RGBA").save(source, **({"lossless": True} if ext == "webp" else {}))
    code, _, err = run(["stylize", tiny_model, source, "-o", tmp_path / f"out.{ext}"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / f"out.{ext}") as out:
        assert out.mode == "RGBA"
        assert np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])


def test_a_mask_with_transparency_uses_its_alpha(tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", size=(40, 32))
    mask = np.zeros((32, 40, 4), dtype=np.uint8)
    mask[..., :3] = 0  # black everywhere: only the alpha says where to paint
    mask[:, 20:, 3] = 255
    Image.fromarray(mask, "RGBA").save(tmp_path / "cutout.png")
    code, _, err = run(["stylize", tiny_model, photo, "-o", tmp_path / "out.png", "--mask", tmp_path / "cutout.png"], capsys)
    assert code == 0, err
    before, after = (np.asarray(Image.open(p).convert("RGB"), dtype=int) for p in (photo, tmp_path / "out.png"))
    assert np.array_equal(before[:, :20], after[:, :20])  # transparent: the photo's exact bytes
    assert np.abs(before[:, 20:] - after[:, 20:]).mean() > 1  # opaque: stylized


def test_device_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    from brushwork.devices import pick_device
    from brushwork.errors import BrushworkError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto").type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto").type == "cpu"
    with pytest.raises(BrushworkError, match="no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(BrushworkError, match="--device must be one of"):
        pick_device("tpu")
