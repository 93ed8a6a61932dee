"""The style library (brushwork/library.py): trained styles found by name from the CLI and the studio."""

import shutil
import sys

import pytest

from brushwork.cli import main
from brushwork.errors import BrushworkError
from brushwork.library import library_dir, library_styles
from brushwork.web.settings import StudioSettings

from .conftest import make_photo
from .test_cli import assert_one_line_error, run


def test_a_library_style_stylizes_by_name(tiny_model, style_library, tmp_path, capsys):
    style_library.mkdir()
    shutil.copy(tiny_model, style_library / "my_painting.safetensors")
    code, stdout, _ = run(["stylize", "my_painting", make_photo(tmp_path / "p.jpg"), "-o", tmp_path / "o.png"], capsys)
    assert code == 0 and (tmp_path / "o.png").is_file()
    code, stdout, _ = run(["styles"], capsys)
    assert code == 0 and "my_painting" in stdout and "tiny test style" in stdout and "starry_night" in stdout


def test_styles_takes_another_library_and_reports_a_bad_file(tiny_model, tmp_path, capsys):
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(tiny_model, other / "mine.safetensors")
    (other / "broken.safetensors").write_text("not a model")
    code, stdout, err = run(["styles", "--library", other], capsys)
    assert code == 1 and "mine" in stdout and str(other) in stdout
    assert "broken.safetensors" in err and "Traceback" not in err


def test_an_unknown_name_says_where_it_looked(tmp_path, style_library, capsys):
    code, _, err = run(["stylize", "nowhere", make_photo(tmp_path / "p.jpg"), "-o", tmp_path / "o.png"], capsys)
    assert code != 0
    assert_one_line_error(err, "unknown style 'nowhere'", str(style_library))


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME is the Linux data folder")
def test_the_library_is_the_user_data_folder_unless_chosen(monkeypatch, tmp_path):
    monkeypatch.delenv("BRUSHWORK_LIBRARY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # platformdirs' Linux data folder
    assert library_dir() == (tmp_path / "data" / "brushwork" / "styles").resolve()
    assert library_dir(tmp_path / "chosen") == (tmp_path / "chosen").resolve()
    assert library_styles() == {}  # not created until something is trained into it


def test_the_studio_trains_into_the_library(style_library):
    assert StudioSettings().library_dir == style_library.resolve() and style_library.is_dir()


def test_a_file_where_the_library_should_be_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BrushworkError, match="not a folder"):
        library_dir(tmp_path / "file")
    code, _, err = run(["styles", "--library", tmp_path / "file"], capsys)
    assert code != 0
    assert_one_line_error(err, "--library", "not a folder")
