import numpy as np
import pytest
from PIL import Image

from brushwork.cli import main

from .conftest import make_photo


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *needles):
    lines = [line for line in err.strip().splitlines() if line.startswith("brushwork: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], err


def test_stylize_one_file(tiny_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.jpg")
    out = tmp_path / "out.png"
    code, stdout, _ = run(["stylize", tiny_model, photo, "-o", out], capsys)
    assert code == 0 and "wrote" in stdout
    with Image.open(out) as image:
        assert image.size == (40, 32) and image.format == "PNG"


def test_a_missing_input_is_named_as_missing_not_blamed_on_the_output(tiny_model, tmp_path, capsys):
    code, _, err = run(["stylize", tiny_model, tmp_path / "missing.jpg", "-o", tmp_path / "a.jpg"], capsys)
    assert code != 0
    assert_one_line_error(err, "missing.jpg", "no such file")
    assert "exactly one input" not in err


def test_a_command_missing_its_input_and_output_names_the_input_first(tiny_model, tmp_path, capsys):
    code, _, err = run(["stylize", tiny_model], capsys)
    assert code != 0
    assert_one_line_error(err, "at least one image or folder")
    code, _, err = run(["stylize", tiny_model, make_photo(tmp_path / "p.jpg")], capsys)
    assert code != 0
    assert_one_line_error(err, "-o/--output")


def test_stylize_folder_mirrors_tree_and_keeps_alpha(tiny_model, photo_dir, tmp_path, capsys):
    rgba = Image.new("RGBA", (20, 16), (200, 50, 20, 255))
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    rgba.save(photo_dir / "sub" / "alpha.png")
    code, _, _ = run(["stylize", tiny_model, photo_dir, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*"))
    assert written == ["p0.jpg", "p1.jpg", "p2.jpg", "sub/alpha.png", "sub/deep.png"]
    with Image.open(tmp_path / "out" / "sub" / "alpha.png") as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0 and image.getpixel((5, 5))[3] == 255


def test_stylize_max_size_and_format(tiny_model, photo_dir, tmp_path, capsys):
    code, _, _ = run(["stylize", tiny_model, photo_dir, "-o", tmp_path / "o", "--max-size", 20, "--image-format", "webp"], capsys)
    assert code == 0
    with Image.open(tmp_path / "o" / "p0.webp") as image:
        assert max(image.size) == 20


def test_batch_goes_past_bad_files_and_fails_at_the_end(tiny_model, photo_dir, tmp_path, capsys):
    (photo_dir / "broken.jpg").write_bytes(b"not really a jpeg")
    good = (photo_dir / "p0.jpg").read_bytes()
    (photo_dir / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (photo_dir / "empty.png").write_bytes(b"")
    code, stdout, err = run(["stylize", tiny_model, photo_dir, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code != 0
    assert "3 failed" in stdout and "stylized 4 image(s)" in stdout
    for name in ("broken.jpg", "truncated.jpg", "empty.png"):
        assert any(name in line for line in err.splitlines()), err
    assert "Traceback" not in err
    assert (tmp_path / "out" / "p2.jpg").exists()
    assert not (tmp_path / "out" / "broken.jpg").exists()


def _save_odd_image(path, kind):
    if kind == "cmyk":
        Image.new("CMYK", (16, 12), (10, 200, 30, 0)).save(path, "JPEG")
    elif kind == "16bit":
        Image.fromarray(np.full((12, 16), 40000, dtype=np.uint16)).save(path)
    elif kind == "palette":
        Image.new("RGB", (16, 12), (30, 90, 200)).convert("P").save(path)
    elif kind == "gray":
        Image.new("L", (16, 12), 128).save(path)
    elif kind == "gray_alpha":
        Image.new("LA", (16, 12), (128, 100)).save(path)


@pytest.mark.parametrize("kind, ext", [("cmyk", "jpg"), ("16bit", "png"), ("palette", "png"), ("gray", "png"), ("gray_alpha", "png")])
def test_unusual_modes_are_converted(tiny_model, tmp_path, capsys, kind, ext):
    source = tmp_path / f"odd.{ext}"
    _save_odd_image(source, kind)
    code, _, err = run(["stylize", tiny_model, source, "-o", tmp_path / "out.png"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (16, 12) and image.mode in ("RGB", "RGBA")


def test_decompression_bomb_is_refused(tiny_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    source = make_photo(tmp_path / "big.png")
    code, _, err = run(["stylize", tiny_model, source, "-o", tmp_path / "out.png"], capsys)
    assert code != 0 and "big.png" in err and "too large" in err and "Traceback" not in err


def test_model_errors(tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.jpg")
    text = tmp_path / "model.safetensors"
    text.write_text("hello")
    pickle_file = tmp_path / "model.pt"
    pickle_file.write_bytes(b"\x80\x04\x95" + b"\x00" * 20)
    cases = [
        (text, "not a brushwork model"),
        (pickle_file, "refusing"),
        (tmp_path / "missing.safetensors", "no such model file"),
        ("no_such_style", "unknown style 'no_such_style'"),
    ]
    for model, message in cases:
        code, _, err = run(["stylize", model, photo, "-o", tmp_path / "out.png"], capsys)
        assert code != 0
        assert_one_line_error(err, message)


def test_unknown_style_lists_known_ones(tmp_path, capsys):
    code, _, err = run(["stylize", "no_such_style", make_photo(tmp_path / "p.jpg"), "-o", tmp_path / "o.png"], capsys)
    assert code != 0 and "known styles: classics, great_wave, monet, starry_night (bundled" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["stylize", "M", "IN.png", "-o", "o.png", "--max-size", "0"], "--max-size"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--max-size", "abc"], "--max-size"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--device", "tpu"], "--device"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--tile", "-3"], "--tile"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--tile", "big"], "--tile"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--engine", "tensorrt"], "--engine"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--precision", "fp64"], "--precision"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--precision", "fp16", "--device", "cpu"], "fp16"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--compile", "--device", "cpu"], "--compile needs a CUDA GPU"),
        (["stylize", "M", "IN.png", "-o", "o.png", "--compile", "--engine", "onnx"], "--compile is for the torch"),
        (["stylize", "--optimize", "--style", "IN.png", "IN.png", "-o", "o.png", "--engine", "onnx"], "--engine"),
        (["export", "M", "--format", "tflite"], "tflite"),
        (["export", "missing.safetensors"], "missing.safetensors"),
        (["train", "--content", "x", "--style", "y", "--iterations", "-5"], "--iterations"),
        (["train", "--content", "x", "--style", "y", "--backbone", "alexnet"], "alexnet"),
        (["train", "--style", "y"], "--content"),
        (["train", "--content", "x", "--style", "y", "--cond-dim", "2"], "--cond-dim"),
        (["train", "--content", "x", "--style", "y", "--lr-final", "2"], "--lr-final"),
        (["train", "--config", "missing.toml"], "missing.toml"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_options_one_line(tmp_path, capsys, monkeypatch, tiny_model, argv, message):
    monkeypatch.chdir(tmp_path)
    make_photo(tmp_path / "IN.png")
    argv = [str(tiny_model) if a == "M" else a for a in argv]
    code, _, err = run(argv, capsys)
    assert code != 0
    assert_one_line_error(err, message)


def test_output_file_needs_one_input(tiny_model, photo_dir, tmp_path, capsys):
    code, _, err = run(["stylize", tiny_model, photo_dir, "-o", tmp_path / "x.png"], capsys)
    assert code != 0
    assert_one_line_error(err, "exactly one input")


def test_two_inputs_never_write_one_output(tiny_model, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    make_photo(photos / "a.jpg", seed=1)
    make_photo(photos / "a.png", seed=2)  # both are a.png once --image-format png
    make_photo(photos / "b.jpg", seed=3)
    code, out, err = run(["stylize", tiny_model, photos, "-o", tmp_path / "out", "--image-format", "png", "--quiet"], capsys)
    assert code == 1 and "stylized 2 image(s)" in out and "1 failed" in out
    assert "a.png: output" in err and "would overwrite another output" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


def test_an_output_never_overwrites_its_input(tiny_model, photo_dir, tmp_path, capsys):
    photo = photo_dir / "p0.jpg"
    before = {path: path.read_bytes() for path in photo_dir.rglob("*.*")}
    code, _, err = run(["stylize", tiny_model, photo, "-o", photo], capsys)
    assert code == 1 and f"{photo}: output would overwrite the input" in err
    code, out, err = run(["stylize", tiny_model, photo_dir, "-o", photo_dir, "--quiet"], capsys)  # the folder onto itself
    assert code == 1 and "stylized 0 image(s)" in out and err.count("would overwrite the input") == 4
    assert {path: path.read_bytes() for path in photo_dir.rglob("*.*")} == before


def test_info_prints_metadata(tiny_model, capsys):
    code, out, _ = run(["info", tiny_model], capsys)
    assert code == 0 and "tiny test style" in out and "channels=8" in out
    code, out, _ = run(["info", tiny_model, "--json"], capsys)
    assert code == 0 and '"style_name": "tiny"' in out


def test_train_reads_toml_and_flags_override(tmp_path, photo_dir, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    style = make_photo(tmp_path / "painting.png", size=(40, 40), seed=3)
    (tmp_path / "cfg.toml").write_text(
        f'content = "{photo_dir}"\nstyle = "{style}"\niterations = 50\ncrop = 48\nbatch_size = 1\n'
        'backbone = "random"\nstyle_size = 40\n[generator]\nchannels = 8\nres_blocks = 1\n'
    )
    code, out, err = run(["train", "--config", "cfg.toml", "--iterations", 3, "--output", "m.safetensors", "--quiet"], capsys)
    assert code == 0, err
    assert "3 steps from random weights" in out and (tmp_path / "m.safetensors").exists()  # a generator of its own shape
    code, out, _ = run(["info", "m.safetensors", "--json"], capsys)
    assert '"channels": 8' in out and '"init": "none"' in out
    code, out, err = run(["train", "--config", "cfg.toml", "--iterations", 2, "--init", "m.safetensors", "--output", "v2.safetensors",
                          "--quiet"], capsys)  # fmt: skip
    assert code == 0 and "2 steps from m.safetensors" in out, err
    (tmp_path / "bad.toml").write_text("iterations = 5\nbogus_option = 1\n")
    code, _, err = run(["train", "--config", "bad.toml"], capsys)
    assert code != 0
    assert_one_line_error(err, "bogus_option")


def test_training_input_errors_are_one_line(tmp_path, photo_dir, capsys):
    style = make_photo(tmp_path / "painting.png", size=(40, 40))
    (tmp_path / "bad.pth").write_bytes(b"\x00garbage")
    (tmp_path / "notes.txt").write_text("not a painting")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    base = ["train", "--content", photo_dir, "--iterations", 1]
    cases = [
        (["--style", style, "--backbone", "vgg19", "--vgg-weights", tmp_path / "bad.pth"], "bad.pth"),
        (["--style", tmp_path / "notes.txt"], "no images found"),
        (["--style", broken], "broken.jpg"),
        (["--style", tmp_path / "nowhere.jpg"], "nowhere.jpg"),
        (["--style", style, "--init", tmp_path / "nowhere.safetensors"], "nowhere.safetensors: no such model file"),
        (["--style", style, "--init", tmp_path / "bad.pth"], "bad.pth"),
        (["--style", style, "--arch", "johnson", "--init", "base"], "--init base: its generator differs"),
    ]
    for extra, message in cases:
        code, _, err = run(base + extra, capsys)
        assert code != 0
        assert_one_line_error(err, message)
    code, _, err = run(["train", "--resume", tmp_path / "missing.pt"], capsys)
    assert code != 0
    assert_one_line_error(err, "missing.pt")


def test_train_takes_dash_o_as_stylize_does():
    from brushwork.cli.parser import build_parser

    args = build_parser().parse_args(["train", "--content", "photos", "--style", "p.jpg", "-o", "m.safetensors"])
    assert args.output == "m.safetensors"
