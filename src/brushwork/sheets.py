"""Contact sheets: pictures laid out in a grid, for evaluation reports, benchmarks and the docs."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from brushwork.images import longer_side_size, tensor_to_pil

GAP = 6
TITLE_HEIGHT = 28


def fit_cell(image: Image.Image, cell: int, crop: bool = False) -> Image.Image:
    """`image` in a `cell`×`cell` square: centre-cropped to fill it, or (default) scaled to fit
    inside it on white, so nothing of the picture is lost."""
    image = image.convert("RGB")
    if crop:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side)).resize((cell, cell), Image.Resampling.LANCZOS)
    size = longer_side_size(image.width, image.height, cell)
    canvas = Image.new("RGB", (cell, cell), "white")
    canvas.paste(image.resize(size, Image.Resampling.LANCZOS), ((cell - size[0]) // 2, (cell - size[1]) // 2))
    return canvas


def contact_sheet(
    rows: Sequence[Sequence[Image.Image | None]],
    cell: int = 256,
    titles: Sequence[str] | None = None,
    crop: bool = False,
) -> Image.Image:
    """A grid with one picture per cell (None leaves a cell blank) and optional column titles."""
    columns = max((len(row) for row in rows), default=0)
    top = TITLE_HEIGHT if titles else 0
    width = max(1, columns * (cell + GAP) - GAP)
    height = max(1, top + len(rows) * (cell + GAP) - GAP)
    sheet = Image.new("RGB", (width, height), "white")
    if titles:
        draw = ImageDraw.Draw(sheet)
        font = ImageFont.load_default(size=16)
        for col, title in enumerate(titles):
            draw.text((col * (cell + GAP) + cell // 2, TITLE_HEIGHT // 2), title, fill="black", font=font, anchor="mm")
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            if image is not None:
                sheet.paste(fit_cell(image, cell, crop), (c * (cell + GAP), top + r * (cell + GAP)))
    return sheet


def image_grid(images: Sequence[Tensor], columns: int) -> Image.Image:
    """Tensors (3×H×W in [0, 1]) laid out row by row, `columns` to a row, each cell the size of
    the largest image (training's sample grids)."""
    pictures = [tensor_to_pil(image) for image in images]
    rows = [pictures[i : i + columns] for i in range(0, len(pictures), columns)]
    return contact_sheet(rows, cell=max(max(p.size) for p in pictures))
