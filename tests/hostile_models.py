"""Hostile model files and checkpoints, generated from a valid tiny model (nothing downloaded).

:func:`build_model_corpus` returns {path: kind}; every file but ``valid.safetensors`` and
``half_precision.safetensors`` must be refused with one line naming it.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tempfile
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save

from brushwork.inference.modelfile import save_model
from brushwork.models import Generator, GeneratorConfig

GOOD_MODELS = ("valid.safetensors", "half_precision.safetensors")


class _RunsCode:
    """What a hostile pickle holds: unpickling it would call os.system."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _split(data: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _with_metadata(data: bytes, **changes) -> bytes:
    header, body = _split(data)
    header["__metadata__"] = {**header["__metadata__"], **changes}
    return safetensors_bytes(header, body)


def _with_generator(data: bytes, **changes) -> bytes:
    header, _ = _split(data)
    info = json.loads(header["__metadata__"]["brushwork"])
    info["generator"] = {**info["generator"], **changes}
    return _with_metadata(data, brushwork=json.dumps(info))


def _tensors_changed(generator: Generator, meta: dict, change) -> bytes:
    """The model with its tensors edited by `change` (a function of the name -> tensor dict)."""
    tensors = {k: v.detach().clone().contiguous() for k, v in generator.state_dict().items()}
    change(tensors)
    return save(tensors, metadata=meta)


def valid_model_bytes() -> bytes:
    """The bytes of a valid tiny model file."""
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "valid.safetensors"
        save_model(path, Generator(GeneratorConfig(channels=8, res_blocks=1)), {"style_name": "tiny", "backbone": "random"})
        return path.read_bytes()


