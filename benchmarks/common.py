"""What every benchmark script shares: the results file, the machine line, the data paths,
and tiny synthetic data for the --quick runs (CI has no image kit)."""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "RESULTS.md"
# The project's offline image kit, beside the checkout (see docs/bundled-styles.md).
DATA = REPO.parent / "shared" / "data"
STYLES = DATA / "style"


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes and synthetic data: a smoke run for CI")
    p.add_argument("--results", type=Path, default=RESULTS, help="Markdown file whose section this script rewrites")
    return p


def machine() -> str:
    """One line naming the machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import brushwork

    return (
        f"{datetime.date.today()}, {cpu}, {torch.get_num_threads()} threads, Python {platform.python_version()}, "
        f"torch {torch.__version__}, brushwork {brushwork.__version__}"
    )


def command_line() -> str:
    """The command that is running, as a user would type it from the repository root."""
    return shlex.join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


# Where RESULTS.md's history of earlier versions starts: sections moved there lost their
# markers, so no run rewrites them, and a new section goes in above it.
HISTORY = "<!-- history -->"


def write_section(results: Path, section: str, text: str) -> None:
    """Replace the block between ``<!-- section -->`` markers in `results`, or add it at the
    end of the current results (above the history, if there is one)."""
    begin, end = f"<!-- {section} -->", f"<!-- /{section} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    old = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: block, old)
    elif HISTORY in old:
        new = old.replace(HISTORY, block + "\n\n" + HISTORY, 1)
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(new)


def synthetic_data(root: Path, photos: int = 6, size: int = 48) -> tuple[Path, Path, Path]:
    """Tiny smooth photos (train and val folders) and a striped 'painting' for --quick runs.

    Returns (content_dir, val_dir, style_image).
    """
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    folders = (root / "content", root / "val")
    for index, folder in enumerate(folders):
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(photos):
            a, b, c = rng.random(3)
            image = np.stack([x * a + y * (1 - a), np.sin(6 * x * b + 3 * y) * 0.5 + 0.5, (x + y) * c / 2], -1)
            image[size // 4 : size // 2, size // 3 : 2 * size // 3] = rng.random(3)
            Image.fromarray((image * 255).astype(np.uint8)).save(folder / f"photo_{index}_{i}.png")
    stripes = np.stack([np.sin(40 * x) * 0.5 + 0.5, 0.2 + 0 * x, np.cos(30 * y) * 0.5 + 0.5], -1)
    style = root / "style.png"
    Image.fromarray((stripes * 255).astype(np.uint8)).resize((2 * size, 2 * size)).save(style)
    return folders[0], folders[1], style
