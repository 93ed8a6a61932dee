"""The web studio's parts without a browser: upload checks, the style library, stylizing an
upload, the training job queue, and `brushwork serve` without Gradio."""

import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from brushwork.cli import main
from brushwork.errors import BrushworkError
from brushwork.web.jobs import JobQueue
from brushwork.web.library import StyleLibrary
from brushwork.web.settings import Limits, StudioSettings
from brushwork.web.stylize_service import PAINTING_CHOICE, StylizeRequest, stylize_upload
from brushwork.web.train_service import TrainRequest, start_training
from brushwork.web.uploads import copy_checked, open_upload

from .conftest import make_photo
from .web_uploads import TEST_MEGAPIXELS, TEST_UPLOAD_MB, bad_uploads

LIMITS = Limits(max_megapixels=TEST_MEGAPIXELS, max_upload_mb=TEST_UPLOAD_MB)


@pytest.fixture
def studio(tmp_path, tiny_model):
    settings = StudioSettings(library_dir=tmp_path / "models", outputs_dir=tmp_path / "outputs", limits=LIMITS)
    (settings.library_dir / "tiny.safetensors").write_bytes(tiny_model.read_bytes())
    return settings, StyleLibrary(settings.library_dir)


@pytest.mark.parametrize("case", ["non-image", "truncated", "over-limit", "renamed"])
def test_bad_upload_is_refused_with_its_message(tmp_path, case):
    path, words = bad_uploads(tmp_path)[case]
    with pytest.raises(BrushworkError, match=words):
        open_upload(path, LIMITS)


def test_upload_byte_limit_and_empty_file(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (900, 1000, 3), dtype=np.uint8)  # 0.9 MP, incompressible
    Image.fromarray(noise).save(tmp_path / "noise.png")
    with pytest.raises(BrushworkError, match=r"noise.png: 2\.\d MB, over this server's limit of 1 MB"):
        open_upload(tmp_path / "noise.png", LIMITS)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(BrushworkError, match="empty.jpg: the file is empty"):
        open_upload(tmp_path / "empty.jpg", LIMITS)


def test_type_comes_from_content_not_name(tmp_path):
    png_named_jpg = make_photo(tmp_path / "really_png.jpg", size=(30, 20))
    Image.open(png_named_jpg).save(png_named_jpg, format="PNG")
    assert open_upload(png_named_jpg, LIMITS).size == (30, 20)
    copies = copy_checked([str(png_named_jpg)], tmp_path / "copies", LIMITS)
    assert [p.name for p in copies] == ["0000.png"]  # named for what it is, so training finds it


def test_library_lists_styles_and_deletes_only_trained_ones(studio):
    settings, library = studio
    names = library.names()
    assert "starry_night" in names and names[-1] == "tiny"
    assert library.find("tiny").thumbnail() is None and library.find("starry_night").thumbnail() is not None
    with pytest.raises(BrushworkError, match="bundled style"):
        library.delete("starry_night")
    with pytest.raises(BrushworkError, match="no style named '../tiny'"):
        library.delete("../tiny")
    assert library.delete("tiny").startswith("deleted tiny")
    assert "tiny" not in library.names() and not (settings.library_dir / "tiny.safetensors").exists()


def test_stylize_upload_full_size_with_mask(studio, tmp_path):
    settings, library = studio
    photo = make_photo(tmp_path / "photo.png", size=(300, 200))
    mask = Image.new("L", (30, 20), 0)
    mask.paste(255, (15, 0, 30, 20))  # the right half, at another size than the photo
    request = StylizeRequest(photo=str(photo), style="tiny", mask=mask, image_format="png")
    result = stylize_upload(request, library, settings)
    out = np.asarray(Image.open(result.download))
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert out.shape == original.shape and result.download.parent.parent == settings.outputs_dir
    assert np.array_equal(out[:, :140], original[:, :140]) and not np.array_equal(out[:, 160:], original[:, 160:])
    assert "photo.png (300×200) with tiny" in result.message


def test_stylize_upload_refuses_unknown_style_and_bad_mix(studio, tmp_path):
    settings, library = studio
    photo = str(make_photo(tmp_path / "photo.jpg"))
    with pytest.raises(BrushworkError, match="no style named 'nope'"):
        stylize_upload(StylizeRequest(photo=photo, style="nope"), library, settings)
    with pytest.raises(BrushworkError, match="style-mix"):
        stylize_upload(StylizeRequest(photo=photo, style="classics", mix="starry_night=x"), library, settings)


