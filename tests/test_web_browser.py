"""The web studio end to end in headless Chromium (Debian's `chromium`, driven by Playwright;
nothing is downloaded): stylize and download, bad uploads, a tiny training job, a cancel.

Each page's screenshot goes to the test's temporary folder. The README's screenshots come from
docs/make_screenshots.py, with a real training (a 4-step test job is not what users see).
"""

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import make_photo
from .web_uploads import TEST_MEGAPIXELS, TEST_UPLOAD_MB, bad_uploads

CHROMIUM = "/usr/bin/chromium"
# Root runs Chromium only without its sandbox; the next ones keep it from calling home; the
# last two give it a synthetic camera that needs no permission prompt (the webcam test).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream"]  # fmt: skip
REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "examples" / "photo.jpg"  # a real photo, so the screenshots show what the studio does
TIMEOUT_MS = 120_000  # the longest wait for the page to answer a click (a 2.8 MP photo on a busy 2-core machine)
JOB_TIMEOUT_MS = 300_000  # ... and for a training job's worker to start or finish on a busy 2-core machine

# Gradio's queue calls pandas in ways pandas 3 deprecates; not ours to fix.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.*"),
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")]  # fmt: skip
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev,web]')")
pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[web]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio on a free loopback port with small limits, and its folders."""
    from brushwork.web.app import launch
    from brushwork.web.settings import Limits, StudioSettings

    root = tmp_path_factory.mktemp("studio")
    photos = root / "server_photos"
    photos.mkdir()
    for i in range(3):
        make_photo(photos / f"p{i}.jpg", size=(64, 48), seed=i)
    settings = StudioSettings(library_dir=root / "models", photos_dir=photos, port=_free_port(), outputs_dir=root / "outputs",
                              limits=Limits(max_megapixels=TEST_MEGAPIXELS, max_upload_mb=TEST_UPLOAD_MB))  # fmt: skip
    demo, queue = launch(settings, block=False)
    yield settings, root
    queue.close()
    demo.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, studio):
    settings, _ = studio
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True, permissions=["camera"])
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"http://127.0.0.1:{settings.port}/")
    page.wait_for_selector("#stylize-button")
    yield page
    page.close()


def screenshot(page, name: str, tmp_path: Path) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def wait_for_text(page, selector: str, *words: str, timeout: float = TIMEOUT_MS) -> str:
    """Wait until the element's text holds one of `words`; returns the text."""
    try:
        page.wait_for_function(
            "([sel, words]) => { const el = document.querySelector(sel); return el && words.some(w => el.innerText.includes(w)); }",
            arg=[selector, list(words)], timeout=timeout,
        )
    except sync_api.TimeoutError:
        shown = page.locator(selector).inner_text() if page.locator(selector).count() else "(no such element)"
        raise AssertionError(f"{selector} never showed any of {words}; it shows: {shown!r}") from None
    return page.locator(selector).inner_text()


def upload(page, selector: str, *paths: Path) -> None:
    page.locator(f"{selector} input[type=file]").set_input_files([str(p) for p in paths])


def test_stylize_upload_and_download(page, tmp_path):
    photo = PHOTO
    upload(page, "#photo-upload", photo)
    assert "481×321, ready" in wait_for_text(page, "#stylize-status", "ready", "Refused")
    page.click("#stylize-button")
    assert "Stylized photo.jpg (481×321) with starry_night" in wait_for_text(page, "#stylize-status", "Stylized", "Refused")
    with page.expect_download() as download:
        page.locator("#download a.download-link").click()
    saved = tmp_path / "downloaded.jpg"
    download.value.save_as(saved)
    with Image.open(saved) as result, Image.open(photo) as original:
        assert result.size == original.size == (481, 321)
        change = np.abs(np.asarray(result, dtype=np.float32) - np.asarray(original.convert("RGB"), dtype=np.float32))
        assert change.mean() > 10  # stylized, not the photo back
    screenshot(page, "stylize", tmp_path)