def build_model_corpus(root: str | os.PathLike[str]) -> dict[Path, str]:
    """Write the hostile model files under `root`; returns {path: kind}."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    valid = valid_model_bytes()
    (root / "valid.safetensors").write_bytes(valid)
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(channels=8, res_blocks=1))  # the same weights as `valid`
    header, body = _split(valid)
    meta = header["__metadata__"]
    first = next(k for k in header if k != "__metadata__")

    def half(t):
        t.update({k: v.half() for k, v in t.items()})

    def transpose(t):
        name = next(k for k, v in t.items() if v.ndim == 4)
        t[name] = t[name].transpose(0, 1).contiguous()

    files = {
        "half_precision.safetensors": (_tensors_changed(generator, meta, half), "float16 weights"),
        "wrong_shape.safetensors": (_tensors_changed(generator, meta, transpose), "wrong shape"),
        "int_dtype.safetensors": (_tensors_changed(generator, meta, lambda t: t.update({first: t[first].long()})), "wrong dtype"),
        "missing_tensor.safetensors": (_tensors_changed(generator, meta, lambda t: t.pop(first)), "missing tensor"),
        "extra_tensor.safetensors": (_tensors_changed(generator, meta, lambda t: t.update(extra=torch.zeros(3))), "extra tensor"),
        "nan_weights.safetensors": (_tensors_changed(generator, meta, lambda t: t[first].fill_(float("nan"))), "NaN weights"),
        "header_huge_tensor.safetensors": (safetensors_bytes({**header, first: {"dtype": "F32", "shape": [1 << 20, 1 << 20], "data_offsets": [0, 1 << 42]}}, body), "huge tensor"),
        "header_bad_offsets.safetensors": (safetensors_bytes({**header, first: {**header[first], "data_offsets": [len(body), len(body) + 64]}}, body), "bad offsets"),
        "metadata_not_json.safetensors": (_with_metadata(valid, brushwork="{not json"), "metadata not JSON"),
        "metadata_a_list.safetensors": (_with_metadata(valid, brushwork="[1, 2]"), "metadata not an object"),
        "not_brushwork.safetensors": (safetensors_bytes({k: v for k, v in header.items() if k != "__metadata__"}, body), "no metadata"),
        "future_version.safetensors": (_with_metadata(valid, format_version="99"), "future format"),
        "version_not_a_number.safetensors": (_with_metadata(valid, format_version="two"), "bad version"),
        "generator_unknown_key.safetensors": (_with_generator(valid, wings=2), "bad generator config"),
        "generator_absurd_width.safetensors": (_with_generator(valid, channels=10**6), "absurd generator config"),
        "generator_negative_width.safetensors": (_with_generator(valid, channels=-4), "absurd generator config"),
        "generator_unknown_arch.safetensors": (_with_generator(valid, arch="transformer"), "bad generator config"),
        "header_length_huge.safetensors": (struct.pack("<Q", 1 << 62) + b"{}", "header length"),
        "header_length_past_end.safetensors": (struct.pack("<Q", 4096) + b'{"a": 1}', "header length"),
        "header_not_json.safetensors": (struct.pack("<Q", 9) + b"{not json", "header not JSON"),
        "header_a_list.safetensors": (struct.pack("<Q", 6) + b"[1, 2]", "header not an object"),
        "zero_byte.safetensors": (b"", "zero-byte"),
        "seven_bytes.safetensors": (b"\x10\0\0\0\0\0\0", "truncated"),
        "random_bytes.safetensors": (bytes(range(256)) * 8, "wrong magic"),
        "png_named.safetensors": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "wrong magic"),
        "text_named.safetensors": (b"this is not a model\n", "wrong magic"),
        "pickle.safetensors": (pickle.dumps({"weights": [1, 2, 3]}, protocol=4), "pickle"),
        "pickle_runs_code.safetensors": (pickle.dumps(_RunsCode(), protocol=2), "pickle"),
        "pickle_protocol0.safetensors": (pickle.dumps({"a": 1}, protocol=0), "pickle"),
        "torch_save.safetensors": (_torch_save(generator), "zip"),
        "plain_zip.safetensors": (_zip(), "zip"),
    }
    for fraction in (0.01, 0.1, 0.5, 0.9, 0.999):
        files[f"truncated_{fraction:g}.safetensors"] = (valid[: int(len(valid) * fraction)], "truncated")
    kinds = {root / "valid.safetensors": "valid"}
    for name, (data, kind) in files.items():
        (root / name).write_bytes(data)
        kinds[root / name] = kind
    (root / "folder.safetensors").mkdir()
    kinds[root / "folder.safetensors"] = "a folder"
    os.symlink(root / "loop_b.safetensors", root / "loop_a.safetensors")
    os.symlink(root / "loop_a.safetensors", root / "loop_b.safetensors")
    kinds[root / "loop_a.safetensors"] = "symlink loop"
    (root / "garbage.onnx").write_bytes(bytes(range(256)) * 4)
    kinds[root / "garbage.onnx"] = "not ONNX"
    return kinds


def _torch_save(generator: Generator) -> bytes:
    buffer = io.BytesIO()
    torch.save(generator.state_dict(), buffer)
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.json", "{}")
    return buffer.getvalue()


def hostile_checkpoints(root: Path, valid: Path, model: Path) -> list[Path]:
    """Damaged copies of the checkpoint `valid`, and things that are no checkpoint at all
    (`model` is a model file), for --resume."""
    data = valid.read_bytes()
    files = {
        "truncated.pt": data[: len(data) // 2],
        "zero_byte.pt": b"",
        "random_bytes.pt": bytes(range(256)) * 8,
        "pickle_runs_code.pt": pickle.dumps(_RunsCode(), protocol=2),
        "a_model.pt": model.read_bytes(),
    }
    state = torch.load(valid, weights_only=True)
    for name, change in {
        "future_version.pt": lambda s: s.update(brushwork_checkpoint=99),
        "no_config.pt": lambda s: s.pop("config"),
        "config_not_json.pt": lambda s: s.update(config="{oops"),
        "no_generator.pt": lambda s: s.pop("generator"),
        "not_a_checkpoint.pt": lambda s: s.pop("brushwork_checkpoint"),
    }.items():
        copy = dict(state)
        change(copy)
        buffer = io.BytesIO()
        torch.save(copy, buffer)
        files[name] = buffer.getvalue()
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return [root / name for name in files]
