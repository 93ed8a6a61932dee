"""Fuzzing the image loader and the model-file reader (Hypothesis): random bytes, mutated
valid files and arbitrary JSON headers either load or raise a one-line BrushworkError,
never anything else. Bounded: a fixed number of examples, each with a deadline."""

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brushwork.errors import BrushworkError
from brushwork.images import load_image
from brushwork.inference.modelfile import load_model

from .hostile_corpus import FORMATS, encode, picture
from .hostile_models import valid_model_bytes

pytestmark = pytest.mark.slow
FUZZ = settings(max_examples=400, deadline=5000, derandomize=True, suppress_health_check=list(HealthCheck))
SUFFIXES = [".jpg", ".png", ".webp", ".tif", ".bmp"]
IMAGES = {fmt: encode(picture(24, 16), fmt) for fmt in FORMATS.values()}
MODEL = valid_model_bytes()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@st.composite
def mutated(draw, originals: dict[str, bytes]):
    """A valid file with 1-8 edits (bit flips, byte sets, cuts, insertions), often in its header."""
    name = draw(st.sampled_from(sorted(originals)))
    data = bytearray(originals[name])
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.one_of(st.integers(0, min(63, len(data) - 1)), st.integers(0, len(data) - 1)))
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "truncate"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return name, bytes(data)


def _must_load_or_refuse(read, path):
    try:
        read(path)
    except BrushworkError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(SUFFIXES))
def test_image_loader_on_random_bytes(work, data, suffix):
    path = work / f"random{suffix}"
    path.write_bytes(data)
    _must_load_or_refuse(load_image, path)


@FUZZ
@given(mutated(IMAGES), st.sampled_from(SUFFIXES))
def test_image_loader_on_mutated_valid_files(work, named, suffix):
    path = work / f"mutated{suffix}"
    path.write_bytes(named[1])
    _must_load_or_refuse(lambda p: load_image(p, max_size=64), path)


@FUZZ
@given(st.binary(max_size=2048))
def test_model_reader_on_random_bytes(work, data):
    path = work / "random.safetensors"
    path.write_bytes(data)
    _must_load_or_refuse(load_model, path)


@FUZZ
@given(mutated({"model": MODEL}))
def test_model_reader_on_mutated_valid_files(work, named):
    path = work / "mutated.safetensors"
    path.write_bytes(named[1])
    _must_load_or_refuse(load_model, path)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)  # fmt: skip


NUMBER = st.integers() | st.floats() | st.integers(-(2**70), 2**70)
GENERATOR = st.fixed_dictionaries({}, optional={"arch": st.sampled_from(["brushwork", "johnson"]) | st.text(max_size=4),
                                                "channels": NUMBER, "res_blocks": NUMBER, "cond_dim": NUMBER,
                                                "photo_gain": NUMBER})  # fmt: skip


@FUZZ
@given(st.dictionaries(st.sampled_from(["format", "format_version", "brushwork", "other"]), JSON | st.text()),
       st.dictionaries(st.sampled_from(["generator", "style_name", "styles", "max_strength"]), JSON)
       | st.fixed_dictionaries({"generator": GENERATOR}))
def test_model_reader_on_arbitrary_metadata(work, metadata, info):
    """The real weights, under metadata a hand-edit could leave: any JSON in any field."""
    (length,) = struct.unpack("<Q", MODEL[:8])
    header = json.loads(MODEL[8 : 8 + length])
    header["__metadata__"] = {"format": "brushwork-style-model", "format_version": "2",
                              "brushwork": json.dumps(info), **metadata}  # fmt: skip
    raw = json.dumps(header).encode()
    path = work / "metadata.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + MODEL[8 + length :])
    _must_load_or_refuse(load_model, path)
