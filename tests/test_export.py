import json
import sys
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from brushwork.errors import BrushworkError
from brushwork.inference.export import export_model
from brushwork.inference.modelfile import load_model, save_model
from brushwork.inference.stylize import Stylizer
from brushwork.models import GeneratorConfig, build_generator

from .test_cli import assert_one_line_error, run
from .test_tiling import assert_seamless, textured_pixels

SIZES = [(1, 3, 64, 64), (1, 3, 37, 53), (2, 3, 8, 9), (1, 3, 1, 1), (1, 3, 130, 70)]


@pytest.fixture
def onnxruntime():
    """onnxruntime, for the tests that run exported graphs (the ones about its absence run without it)."""
    return pytest.importorskip("onnxruntime")


def test_onnx_export_matches_pytorch_at_any_size(tiny_model, tmp_path, onnxruntime):
    path = export_model(tiny_model, "onnx", tmp_path / "tiny.onnx")
    generator, metadata = load_model(tiny_model)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    torch.manual_seed(1)
    for shape in SIZES:
        images = torch.rand(*shape)
        small = images[:, :, ::2, ::2]  # the statistics may come from any thumbnail of the image
        expected = generator(images, thumbnail=small).numpy()
        got = session.run(None, {"image": images.numpy(), "thumbnail": small.numpy()})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-3, shape
    stored = json.loads(session.get_modelmeta().custom_metadata_map["brushwork"])
    assert stored["style_name"] == metadata["style_name"] == "tiny"


def test_johnsons_network_exports_a_single_input(tmp_path, onnxruntime):
    # It normalises each image by itself, so it takes no thumbnail.
    torch.manual_seed(0)
    generator = build_generator(GeneratorConfig(arch="johnson", channels=8, res_blocks=1)).eval()
    save_model(tmp_path / "johnson.safetensors", generator, {"style_name": "johnson"})
    path = export_model(tmp_path / "johnson.safetensors", "onnx", tmp_path / "johnson.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    images = torch.rand(2, 3, 37, 53)
    got = session.run(None, {"image": images.numpy()})[0]
    assert np.abs(got - generator(images).detach().numpy()).max() <= 1e-3


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_torchscript_export_matches_pytorch_at_any_size(tiny_model, tmp_path):
    path = export_model(tiny_model, "torchscript", tmp_path / "tiny.pt")
    generator, _ = load_model(tiny_model)
    extra = {"brushwork.json": ""}
    scripted = torch.jit.load(str(path), _extra_files=extra)
    for shape in SIZES:
        images = torch.rand(*shape)
        assert torch.allclose(scripted(images, images), generator(images, thumbnail=images), atol=1e-5), shape
    assert json.loads(extra["brushwork.json"])["style_name"] == "tiny"
    assert zipfile.is_zipfile(path)


def test_onnx_engine_stylizes_like_pytorch(tiny_model, tmp_path, photo_dir, onnxruntime):
    photo = Image.open(photo_dir / "p0.jpg")
    reference = np.asarray(Stylizer.from_file(tiny_model, device="cpu")(photo)).astype(int)
    in_memory = Stylizer.from_file(tiny_model, engine="onnx")
    from_file = Stylizer.from_file(export_model(tiny_model, "onnx", tmp_path / "t.onnx"))
    for stylizer in (in_memory, from_file):
        assert stylizer.name == "tiny"
        assert np.abs(np.asarray(stylizer(photo)).astype(int) - reference).max() <= 1  # rounding only
    # Tiled, the exported graph gets the whole image's thumbnail as the model does.
    big = Image.fromarray(textured_pixels(288, 320, seed=6).numpy())  # 6 × 7 tiles of 48 px
    whole = Stylizer.from_file(tiny_model, device="cpu", tile=0)(big)
    tiled = Stylizer.from_file(tmp_path / "t.onnx", tile=48)(big)
    assert_seamless(whole, tiled, 48)


def test_cli_export_and_onnx_engine(tiny_model, tmp_path, photo_dir, capsys, monkeypatch, onnxruntime):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["export", tiny_model], capsys)
    assert code == 0 and (tmp_path / "tiny.onnx").is_file() and "wrote tiny.onnx" in out
    code, out, _ = run(["export", tiny_model, "--format", "torchscript", "-o", "ts/model.pt"], capsys)
    assert code == 0 and (tmp_path / "ts" / "model.pt").is_file()
    code, out, _ = run(["stylize", tmp_path / "tiny.onnx", photo_dir, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code == 0 and "stylized 4 image(s) with tiny" in out
    code, out, _ = run(["stylize", tiny_model, photo_dir / "p1.jpg", "-o", tmp_path / "o.png", "--engine", "onnx"], capsys)
    assert code == 0 and (tmp_path / "o.png").is_file()


def test_missing_onnxruntime_is_a_clear_error(tiny_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(BrushworkError, match=r"pip install 'brushwork\[onnx\]'"):
        Stylizer.from_file(tiny_model, engine="onnx")
    code, _, err = run(["stylize", tiny_model, "x.png", "-o", tmp_path / "o.png", "--engine", "onnx"], capsys)
    assert code == 2
    assert_one_line_error(err, "onnxruntime", "brushwork[onnx]")


def test_missing_exporter_is_a_clear_error(tiny_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    code, _, err = run(["export", tiny_model, "-o", tmp_path / "m.onnx"], capsys)
    assert code == 2
    assert_one_line_error(err, "onnxscript", "brushwork[onnx]")
    assert not (tmp_path / "m.onnx").exists()


def test_bad_onnx_files_are_clear_errors(tmp_path, capsys, onnxruntime):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07garbage" * 10)
    for model, needle in ((broken, "not a loadable ONNX model"), (tmp_path / "absent.onnx", "no such model file")):
        code, _, err = run(["stylize", model, "x.png", "-o", tmp_path / "o.png"], capsys)
        assert code == 2
        assert_one_line_error(err, str(model), needle)


def test_models_with_strength_and_styles_export_a_cond_input(two_style_model, tmp_path, onnxruntime):
    path = export_model(two_style_model, "onnx", tmp_path / "two.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image", "cond", "thumbnail"]
    generator, _ = load_model(two_style_model)
    images = torch.rand(2, 3, 37, 53)
    cond = torch.tensor([[0.6, 0.3, 0.7], [1.5, 0.0, 1.0]])
    feed = {"image": images.numpy(), "cond": cond.numpy(), "thumbnail": images.numpy()}
    got = session.run(None, feed)[0]
    assert np.abs(got - generator(images, cond).numpy()).max() <= 1e-3
    photo = Image.fromarray((images[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8))
    options = {"strength": 0.6, "mix": {"warm": 0.3, "cool": 0.7}}
    reference = np.asarray(Stylizer.from_file(two_style_model, device="cpu", **options)(photo), dtype=int)
    assert np.abs(np.asarray(Stylizer.from_file(path, **options)(photo), dtype=int) - reference).max() <= 1
    assert np.array_equal(np.asarray(Stylizer.from_file(path, strength=0)(photo)), np.asarray(photo))
