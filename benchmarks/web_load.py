"""Load test of the web studio on loopback: N concurrent stylize requests through the page's
own endpoint (Gradio's queue), against the same stylizations through the Python API.

    python benchmarks/web_load.py                 # 50 concurrent requests at 512 px
    python benchmarks/web_load.py --quick         # 8 requests at 128 px (CI smoke run)

Every request must succeed (a full-size output file, the success message); the script exits
non-zero otherwise. Writes p50/p95 latency and throughput to RESULTS.md ("Web studio").
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image  # noqa: E402

from common import REPO, command_line, machine, parser, write_section  # noqa: E402

STYLE = "starry_night"
DEADLINE_S = 600  # the whole burst must be answered within this


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the nearest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def direct_seconds(photo: Path, count: int) -> list[float]:
    """The baseline: the same stylization through the Python API, one after another."""
    from brushwork.inference.stylize import Stylizer

    stylizer = Stylizer.from_file(STYLE)
    image = Image.open(photo).convert("RGB")
    stylizer(image)  # warm-up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        stylizer(image)
        times.append(time.perf_counter() - started)
    return times


def burst(url: str, photo: Path, count: int, size: int) -> tuple[list[float], float]:
    """`count` requests sent at once; returns (each one's latency, wall time of the burst)."""
    from gradio_client import Client, handle_file

    client = Client(url, max_workers=count, verbose=False, analytics_enabled=False)
    empty_editor = {"background": None, "layers": [], "composite": None}
    arguments = dict(photo_path=handle_file(str(photo)), webcam_path=None, style_name=STYLE, painting_path=None,
                     steps_value=100, size_value=384, strength_value=1.0, mix_value="", preserve_value=False,
                     editor_value=empty_editor, mask_path=None, feather_value=0, format_value="png")  # fmt: skip
    client.predict(**arguments, api_name="/stylize")  # warm-up: the model loads once

    def one(_) -> float:
        started = time.perf_counter()
        message, _, download = client.predict(**arguments, api_name="/stylize")
        seconds = time.perf_counter() - started
        if not message.startswith("Stylized") or Image.open(download).size != (size, size):
            raise RuntimeError(f"request failed: {message}")
        return seconds

    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        latencies = list(pool.map(one, range(count), timeout=DEADLINE_S))
    return latencies, time.perf_counter() - started


def main() -> int:
    args = parser(__doc__)
    args.add_argument("--requests", type=int, default=50, help="concurrent requests (default: 50)")
    args.add_argument("--size", type=int, default=512, help="photo side in pixels (default: 512)")
    options = args.parse_args()
    if options.quick:
        options.requests, options.size = 8, 128
    from brushwork.web.app import launch
    from brushwork.web.settings import StudioSettings

    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.png"
        Image.open(REPO / "examples" / "photo.jpg").convert("RGB").resize((options.size, options.size)).save(photo)
        direct = direct_seconds(photo, min(options.requests, 20))  # first, so no server thread competes
        settings = StudioSettings(library_dir=Path(tmp) / "models", outputs_dir=Path(tmp) / "outputs", port=free_port())
        demo, queue = launch(settings, block=False)
        try:
            latencies, wall = burst(f"http://127.0.0.1:{settings.port}/", photo, options.requests, options.size)
        finally:
            queue.close()
            demo.close()
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(f"{len(latencies)}/{options.requests} ok; p50 {p50:.2f} s, p95 {p95:.2f} s, {len(latencies) / wall:.2f} requests/s; "
          f"API alone {statistics.median(direct):.3f} s per image")  # fmt: skip
    table = "\n".join([
        f"## Web studio: {options.requests} concurrent stylize requests at {options.size}×{options.size}",
        "",
        f"`{command_line()}` — {machine()}. The server (`brushwork serve`'s app, {settings.limits.stylize_workers} "
        f"stylize workers, queue bound {settings.limits.queue_size}) and the client (gradio_client, one thread per "
        f"request, PNG out) share the machine on loopback; latency is from sending the photo to holding the result file. "
        f"Load average when the run began: {load:.1f}.",
        "",
        "| path | requests | succeeded | p50 latency | p95 latency | throughput |",
        "|---|---|---|---|---|---|",
        f"| web studio, all at once | {options.requests} | {len(latencies)} | {p50:.2f} s | {p95:.2f} s | "
        f"{len(latencies) / wall:.2f} images/s |",
        f"| Python API (`Stylizer`), one after another | {len(direct)} | {len(direct)} | {statistics.median(direct):.3f} s | "
        f"{percentile(direct, 95):.3f} s | {len(direct) / sum(direct):.2f} images/s |",
    ])  # fmt: skip
    write_section(options.results, "web-load", table)
    return 0 if len(latencies) == options.requests else 1


if __name__ == "__main__":
    sys.exit(main())
