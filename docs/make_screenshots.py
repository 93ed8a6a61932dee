"""The studio's screenshots in docs/images/web/, from the current version and a real training.

    python docs/make_screenshots.py --painting ../shared/data/style/klimt_the_kiss_1908.jpg \
        --photos ../shared/data/content/train

Starts `brushwork serve` in this process (the server's photo folder: --photos), drives it in
headless Chromium (Debian's `chromium`, Playwright; nothing is downloaded) as a user would:
stylizes examples/photo.jpg with the bundled starry_night, trains a new style from --painting
with the training form's defaults, and waits for it (minutes on a laptop CPU), then shows it
on the Styles tab. Writes stylize.png, train.png and styles.png.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from brushwork.web.app import launch
from brushwork.web.settings import StudioSettings

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "examples" / "photo.jpg"
# Root runs Chromium only without its sandbox; the rest keep it from calling home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
WAIT_MS = 180_000


def wait_for_text(page, selector: str, *words: str, timeout: float = WAIT_MS) -> str:
    page.wait_for_function(
        "([sel, words]) => { const el = document.querySelector(sel); return el && words.some(w => el.innerText.includes(w)); }",
        arg=[selector, list(words)], timeout=timeout,
    )  # fmt: skip
    return page.locator(selector).inner_text()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--painting", type=Path, required=True, help="the painting the new style is trained on")
    p.add_argument("--photos", type=Path, required=True, help="a folder of training photos (the server's photo folder)")
    p.add_argument("--name", default="my_painting", help="the new style's name")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "web")
    p.add_argument("--job-minutes", type=float, default=40, help="how long to wait for the training")
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="brushwork-screenshots-"))
    settings = StudioSettings(library_dir=root / "models", photos_dir=args.photos, port=port, outputs_dir=root / "outputs")
    demo, queue = launch(settings, block=False)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("#photo-upload input[type=file]").set_input_files(str(PHOTO))
            wait_for_text(page, "#stylize-status", "ready")
            page.click("#stylize-button")
            wait_for_text(page, "#stylize-status", "Stylized")
            page.screenshot(path=str(args.out / "stylize.png"), full_page=True)

            page.get_by_role("tab", name="Train").click()
            page.fill("#train-name textarea, #train-name input", args.name)
            page.locator("#train-paintings input[type=file]").set_input_files(str(args.painting))
            page.click("#train-server-photos input")
            started = time.perf_counter()
            page.click("#train-start")
            wait_for_text(page, "#train-status", "Queued")
            wait_for_text(page, "#job-detail", "— done", "— failed", timeout=args.job_minutes * 60_000)
            page.wait_for_selector("#job-sample img")
            print(f"training: {wait_for_text(page, '#job-detail', '— done')!r} in {time.perf_counter() - started:.0f} s")
            page.screenshot(path=str(args.out / "train.png"), full_page=True)

            page.get_by_role("tab", name="Styles").click()
            page.click("#styles-choice input")
            page.get_by_role("option", name=args.name).click()
            wait_for_text(page, "#styles-info", f"{args.name}.safetensors")
            page.mouse.click(1200, 880)  # closes the dropdown's list before the picture
            page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / "styles.png"), full_page=True)
            browser.close()
    finally:
        queue.close()
        demo.close()
    print(f"wrote {', '.join(str(args.out / n) for n in ('stylize.png', 'train.png', 'styles.png'))}")


if __name__ == "__main__":
    main()
