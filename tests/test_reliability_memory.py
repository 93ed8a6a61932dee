"""A photo whose header declares more pixels than the limit is refused before it is decoded:
the process's peak memory does not move (a decode would need gigabytes)."""

import json
import subprocess
import sys

import pytest

from .hostile_corpus import jpeg_claiming, png_bytes

CHILD = """
import json, sys
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from brushwork.errors import BrushworkError
from brushwork.images import load_image
for path in sys.argv[1:]:
    before = peak_mib()
    try:
        load_image(path)
        message = "loaded"
    except BrushworkError as exc:
        message = str(exc)
    print(json.dumps({"grew_mib": peak_mib() - before, "message": message}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_declared_size_over_the_limit_is_refused_before_decoding(tmp_path):
    files = {
        tmp_path / "declares_65000x65000.jpg": jpeg_claiming(65_000, 65_000),  # 12.7 GB as RGB
        tmp_path / "bomb_10000x10000.png": png_bytes(10_000, 10_000, 1, 0),  # 1-2x PIL's limit: PIL only warns
    }
    for path, data in files.items():
        path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, files)], capture_output=True, text=True, timeout=120)
    results = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(results) == len(files), done.stderr[-2000:]
    for path, result in zip(files, results):
        assert result["message"].startswith(f"{path}: image too large (")
        assert result["grew_mib"] < 20  # decoding even the 1-bit bomb would take 100 MiB
