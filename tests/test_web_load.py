"""The studio's load test (benchmarks/web_load.py) at full size: 50 concurrent stylize
requests at 512 px on loopback, all answered; bounded by the script's deadline and a timeout."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "web_load.py"


@pytest.mark.slow
def test_fifty_concurrent_stylize_requests_all_succeed(tmp_path):
    pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[web]')")
    results = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(SCRIPT), "--results", str(results)], capture_output=True, text=True,
                          timeout=900, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-3000:]
    assert "50/50 ok" in done.stdout
    assert "| web studio, all at once | 50 | 50 |" in results.read_text()
