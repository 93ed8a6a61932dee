"""Full disks and read-only folders: writing a model, a checkpoint or a stylized image fails
with one line naming the file, and leaves the earlier file there byte for byte.

The full disk is a small tmpfs mounted by the test (root only; skipped, with the reason,
where mounting is not allowed). A read-only folder is a read-only mount where the test can
mount (root ignores permission bits), else a folder without write permission."""

import contextlib
import io
import os
import subprocess

import pytest
import torch

from brushwork.cli import main
from brushwork.errors import BrushworkError
from brushwork.inference.modelfile import save_model
from brushwork.models import Generator, GeneratorConfig
from brushwork.training.checkpoint import read_checkpoint, save_checkpoint

from .hostile_corpus import picture


def _mount(request, path, options):
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    except OSError as exc:  # no mount command
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(path)], check=False))


@pytest.fixture(params=["full", "read-only"])
def place(request, tmp_path):
    """A folder holding earlier files (model, checkpoint, image) that cannot take a new one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = os.geteuid() == 0
    if mounted:
        _mount(request, folder, "size=512k")
    _earlier_files(folder)
    if request.param == "full":
        if not mounted:
            pytest.skip("a full disk needs a small tmpfs, and mounting one needs root")
        with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
    elif mounted:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "filler"}
    yield folder, before
    if not mounted:
        folder.chmod(0o755)


def _generator(seed):
    torch.manual_seed(seed)
    return Generator(GeneratorConfig(channels=8, res_blocks=1))


def _earlier_files(folder):
    save_model(folder / "model.safetensors", _generator(0), {"style_name": "earlier"})
    save_checkpoint(folder / "checkpoint.pt", {"config": "{}", "generator": _generator(0).state_dict()})
    picture(48, 40).save(folder / "photo_out.png")


def _unchanged(folder, before):
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "filler"}
    assert after == before  # same names (no temporary file left behind), same bytes


def test_model_write_fails_in_one_line_and_keeps_the_earlier_model(place):
    folder, before = place
    big = Generator(GeneratorConfig(channels=32, res_blocks=4))  # larger than the space left
    with pytest.raises(BrushworkError, match=r"model.safetensors: cannot write model \(") as caught:
        save_model(folder / "model.safetensors", big, {"style_name": "new"})
    assert "\n" not in str(caught.value)
    _unchanged(folder, before)


def test_checkpoint_write_fails_in_one_line_and_keeps_the_earlier_checkpoint(place):
    folder, before = place
    state = {"config": "{}", "generator": {"w": torch.zeros(1 << 18)}}
    with pytest.raises(BrushworkError, match=r"checkpoint.pt: cannot write checkpoint \(.*earlier checkpoint there is unchanged"):
        save_checkpoint(folder / "checkpoint.pt", state)
    _unchanged(folder, before)
    assert read_checkpoint(folder / "checkpoint.pt")["config"] == {"init": "none"}  # "{}", read as a pre-0.8 config


def test_stylize_onto_it_fails_in_one_line_and_keeps_the_earlier_image(place, tiny_model, tmp_path):
    folder, before = place
    picture(400, 300).save(tmp_path / "photo.png")  # its PNG is larger than the space left
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["stylize", str(tiny_model), str(tmp_path / "photo.png"), "-o", str(folder / "photo_out.png"), "--quiet"])
    lines = err.getvalue().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"brushwork: failed: {folder / 'photo_out.png'}: cannot write image (")
    _unchanged(folder, before)
