"""The hostile-input corpus (hostile_corpus.py) through every command that reads a folder of
images: no traceback, every bad file named on one line with its reason, every good file
written, and a non-zero exit status at the end."""

import contextlib
import io

import pytest
from PIL import Image

from brushwork.cli import main

from .corpus_check import judge, mirrored, relaxed, sample
from .hostile_corpus import TINY, build_corpus, picture

TRAIN_TOML = """
crop = 48
style_size = 64
sample_every = 1000
checkpoint_every = 1000
[generator]
channels = 8
res_blocks = 1
"""


def run(argv):
    """`brushwork ARGV` in-process; anything but a BrushworkError propagates and fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    return root, build_corpus(root)


def _train_args(tmp_path, content, style):
    (tmp_path / "train.toml").write_text(TRAIN_TOML)
    return ["train", "--config", str(tmp_path / "train.toml"), "--content", str(content), "--style", str(style),
            "--iterations", "3", "--batch-size", "2", "--backbone", "random", "--device", "cpu", "--quiet",
            "--output", str(tmp_path / "model.safetensors"), "--run-dir", str(tmp_path / "run")]  # fmt: skip


def _assert_clean(code, err, verdict):
    assert verdict.problems == [], "\n".join(verdict.problems)
    assert all(line.startswith("brushwork: ") for line in err.splitlines()), err
    assert code == 1


def test_corpus_covers_the_kinds_the_issue_lists(corpus):
    root, entries = corpus
    kinds = {entry.kind for entry in entries}
    assert len([e for e in entries if e.expect != "ignored"]) >= 200
    assert {"truncated", "bit-flipped", "zero-byte", "not an image", "huge header", "decompression bomb",
            "broken exif", "unicode name", "symlink loop", "symlink to a folder", "unreadable"} <= kinds  # fmt: skip
    names = {entry.path.name for entry in entries}
    assert {"cmyk.jpg", "gray16.png", "palette.png", "la.png", "animated.webp", "tall_1x10000.png"} <= names
    assert all(f"orientation_{i}.jpg" in names for i in range(1, 9))


def test_stylize_folder_run_over_the_corpus(corpus, tiny_model, tmp_path):
    root, entries = corpus
    out = tmp_path / "out"
    code, err = run(["stylize", str(tiny_model), str(root), "-o", str(out), "--quiet"])
    verdict = judge(entries, err, mirrored(root, out))
    _assert_clean(code, err, verdict)
    assert verdict.written >= 100 and verdict.named >= 60
    for orientation in range(1, 9):  # EXIF orientation applied: 5-8 swap width and height
        size = Image.open(out / f"orientation_{orientation}.jpg").size
        assert size == ((32, 48) if orientation >= 5 else (48, 32)), orientation


@pytest.mark.slow
def test_optimize_folder_run_over_a_sample_of_the_corpus(corpus, tmp_path):
    root, entries = corpus
    entries = sample(entries, per_kind=3)  # each photo is an optimisation of its own
    picture(64, 64).save(tmp_path / "painting.png")
    out = tmp_path / "out"
    code, err = run(["stylize", "--optimize", "--style", str(tmp_path / "painting.png"), str(root), "-o", str(out),
                     "--steps", "1", "--size", "48", "--backbone", "random", "--device", "cpu", "--quiet"])  # fmt: skip
    verdict = judge(relaxed(entries, TINY), err, mirrored(root, out))  # tiny photos are refused by name
    _assert_clean(code, err, verdict)
    assert verdict.written >= 15


@pytest.mark.slow
def test_train_with_the_corpus_as_content(corpus, tmp_path):
    root, entries = corpus
    picture(64, 64).save(tmp_path / "painting.png")
    code, err = run(_train_args(tmp_path, root, tmp_path / "painting.png"))
    verdict = judge(entries, err, None)
    _assert_clean(code, err, verdict)
    assert (tmp_path / "model.safetensors").is_file() and verdict.named >= 40


@pytest.mark.slow
def test_train_with_the_corpus_as_a_style_collection(corpus, tmp_path):
    root, entries = corpus
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        picture(48, 40, seed=i).save(photos / f"p{i}.png")
    code, err = run(_train_args(tmp_path, photos, root))
    verdict = judge(relaxed(entries, TINY), err, None)  # paintings under 32 px are skipped by name
    _assert_clean(code, err, verdict)
    assert (tmp_path / "model.safetensors").is_file() and verdict.named >= 40


@pytest.mark.slow
def test_evaluate_over_a_sample_of_the_corpus(corpus, tiny_model, tmp_path):
    root, entries = corpus
    entries = sample(entries, per_kind=1)  # the judge network makes evaluate the slowest command
    picture(64, 64).save(tmp_path / "painting.png")
    report = tmp_path / "report"
    code, err = run(["evaluate", "--model", str(tiny_model), "--content", str(root), "--style",
                     str(tmp_path / "painting.png"), "--output", str(report), "--max-size", "64",
                     "--metric-size", "64", "--device", "cpu", "--quiet"])  # fmt: skip
    verdict = judge(relaxed(entries, TINY), err, mirrored(root, report / "outputs", ".png"))
    _assert_clean(code, err, verdict)
    assert verdict.written >= 5