def test_drawn_mask_stylizes_only_under_the_stroke(page, tmp_path):
    upload(page, "#photo-upload", PHOTO)
    wait_for_text(page, "#stylize-status", "ready", "Refused")
    page.get_by_text("Mask: stylize only part of the photo").click()
    page.wait_for_timeout(1000)  # the editor lays out its canvas with the photo in it
    canvas = page.locator("#mask-editor canvas").first
    canvas.scroll_into_view_if_needed()  # the mouse works in the viewport's coordinates
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5  # inside the photo, which is centred
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(10):
        page.mouse.move(x + 4 * step, y, steps=3)
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_timeout(1000)
    page.get_by_label("png").check()
    page.click("#stylize-button")
    wait_for_text(page, "#stylize-status", "Stylized", "Refused")
    with page.expect_download() as download:
        page.locator("#download a.download-link").click()
    download.value.save_as(tmp_path / "masked.png")
    with Image.open(tmp_path / "masked.png") as result, Image.open(PHOTO) as original:
        changed = np.abs(np.asarray(result, dtype=np.int16) - np.asarray(original.convert("RGB"), dtype=np.int16)).max(axis=2) > 0
    assert 0.001 < changed.mean() < 0.2  # a brush stroke's worth of pixels, not the whole photo
    assert not changed[:40].any() and not changed[-40:].any()  # far from the stroke: the photo's bytes


def test_webcam_snapshot_is_stylized(page):
    page.get_by_text("or take a webcam snapshot").click()
    page.get_by_role("button", name="Click to Access Webcam").click()
    # A snapshot taken before the camera's first frame is empty, and the page gets nothing.
    page.wait_for_function("() => { const v = document.querySelector('#webcam video'); return v && v.readyState >= 2 && v.videoWidth > 0; }")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="capture photo").click()
    assert "ready" in wait_for_text(page, "#stylize-status", "ready", "Refused")
    page.click("#stylize-button")
    assert "with starry_night" in wait_for_text(page, "#stylize-status", "Stylized", "Refused")
    page.wait_for_selector("#download a.download-link")


@pytest.mark.parametrize("case", ["non-image", "truncated", "over-limit", "renamed"])
def test_bad_upload_shows_its_message(page, tmp_path, case):
    path, words = bad_uploads(tmp_path)[case]
    upload(page, "#photo-upload", path)
    text = wait_for_text(page, "#stylize-status", "Refused", "ready")
    assert words in text and "Traceback" not in text


def _fill_training_form(page, tmp_path, name: str, steps: int) -> None:
    page.get_by_role("tab", name="Train").click()
    page.fill("#train-name textarea, #train-name input", name)
    from brushwork.web.library import StyleLibrary

    painting = tmp_path / "starry_night.png"  # the bundled style's thumbnail stands in for a painting
    StyleLibrary(tmp_path).find("starry_night").thumbnail().save(painting)
    upload(page, "#train-paintings", painting)
    upload(page, "#train-photos", PHOTO, *(make_photo(tmp_path / f"photo{i}.jpg", size=(64, 48), seed=i) for i in range(2)))
    page.get_by_text("Training options").click()
    for selector, value in (("#train-steps", steps), ("#train-batch", 1), ("#train-crop", 48)):
        page.fill(f"{selector} input", str(value))
        page.press(f"{selector} input", "Tab")
    page.click("#train-backbone input")
    page.get_by_role("option", name="random").click()
    page.click("#train-start")
    assert f"Queued {name}" in wait_for_text(page, "#train-status", "Queued", "Refused")


def test_tiny_training_job_finishes_and_appears(page, tmp_path):
    _fill_training_form(page, tmp_path, "tiny_web", steps=4)
    assert "tiny_web — done" in wait_for_text(page, "#job-detail", "— done", "— failed", timeout=JOB_TIMEOUT_MS)
    page.wait_for_selector("#job-sample img")
    screenshot(page, "train", tmp_path)
    page.reload()  # the job is on disk, not in the page
    page.get_by_role("tab", name="Train").click()
    assert "tiny_web\tdone\t4 / 4" in wait_for_text(page, "#jobs-table", "tiny_web")
    page.get_by_role("tab", name="Stylize").click()
    page.click("#style-choice input")
    page.get_by_role("option", name="tiny_web").click()  # the new style is offered for stylizing
    page.get_by_role("tab", name="Styles").click()
    wait_for_text(page, "#styles-gallery", "tiny_web (trained)")
    page.click("#styles-choice input")
    page.get_by_role("option", name="tiny_web").click()
    assert "random" in wait_for_text(page, "#styles-info", "tiny_web.safetensors")
    wait_for_text(page, "#styles-download", "tiny_web")
    page.mouse.click(1200, 880)  # closes the dropdown's list before the picture
    page.wait_for_timeout(500)
    screenshot(page, "styles", tmp_path)


def test_cancel_a_running_job(page, tmp_path):
    _fill_training_form(page, tmp_path, "long_web", steps=5000)
    wait_for_text(page, "#job-detail", "— running", timeout=JOB_TIMEOUT_MS)
    page.click("#job-cancel")
    assert "long_web — cancelled" in wait_for_text(page, "#job-detail", "— cancelled", "— failed", "— done", timeout=JOB_TIMEOUT_MS)