def test_job_queue_cancels_running_and_queued_jobs_and_keeps_state_on_disk(studio, tmp_path):
    settings, library = studio
    photos = [str(make_photo(tmp_path / f"p{i}.jpg", size=(48, 40), seed=i)) for i in range(2)]
    painting = str(make_photo(tmp_path / "painting.png", size=(64, 64), seed=5))
    queue = JobQueue(settings.jobs_dir)
    try:
        options = dict(paintings=[painting], photos=photos, iterations=5000, batch_size=1, crop=48, backbone="random")
        first = start_training(TrainRequest(name="first", **options), queue, library, settings)
        second = start_training(TrainRequest(name="second", **options), queue, library, settings)
        with pytest.raises(BrushworkError, match="already queued or running"):
            start_training(TrainRequest(name="first", **options), queue, library, settings)
        with pytest.raises(BrushworkError, match="exists already"):
            start_training(TrainRequest(name="starry_night", **options), queue, library, settings)
        deadline = time.monotonic() + 60
        while queue.job(first.id).status != "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.job(second.id).status == "queued"  # one job at a time
        assert "had not started" in queue.cancel(second.id)
        assert queue.cancel(first.id).startswith("cancelling")
        deadline = time.monotonic() + 120  # the stop's own time: the next step, then the checkpoint
        while queue.job(first.id).status == "cancelling" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.job(first.id).status == "cancelled"
    finally:
        queue.close()
    # Another server on the same folder sees the same jobs.
    again = JobQueue(settings.jobs_dir)
    try:
        assert [job.status for job in again.jobs()] == ["cancelled", "cancelled"]
    finally:
        again.close()
    assert "first" not in library.names()


def test_serve_without_gradio_says_how_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "brushwork: error: the web studio needs Gradio: pip install 'brushwork[web]'"


def test_other_commands_never_load_gradio():
    code = ("import sys, brushwork, brushwork.web.settings; from brushwork.cli import main; main(['styles']); "
            "print('gradio' in sys.modules)")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1] == "False"


def test_stylize_upload_towards_an_uploaded_painting(studio, tmp_path):
    settings, library = studio
    photo = make_photo(tmp_path / "photo.jpg", size=(120, 100))
    painting = make_photo(tmp_path / "painting.png", size=(96, 96), seed=3)
    request = StylizeRequest(photo=str(photo), style=PAINTING_CHOICE, painting=str(painting), steps=2, size=96)
    result = stylize_upload(request, library, settings)
    assert Image.open(result.download).size == (96, 80) and "(optimised)" in result.message
    with pytest.raises(BrushworkError, match="upload a painting"):
        stylize_upload(StylizeRequest(photo=str(photo), style=PAINTING_CHOICE), library, settings)


@pytest.mark.slow  # a real server process: Gradio's import and start-up take most of 20 s on a busy machine
def test_serve_command_answers_on_loopback_and_stops_on_ctrl_c(tmp_path):
    pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[web]')")
    import signal
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "brushwork", "serve", "--port", str(port), "--library", str(tmp_path / "m")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline, page = time.monotonic() + 90, ""
        while time.monotonic() < deadline and not page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.5)
        assert "brushwork studio" in page
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    assert f"brushwork studio on http://127.0.0.1:{port}" in out and "Traceback" not in err
    assert (tmp_path / "m" / ".studio" / "jobs").is_dir()


def test_training_on_the_server_photo_folder(studio, tmp_path):
    settings, library = studio
    painting = str(make_photo(tmp_path / "painting.png", size=(64, 64), seed=5))
    request = TrainRequest(name="server_photos", paintings=[painting], use_server_photos=True, iterations=5000, crop=48,
                           backbone="random")  # fmt: skip
    queue = JobQueue(settings.jobs_dir)
    try:
        with pytest.raises(BrushworkError, match="no photo folder"):
            start_training(request, queue, library, settings)
        settings.photos_dir = tmp_path  # as --photos DIR gives it
        job = start_training(request, queue, library, settings)
        assert job.request["config"]["content"] == str(tmp_path) and not (job.folder / "photos").exists()
        queue.cancel(job.id)
    finally:
        queue.close()


def test_the_training_form_offers_the_command_lines_defaults(tmp_path):
    pytest.importorskip("gradio")
    from brushwork.training.config import TrainConfig
    from brushwork.web.app import build_app

    demo, queue = build_app(StudioSettings(library_dir=tmp_path / "library", outputs_dir=tmp_path / "outputs"))
    try:
        fields = {block.elem_id: block for block in demo.blocks.values() if block.elem_id}
        steps = fields["train-steps"]
        assert steps.value == TrainConfig.iterations and f"{TrainConfig.iterations} take" in steps.label
        assert fields["train-batch"].value == TrainConfig.batch_size and fields["train-crop"].value == TrainConfig.crop
        assert fields["train-backbone"].value == TrainConfig.backbone
    finally:
        queue.close()
