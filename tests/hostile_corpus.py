"""A hostile-input corpus of image files, generated here (nothing is downloaded).

``python tests/hostile_corpus.py DIR`` writes it and prints a summary; tests and
benchmarks/reliability.py call :func:`build_corpus`. Each entry says what a tool must do:
``good`` files must be stylized, ``bad`` ones named on one line with a reason, ``either``
(bit-flipped files: some still decode) one or the other, ``ignored`` ones (hidden, GIF and
other non-image extensions, folders reached only through a symlink) neither.
"""

from __future__ import annotations

import io
import os
import random
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

# Valid files under 16 px on a side (or once shrunk): commands that need a minimum size
# (--optimize, evaluate's metrics) may refuse them by name instead of writing them.
TINY = ("one_by_one", "10000", "two_by_three", "rgb48", "gray16.tif", "float.tif")
FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "tif": "TIFF", "bmp": "BMP", "gif": "GIF"}


@dataclass(frozen=True)
class Entry:
    path: Path
    kind: str  # what sort of hostile file, for the counts ("truncated", "exif", ...)
    expect: str  # "good", "bad", "either" or "ignored"


def picture(width: int = 48, height: int = 40, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A small smooth picture with a coloured square, so orientation and crops show."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x / max(1, width), y / max(1, height), 0.5 + 0.3 * np.sin(x / 3.0)], axis=-1)
    rgb[height // 4 : height // 2, width // 4 : width // 2] = rng.random(3)
    return Image.fromarray((rgb * 255).astype(np.uint8)).convert(mode)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, depth: int, color: int, rows: bytes | None = None) -> bytes:
    """A PNG written by hand, so its header can claim what PIL would never write.

    ``rows`` are the raw scanlines with their filter bytes; None compresses zero rows
    (cheap even for huge images: a decompression bomb)."""
    if rows is None:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
        line = b"\0" * (1 + (width * channels * depth + 7) // 8)
        packer = zlib.compressobj(9)
        data = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    else:
        data = zlib.compress(rows)
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(encode(picture(16, 16), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _huge_headers() -> dict[str, bytes]:
    """Files whose headers declare far more pixels than PIL allows (refused before decoding)."""
    bmp = bytearray(encode(picture(4, 4), "BMP"))
    bmp[18:26] = struct.pack("<ii", 200_000, 200_000)
    gif = bytearray(encode(picture(4, 4), "GIF"))
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    webp = bytearray(encode(picture(4, 4), "WEBP", lossless=True))
    webp[21:25] = struct.pack("<I", (16383 | (16383 << 14)))  # VP8L: 14-bit width-1, height-1
    tiff = bytearray(encode(picture(4, 4), "TIFF"))
    return {
        "huge_png.png": png_bytes(100_000, 100_000, 8, 2, rows=b"\0" * 4),
        "huge_jpeg.jpg": jpeg_claiming(65_000, 65_000),
        "huge_bmp.bmp": bytes(bmp),
        "huge_gif_named.png": bytes(gif),
        "huge_webp.webp": bytes(webp),
        "huge_tiff.tif": _tiff_claiming(bytes(tiff), 100_000),
    }


def _tiff_claiming(data: bytes, side: int) -> bytes:
    """A little-endian TIFF whose ImageWidth/ImageLength tags say `side`."""
    out = bytearray(data)
    (ifd,) = struct.unpack("<I", out[4:8])
    (count,) = struct.unpack("<H", out[ifd : ifd + 2])
    for i in range(count):
        at = ifd + 2 + 12 * i
        (tag,) = struct.unpack("<H", out[at : at + 2])
        if tag in (256, 257):
            out[at + 2 : at + 12] = struct.pack("<HII", 4, 1, side)  # LONG
    return bytes(out)


def _bombs() -> dict[str, bytes]:
    """Decompression bombs: small files that would decode to hundreds of megapixels."""
    return {
        "bomb_1x_limit.png": png_bytes(10_000, 10_000, 1, 0),  # between 1x and 2x PIL's limit
        "bomb_4x_limit.png": png_bytes(20_000, 20_000, 1, 0),
        "bomb_rgb.png": png_bytes(12_000, 9_000, 8, 2),
    }


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def _broken_exif() -> dict[str, bytes]:
    """JPEGs whose APP1 EXIF segment is garbage, truncated or holds impossible values."""
    base = encode(picture(), "JPEG")
    out = {}
    for name, payload in {
        "garbage": b"Exif\0\0" + bytes(range(256)) * 2,
        "truncated_ifd": b"Exif\0\0MM\0*\0\0\0\x08\0\x05\x01\x12",
        "offset_past_end": b"Exif\0\0II*\0\xff\xff\xff\x7f",
    }.items():
        segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        out[f"exif_{name}.jpg"] = base[:2] + segment + base[2:]
    for value in (0, 9, 65535):
        out[f"exif_orientation_{value}.jpg"] = encode(picture(), "JPEG", exif=_exif(value))
    return out


def _valid_files() -> dict[str, bytes]:
    """Unusual but readable files: modes, sizes, animations, EXIF, ICC, mislabelled formats."""
    pic = picture()
    files = {f"valid.{ext}": encode(pic, fmt) for ext, fmt in FORMATS.items()}
    files.update({f"one_by_one.{ext}": encode(picture(1, 1), fmt) for ext, fmt in FORMATS.items()})
    files.update({
        "tall_1x10000.png": encode(picture(1, 10_000), "PNG"),
        "wide_10000x1.jpg": encode(picture(10_000, 1), "JPEG"),
        "two_by_three.bmp": encode(picture(2, 3), "BMP"),
        "gray16.png": encode(Image.fromarray((np.arange(48 * 40).reshape(40, 48) * 27).astype(np.uint16)), "PNG"),
        "rgb48.png": png_bytes(8, 6, 16, 2, rows=b"".join(b"\0" + bytes(range(i, i + 48)) for i in range(6))),
        "gray16.tif": encode(Image.fromarray((np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)), "TIFF"),
        "float.tif": encode(Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)), "TIFF"),
        "int32.tif": encode(pic.convert("I"), "TIFF"),
        "cmyk.jpg": encode(pic.convert("CMYK"), "JPEG"),
        "cmyk.tif": encode(pic.convert("CMYK"), "TIFF"),
        "palette.png": encode(pic.convert("P"), "PNG"),
        "palette_transparent.png": encode(pic.convert("P"), "PNG", transparency=0),
        "palette.bmp": encode(pic.convert("P"), "BMP"),
        "la.png": encode(pic.convert("LA"), "PNG"),
        "gray.jpg": encode(pic.convert("L"), "JPEG"),
        "bilevel.png": encode(pic.convert("1"), "PNG"),
        "bilevel.tif": encode(pic.convert("1"), "TIFF", compression="group4"),
        "rgba.png": encode(pic.convert("RGBA"), "PNG"),
        "rgba.webp": encode(pic.convert("RGBA"), "WEBP"),
        "lossless.webp": encode(pic, "WEBP", lossless=True),
        "progressive.jpg": encode(pic, "JPEG", progressive=True),
        "lzw.tif": encode(pic, "TIFF", compression="tiff_lzw"),
        "jpeg_in.tif": encode(pic, "TIFF", compression="jpeg"),
        "jpeg_named.png": encode(pic, "JPEG"),
        "png_named.jpg": encode(pic, "PNG"),
        "gif_named.png": encode(pic, "GIF"),
        "UPPER.JPG": encode(pic, "JPEG"),
        "Mixed.TiFf": encode(pic, "TIFF"),
        "trailing_garbage.png": encode(pic, "PNG") + bytes(range(256)) * 2,
        "icc_srgb.jpg": encode(pic, "JPEG", icc_profile=_srgb()),
        "icc_srgb.png": encode(pic, "PNG", icc_profile=_srgb()),
        "icc_garbage.jpg": encode(pic, "JPEG", icc_profile=b"not an ICC profile" * 20),
        "exif_in.png": encode(pic, "PNG", exif=_exif(6)),
    })
    frames = [picture(seed=i) for i in range(3)]
    files["animated.gif"] = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    files["animated_gif_named.png"] = files["animated.gif"]
    files["animated.webp"] = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50)
    files["animated_apng.png"] = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=50)
    files["multipage.tif"] = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    for orientation in range(1, 9):
        files[f"orientation_{orientation}.jpg"] = encode(picture(48, 32), "JPEG", exif=_exif(orientation))
        files[f"orientation_{orientation}.webp"] = encode(picture(48, 32), "WEBP", exif=_exif(orientation))
    return files


