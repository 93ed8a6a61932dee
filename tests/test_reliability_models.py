"""Hostile model files (hostile_models.py) through every command that reads one, and damaged
checkpoints through --resume: each is refused with one line naming it, never a traceback."""

import contextlib
import io

import pytest

from brushwork.cli import main
from brushwork.models import GeneratorConfig
from brushwork.training.config import TrainConfig
from brushwork.training.trainer import Trainer

from .hostile_corpus import picture
from .hostile_models import GOOD_MODELS, build_model_corpus, hostile_checkpoints


def run(argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)  # anything but a BrushworkError propagates and fails the test
    return code, err.getvalue()


def _refused_on_one_line(code, err, path):
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"brushwork: error: {path}: "), (path, err)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    picture().save(root / "photo.png")
    return root, build_model_corpus(root / "hostile")


def test_model_corpus_has_the_kinds_the_issue_lists(models):
    _, kinds = models
    assert {"truncated", "wrong magic", "huge tensor", "wrong shape", "wrong dtype", "metadata not JSON",
            "future format", "pickle", "zip"} <= set(kinds.values())  # fmt: skip


def test_stylize_refuses_every_hostile_model(models, tmp_path):
    root, kinds = models
    for path in kinds:
        code, err = run(["stylize", str(path), str(root / "photo.png"), "-o", str(tmp_path / "out.png"), "--quiet"])
        if path.name in GOOD_MODELS:
            assert code == 0, err
        else:
            _refused_on_one_line(code, err, path)


def test_export_reads_models_the_same_way(models, tmp_path):
    root, _ = models
    for name in ("wrong_shape", "header_huge_tensor", "pickle_runs_code", "truncated_0.5"):
        path = root / "hostile" / f"{name}.safetensors"
        code, err = run(["export", str(path), "--format", "torchscript", "-o", str(tmp_path / "model.pt")])
        _refused_on_one_line(code, err, path)


def test_info_reads_metadata_or_refuses_on_one_line(models):
    _, kinds = models
    for path, kind in kinds.items():
        code, err = run(["info", str(path)])
        if code:  # damage in the weights alone is not info's to find: it reads the metadata
            _refused_on_one_line(code, err, path)
        assert code or kind in ("valid", "float16 weights", "wrong shape", "wrong dtype", "missing tensor",
                                "extra tensor", "NaN weights", "huge tensor", "bad offsets", "truncated",
                                "bad generator config", "absurd generator config"), path  # fmt: skip


def test_resume_refuses_every_damaged_checkpoint(models, tmp_path):
    root, kinds = models
    picture(48, 48).save(tmp_path / "painting.png")
    (tmp_path / "photos").mkdir()
    picture().save(tmp_path / "photos" / "p.png")
    config = TrainConfig(content=str(tmp_path / "photos"), style=str(tmp_path / "painting.png"), crop=48,
                         iterations=2, backbone="random", device="cpu", run_dir=str(tmp_path / "run"),
                         generator=GeneratorConfig(channels=8, res_blocks=1))  # fmt: skip
    valid = Trainer(config).save_checkpoint()
    for path in hostile_checkpoints(tmp_path / "checkpoints", valid, root / "hostile" / "valid.safetensors"):
        code, err = run(["train", "--resume", str(path), "--quiet"])
        _refused_on_one_line(code, err, path)
