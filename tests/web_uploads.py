"""Uploads the studio must refuse, each with the words its message must contain; shared by
the studio's unit tests and its browser tests."""

from pathlib import Path

from PIL import Image

from .conftest import make_photo

# The limits the tests' studio runs with (Chromium's fake webcam gives 1920×1440, 2.8 MP).
TEST_MEGAPIXELS = 4.0
TEST_UPLOAD_MB = 1.0


def bad_uploads(folder: Path) -> dict[str, tuple[Path, str]]:
    """case -> (file, words of its message); every file is named .jpg, none is a usable photo."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "notes.jpg"
    text.write_text("this is a text file, not a photo\n" * 20)
    whole = make_photo(folder / "whole.jpg", size=(300, 200))
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    large = make_photo(folder / "large.jpg", size=(2400, 1800))  # smooth, so its bytes stay under the byte limit
    gif = folder / "animation.jpg"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(gif, format="GIF")
    return {
        "non-image": (text, "notes.jpg: not an image file"),
        "truncated": (truncated, "truncated.jpg: file is truncated or corrupt"),
        "over-limit": (large, "large.jpg: 2400×1800 is 4.3 megapixels, over this server's limit of 4"),
        "renamed": (gif, "animation.jpg: its content is a GIF file"),
    }