def _srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _mangled(rng: random.Random) -> dict[str, tuple[bytes, str]]:
    """Truncated and bit-flipped copies of a valid file of each format."""
    out: dict[str, tuple[bytes, str]] = {}
    for ext, fmt in FORMATS.items():
        data = encode(picture(64, 48, seed=3), fmt)
        for fraction in (0.02, 0.3, 0.6, 0.95):
            out[f"truncated_{int(fraction * 100)}pct.{ext}"] = (data[: max(1, int(len(data) * fraction))], "truncated")
        out[f"truncated_last_byte.{ext}"] = (data[:-1], "truncated")
        for i in range(16):
            flipped = bytearray(data)
            for _ in range(1 + i):
                at = rng.randrange(len(flipped))
                flipped[at] ^= 1 << rng.randrange(8)
            out[f"bitflip_{i}.{ext}"] = (bytes(flipped), "bit-flipped")
    return out


# Files whose outcome is fixed by what they are; everything else written below is "good".
_BAD = {"truncated": "bad", "bit-flipped": "either", "zero-byte": "bad", "not an image": "bad",
        "huge header": "bad", "decompression bomb": "bad"}  # fmt: skip


def build_corpus(root: str | os.PathLike[str], seed: int = 0) -> list[Entry]:
    """Write the corpus under `root` (which it creates) and return its entries."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files: dict[str, tuple[bytes, str]] = {name: (data, "unusual but valid") for name, data in _valid_files().items()}
    files.update(_mangled(rng))
    files.update({name: (data, "huge header") for name, data in _huge_headers().items()})
    files.update({name: (data, "decompression bomb") for name, data in _bombs().items()})
    files.update({name: (data, "broken exif") for name, data in _broken_exif().items()})
    files.update({f"empty.{ext}": (b"", "zero-byte") for ext in ("jpg", "png", "webp", "tif", "bmp")})
    files.update({
        "text.jpg": (b"this is a text file, not a JPEG\n" * 10, "not an image"),
        "html.png": (b"<!doctype html><html><body>404</body></html>", "not an image"),
        "json.webp": (b'{"not": "an image"}', "not an image"),
        "jpeg_magic_only.jpg": (b"\xff\xd8\xff", "not an image"),
        "png_magic_only.png": (b"\x89PNG\r\n\x1a\n", "not an image"),
        "фото 写真 📷.jpg": (encode(picture(), "JPEG"), "unicode name"),
        "   spaces   everywhere   .png": (encode(picture(), "PNG"), "space-filled name"),
        ("l" * 240) + ".jpg": (encode(picture(), "JPEG"), "long name"),
        os.fsdecode(b"not utf-8 \xff\xfe.png"): (encode(picture(), "PNG"), "undecodable name"),
        ".hidden.jpg": (encode(picture(), "JPEG"), "hidden"),
        "notes.txt": (b"not an image extension", "other extension"),
    })
    entries = []
    for name, (data, kind) in files.items():
        folder = root / ("nested/deeper" if kind == "unicode name" else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        expect = _BAD.get(kind, "good")
        if name.startswith(".") or Path(name).suffix.lower() not in {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}:
            expect = "ignored"
        elif kind == "truncated" and name.endswith(".png") and ("95" in name or "last" in name):
            expect = "either"  # only the end chunk is lost: PIL reads the pixels, rightly
        entries.append(Entry(folder / name, kind, expect))
    return entries + _special_files(root)


def _special_files(root: Path) -> list[Entry]:
    """Symlinks, a FIFO, an unreadable file, folders named like images."""
    good = root / "valid.png"
    entries = []
    (root / "folder.jpg").mkdir()
    (root / "folder.jpg" / "inside.png").write_bytes(encode(picture(seed=4), "PNG"))
    entries.append(Entry(root / "folder.jpg" / "inside.png", "folder named like an image", "good"))
    (root / "empty_folder.png").mkdir()
    os.symlink(good, root / "link_to_file.png")
    entries.append(Entry(root / "link_to_file.png", "symlink to a file", "good"))
    os.symlink(root / "folder.jpg", root / "link_to_folder.jpg")
    entries.append(Entry(root / "link_to_folder.jpg", "symlink to a folder", "ignored"))  # os.walk does not follow it
    os.symlink(root / "loop_b.png", root / "loop_a.png")
    os.symlink(root / "loop_a.png", root / "loop_b.png")
    entries += [Entry(root / f"loop_{x}.png", "symlink loop", "bad") for x in "ab"]
    os.symlink(root / "missing.png", root / "dangling.png")
    entries.append(Entry(root / "dangling.png", "dangling symlink", "bad"))
    os.mkfifo(root / "fifo.jpg")
    entries.append(Entry(root / "fifo.jpg", "fifo", "bad"))
    locked = root / "unreadable.jpg"
    locked.write_bytes(encode(picture(seed=5), "JPEG"))
    locked.chmod(0)
    # Root reads any file: then it is a good file like the others.
    entries.append(Entry(locked, "unreadable", "good" if os.access(locked, os.R_OK) else "bad"))
    return entries


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/hostile_corpus.py DIR")
    made = build_corpus(sys.argv[1])
    counts: dict[str, int] = {}
    for entry in made:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    print(f"{len(made)} files in {sys.argv[1]}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
