"""Batch jobs on Ray Data (brushwork.batch, `brushwork stylize ... --ray`): on a local Ray of 2
CPUs, a folder with a bad file in it comes out byte for byte as the plain CLI writes it, the
bad file reported the same way; a job killed mid-way and run again does only the rest."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brushwork.batch.manifest import MANIFEST_NAME, Manifest
from brushwork.batch.sources import plan_sources
from brushwork.cli import main

from .conftest import make_photo


@pytest.fixture(scope="module")
def ray_address():
    """A Ray of 2 CPUs on this machine for the module's jobs; its address, for other processes."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'brushwork[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _photos(folder: Path, count: int, size=(96, 80)) -> Path:
    (folder / "sub").mkdir(parents=True)
    for i in range(count):
        make_photo(folder / ("sub" if i % 3 == 0 else ".") / f"p{i}.{'png' if i % 2 else 'jpg'}", size=size, seed=i)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME}


def test_a_ray_job_writes_the_clis_bytes_reports_bad_files_and_skips_finished_work(ray_address, tiny_model, tmp_path, capsys):
    source = _photos(tmp_path / "photos", 7)
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    assert main(["stylize", str(tiny_model), str(source), "-o", str(tmp_path / "plain"), "--quiet"]) == 1
    plain_failures = [line for line in capsys.readouterr().err.splitlines() if "failed:" in line]

    argv = ["stylize", str(tiny_model), str(source), "-o", str(tmp_path / "ray"), "--ray", ray_address, "--workers", "2", "--quiet"]
    assert main(argv) == 1  # a bad file: reported, the rest written, a non-zero status as the CLI's
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "failed:" in line] == plain_failures and len(plain_failures) == 1
    assert "stylized 7 image(s) with tiny on Ray (2 workers); 1 failed" in out
    assert _files(tmp_path / "ray") == _files(tmp_path / "plain") and len(_files(tmp_path / "plain")) == 7

    # The same job again: nothing finished is done twice (the outputs keep their files), the
    # bad file is tried and reported again.
    inodes = {p: p.stat().st_ino for p in (tmp_path / "ray").rglob("p*")}
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "stylized 0 image(s)" in out and "7 already done; 1 failed" in out and "broken.jpg" in err
    assert {p: p.stat().st_ino for p in (tmp_path / "ray").rglob("p*")} == inodes

    # Other options are another job: everything is done anew.
    assert main([*argv, "--preserve-color"]) == 1
    assert "stylized 7 image(s)" in capsys.readouterr().out


def test_uris_are_read_as_ray_reads_them_with_the_same_names_and_bytes(ray_address, tiny_model, tmp_path):
    from brushwork.batch import stylize_dataset

    source = _photos(tmp_path / "photos", 4)
    assert main(["stylize", str(tiny_model), str(source), "-o", str(tmp_path / "plain"), "--quiet"]) == 0
    report = stylize_dataset(tiny_model, [source.resolve().as_uri()], tmp_path / "ray", workers=1, progress=False)
    assert len(report.written) == 4 and not report.failed
    assert _files(tmp_path / "ray") == _files(tmp_path / "plain")
    missing = stylize_dataset(tiny_model, ["file:///nonexistent/photos"], tmp_path / "none", progress=False)
    assert missing.failed == ["file:///nonexistent/photos: no such file or directory"]


def test_a_killed_job_run_again_does_only_the_rest(ray_address, tiny_model, tmp_path):
    source = _photos(tmp_path / "photos", 24, size=(320, 256))
    output = tmp_path / "out"
    manifest = output / MANIFEST_NAME
    command = [sys.executable, "-m", "brushwork", "stylize", str(tiny_model), str(source), "-o", str(output),
               "--ray", ray_address, "--workers", "1", "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    job = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and job.poll() is None:
        if manifest.is_file() and len(manifest.read_text().splitlines()) >= 1 + 3:  # the header, 3 images
            break
        time.sleep(0.02)
    assert job.poll() is None, job.stderr.read().decode()[-2000:]  # still running: killed mid-way
    os.killpg(job.pid, signal.SIGKILL)  # the driver and anything it started, at once
    job.wait()
    job.stderr.close()

    recorded = [json.loads(line) for line in manifest.read_text().splitlines()[1:] if line.endswith("}")]
    finished = {Path(entry["output"]): Path(entry["output"]).stat().st_ino for entry in recorded}
    assert 3 <= len(finished) < 24
    assert main(command[3:]) == 0  # the same command, run again (in this process)
    assert len([p for p in output.rglob("p*") if p.is_file()]) == 24
    assert {p: p.stat().st_ino for p in finished} == finished  # the finished ones were not written again
    lines = manifest.read_text().splitlines()
    assert len({json.loads(line)["source"] for line in lines[1:]}) == 24


def test_a_manifest_ignores_a_torn_last_line_and_another_jobs_entries(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    manifest = Manifest(tmp_path, {"model": "m1"})
    manifest.open()
    manifest.record("photos/a.jpg", str(tmp_path / "a.png"))
    manifest.record("photos/b.jpg", str(tmp_path / "b.png"), error="photos/b.jpg: file is empty")
    manifest.close()
    with open(tmp_path / MANIFEST_NAME, "a") as handle:
        handle.write('{"source": "photos/c.jp')  # killed while writing
    assert Manifest(tmp_path, {"model": "m1"}).finished() == {"photos/a.jpg": str(tmp_path / "a.png")}
    other = Manifest(tmp_path, {"model": "m2"})
    assert other.finished() == {} and other.restarted
    other.open()
    other.close()
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["job"] == {"model": "m2"}  # begun anew, one line


def test_local_inputs_are_planned_as_the_cli_plans_them(tmp_path):
    source = _photos(tmp_path / "photos", 3)
    pairs, problems = plan_sources([str(source)], tmp_path / "out", "webp")
    uri_pairs, _ = plan_sources([source.as_uri()], tmp_path / "out", "webp")
    assert [d for _, d in pairs] == [d for _, d in uri_pairs] and not problems
    assert sorted(str(d.relative_to(tmp_path / "out")) for _, d in pairs) == ["p1.webp", "p2.webp", "sub/p0.webp"]


def test_without_ray_the_flag_says_so_in_one_line(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    assert main(["stylize", str(tiny_model), str(tmp_path), "-o", str(tmp_path / "out"), "--ray"]) == 2
    assert capsys.readouterr().err.strip() == "brushwork: error: --ray needs Ray: pip install 'brushwork[ray]'"


def test_ray_only_options_need_the_flag(tiny_model, tmp_path, capsys):
    assert main(["stylize", str(tiny_model), str(tmp_path), "-o", str(tmp_path / "out"), "--workers", "2"]) == 2
    assert "--workers: options of a Ray job (--ray)" in capsys.readouterr().err
