"""Video: clips in and out (timing, size, rotation, sound), bad clips and options, Ctrl-C, the
temporal stabilisation and its measure, the webcam's errors. Clips are tiny and made here."""

import os
import sys

import numpy as np
import pytest
import torch
from PIL import Image

av = pytest.importorskip("av", reason="video needs PyAV: pip install 'brushwork[video]'")
pytest.importorskip("cv2", reason="video needs OpenCV: pip install 'brushwork[video]'")

from brushwork.errors import BrushworkError  # noqa: E402
from brushwork.evaluation.video_metrics import warping_error  # noqa: E402
from brushwork.inference.stylize import Stylizer  # noqa: E402
from brushwork.inference.temporal import VideoStylizer  # noqa: E402
from brushwork.videos import VideoReader  # noqa: E402

from .clips import make_clip, shapes_frame  # noqa: E402
from .test_cli import assert_one_line_error, run  # noqa: E402


def probe(path):
    """(frame count, rate, stored width, height, rotation, audio codec, audio packet bytes, frames)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames, rotation, sound = [], 0, []
        for packet in container.demux(*[s for s in (video, audio) if s is not None]):
            if packet.stream is video:
                for frame in packet.decode():
                    rotation = frame.rotation
                    frames.append(frame.to_ndarray(format="rgb24"))
            elif packet.size:
                sound.append(bytes(packet))
        return (len(frames), video.average_rate, video.width, video.height, rotation,
                audio.codec_context.name if audio else None, sound, frames)  # fmt: skip


def test_a_clip_keeps_its_frames_rate_size_and_sound(tiny_model, tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", frames=14, rate=15)
    out = tmp_path / "styled.mp4"
    code, stdout, err = run(["stylize", tiny_model, clip, "-o", out, "--quiet"], capsys)
    assert code == 0, err
    assert "wrote" in stdout and "14 frames" in stdout
    count, rate, width, height, _, audio, sound, frames = probe(out)
    assert (count, rate, width, height, audio) == (14, 15, 64, 48, "aac")
    assert sound == probe(clip)[6]  # the AAC packets copied byte for byte, not re-encoded
    source = probe(clip)[7]
    assert np.abs(frames[3].astype(int) - source[3]).mean() > 5  # it was stylized
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_rotation_is_kept_and_stylized_upright(tiny_model, tmp_path):
    clip = make_clip(tmp_path / "phone.mp4", rotation=90, audio=False)
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    result = stylizer.video(clip, tmp_path / "out.mov", progress=False)
    assert (result.info.width, result.info.height, result.info.rotation) == (48, 64, 90)  # upright
    count, _, width, height, rotation, audio, _, frames = probe(tmp_path / "out.mov")
    assert (count, width, height, rotation, audio) == (12, 64, 48, 90, None)  # stored as the source was
    stored = probe(clip)[7][0]
    upright = np.rot90(stylizer.stylize_pixels(torch.from_numpy(np.rot90(stored).copy())).numpy(), -1)
    sideways = stylizer.stylize_pixels(torch.from_numpy(stored)).numpy()
    error = {name: np.abs(frames[0].astype(int) - image).mean() for name, image in (("up", upright), ("side", sideways))}
    assert error["up"] < 0.5 * error["side"], error  # the model saw the picture as a player shows it


def test_webm_output_reencodes_the_sound_and_max_size_shrinks(tiny_model, tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", frames=8)
    out = tmp_path / "small.webm"
    code, _, err = run(["stylize", tiny_model, clip, "-o", out, "--max-size", 32, "--quiet"], capsys)
    assert code == 0, err
    count, _, width, height, _, audio, _, _ = probe(out)
    assert (count, width, height, audio) == (8, 32, 24, "opus")  # WebM takes no AAC


def test_a_folder_of_clips_is_mirrored_and_a_bad_clip_does_not_stop_it(tiny_model, tmp_path, capsys):
    folder = tmp_path / "clips"
    (folder / "sub").mkdir(parents=True)
    make_clip(folder / "a.mp4", frames=6)
    make_clip(folder / "sub" / "b.mkv", frames=6, audio=False)
    (folder / "broken.mov").write_bytes(b"\x00" * 100)
    Image.fromarray(shapes_frame(0)).save(folder / "still.png")
    code, stdout, err = run(["stylize", tiny_model, folder, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code == 1 and "1 failed" in stdout and "stylized 1 image(s) and 2 clip(s)" in stdout, stdout
    assert "broken.mov" in err and "Traceback" not in err
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*"))
    assert written == ["a.mp4", "still.png", "sub", "sub/b.mkv"]


def _mux_silence(out):
    """A short silent AAC track in an open output container."""
    sound = out.add_stream("aac", rate=48000)
    sound.layout = "mono"
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
    frame.sample_rate = 48000
    out.mux(sound.encode(frame))
    out.mux(sound.encode(None))


def _no_video_stream(path):
    with av.open(str(path), "w") as out:
        _mux_silence(out)


def _zero_frames(path):
    """A video track with no frames (Matroska keeps the track while its sound plays; MP4 drops it)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _mux_silence(out)
    with av.open(str(path)) as check:
        assert check.streams.video and check.streams.video[0].width == 64


def _unsupported_codec(path):
    make_clip(path, frames=3, audio=False, codec="ffv1")
    data = path.read_bytes()
    assert data.count(b"V_FFV1") == 1
    path.write_bytes(data.replace(b"V_FFV1", b"V_QXZW"))  # a codec id no decoder knows


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("audio.mp4", _no_video_stream, "no video stream"),
        ("empty.mkv", _zero_frames, "has no frames"),
        ("odd.mkv", _unsupported_codec, "unsupported video codec"),
        ("noise.mp4", lambda p: p.write_bytes(os.urandom(3000)), "not a readable video"),
        ("cut.mp4", lambda p: p.write_bytes(make_clip(p).read_bytes()[:1500]), "truncated or corrupt"),
        ("zero.mp4", lambda p: p.write_bytes(b""), "file is empty"),
        ("missing.mp4", lambda p: None, "no such file"),
    ],
)
def test_bad_clips_get_one_line_naming_the_file(tiny_model, tmp_path, capsys, name, make, message):
    clip = tmp_path / name
    make(clip)
    code, _, err = run(["stylize", tiny_model, clip, "-o", tmp_path / "out.mp4"], capsys)
    assert code != 0
    line = next(line for line in err.splitlines() if "brushwork:" in line)
    assert str(clip) in line and message in line, err
    assert "Traceback" not in err and not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{clip}", "-o", "{tmp}/out.avi"], "cannot write '.avi' videos"),
        (["{clip}", "-o", "{tmp}/out.xyz"], "cannot write '.xyz' videos"),
        (["{clip}", "-o", "{tmp}/out.png"], "cannot write '.png' videos"),
        (["{clip}", "{clip}", "-o", "{tmp}/out.mp4"], "needs exactly one input clip"),
        (["{photo}", "-o", "{tmp}/o.png", "--stable"], "--stable: options for video clips"),
        (["{photo}", "-o", "{tmp}/o.png", "--temporal-blend", "0.3"], "--temporal-blend: options for video clips"),
        (["{clip}", "-o", "{tmp}/o.mp4", "--temporal-blend", "2"], "--temporal-blend must be between 0 and 0.95"),
        (["{clip}", "-o", "{tmp}/out", "--image-format", "png"], "--image-format"),
        (["{clip}", "-o", "{tmp}/o.mp4", "--max-size", "0"], "--max-size must be a positive"),
    ],
)
def test_wrong_video_options_are_refused(tiny_model, tmp_path, capsys, argv, message):
    clip = make_clip(tmp_path / "clip.mp4", frames=3, audio=False)
    photo = tmp_path / "photo.png"
    Image.fromarray(shapes_frame(0)).save(photo)
    argv = [a.format(clip=clip, photo=photo, tmp=tmp_path) for a in argv]
    code, _, err = run(["stylize", tiny_model, *argv], capsys)
    assert code == 2
    assert_one_line_error(err, message)
    assert not list((tmp_path).glob("o*.*"))


def test_optimize_refuses_clips(tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", frames=2, audio=False)
    code, _, err = run(["stylize", "--optimize", "--style", clip, clip, "-o", tmp_path / "o.mp4"], capsys)
    assert code == 2
    assert_one_line_error(err, "--optimize", "not video clips")


def test_ctrl_c_leaves_no_file_and_keeps_an_earlier_one(tiny_model, tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "clip.mp4", frames=10)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"an earlier render")
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    calls = []
    original = stylizer.stylize_pixels

    def interrupted(pixels, thumbnail=None):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(pixels, thumbnail)

    monkeypatch.setattr(stylizer, "stylize_pixels", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stylizer.video(clip, out, progress=False)
    assert out.read_bytes() == b"an earlier render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4", "tiny.safetensors"]  # no temporary file


def test_controls_run_as_for_stills(two_style_model, tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", frames=4, audio=False)
    source = probe(clip)[7]
    black = tmp_path / "black.png"
    Image.new("L", (64, 48), 0).save(black)
    outputs = {}
    for name, options in {"mask": ["--mask", black], "zero": ["--strength", "0"], "cool": ["--style-mix", "cool"],
                          "warm": ["--style-mix", "warm"], "color": ["--preserve-color"]}.items():  # fmt: skip
        code, _, err = run(["stylize", two_style_model, clip, "-o", tmp_path / f"{name}.mp4", "--quiet", *options], capsys)
        assert code == 0, err
        outputs[name] = probe(tmp_path / f"{name}.mp4")[7]

    def distance(a, b):
        return np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)])

    assert distance(outputs["mask"], source) < 3 and distance(outputs["zero"], source) < 3  # the photo (codec noise only)
    assert distance(outputs["cool"], outputs["warm"]) > 3  # two styles
    assert distance(outputs["warm"], source) > 5
    grey = [f.mean(-1, keepdims=True) for f in outputs["color"]]  # the photo's colours: chroma close to the photo's
    assert distance([f - g for f, g in zip(outputs["color"], grey)],
                    [s - s.mean(-1, keepdims=True) for s in source]) < distance(outputs["warm"], source)  # fmt: skip


def test_stable_mode_lowers_the_warping_error(tiny_model):
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    photos = [shapes_frame(i) for i in range(14)]
    per_frame = [stylizer.stylize_pixels(torch.from_numpy(p)).numpy() for p in photos]  # as stills
    assert all(np.array_equal(a, b) for a, b in zip(stylizer.frames(photos), per_frame))  # the default
    stable = VideoStylizer(stylizer, blend=0.6)
    flicker = warping_error(photos, per_frame)
    steady = warping_error(photos, [stable(p) for p in photos])
    assert steady < 0.6 * flicker, (steady, flicker)
    import cv2

    def detail(frames):
        return np.mean([cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_32F).var() for f in frames])

    stable = VideoStylizer(stylizer, blend=0.6)
    assert detail([stable(p) for p in photos]) > 0.75 * detail(per_frame)  # steadier, not blurred


def test_the_warping_error_sees_flicker():
    photos = [shapes_frame(i) for i in range(8)]
    rng = np.random.default_rng(0)
    noisy = [np.clip(p.astype(int) + rng.integers(-30, 30, p.shape), 0, 255).astype(np.uint8) for p in photos]
    assert warping_error(photos, photos) < 0.2 * warping_error(photos, noisy)


def test_a_cut_starts_a_new_shot_and_a_shot_can_share_one_thumbnail(tiny_model, tmp_path):
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    seen = []
    original = stylizer.stylize_pixels
    stylizer.stylize_pixels = lambda pixels, thumbnail=None: seen.append(thumbnail) or original(pixels, thumbnail)
    video = VideoStylizer(stylizer, shots=True)
    frames = [video(shapes_frame(i, scene=int(i >= 5))) for i in range(9)]
    assert len(frames) == 9 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert all(t is seen[0] for t in seen[:5]) and all(t is seen[5] for t in seen[5:])
    assert seen[5] is not seen[0] and video.cuts == 1
    result = Stylizer.from_file(tiny_model, device="cpu").video(
        make_clip(tmp_path / "cut.mp4", frames=9, cut_at=5), tmp_path / "o.mkv", progress=False, blend=0.5)  # fmt: skip
    assert result.cuts == 1 and result.frames == 9


def test_the_blend_starts_afresh_at_a_cut(tiny_model):
    stylizer = Stylizer.from_file(tiny_model, device="cpu")
    photos = [shapes_frame(i, scene=int(i >= 5)) for i in range(7)]
    video = VideoStylizer(stylizer, blend=0.9)
    stable = [video(p) for p in photos]
    assert np.array_equal(stable[5], stylizer.stylize_pixels(torch.from_numpy(photos[5])).numpy())
    assert not np.array_equal(stable[4], stylizer.stylize_pixels(torch.from_numpy(photos[4])).numpy())


def test_reader_streams_frames_one_at_a_time(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames=5)
    with VideoReader(clip) as reader:
        frames = reader.frames()
        first = next(frames)
        assert first.shape == (48, 64, 3) and reader.info.frames == 5 and reader.info.audio == "aac"
        assert sum(1 for _ in frames) == 4


def test_missing_pyav_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(BrushworkError, match=r"brushwork\[video\]"):
        VideoReader(tmp_path / "clip.mp4")


def test_webcam_errors_are_one_line(tiny_model, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = run(["webcam", tiny_model], capsys)
    assert code == 2
    assert_one_line_error(err, "no display")
    monkeypatch.setattr("brushwork.inference.webcam.check_display", lambda: None)
    code, _, err = run(["webcam", tiny_model, "--camera", "57"], capsys)
    assert code == 2
    assert_one_line_error(err, "camera 57", "cannot be opened")


def test_webcam_without_a_gui_build_says_so(monkeypatch):
    from brushwork.inference import webcam

    monkeypatch.setenv("DISPLAY", ":0")
    cv2 = pytest.importorskip("cv2")
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: "  GUI:                           NONE\n")
    with pytest.raises(BrushworkError, match="no window support"):
        webcam.check_display()


def test_the_studio_stylizes_an_uploaded_clip(tiny_model, tmp_path):
    from brushwork.web.library import StyleLibrary
    from brushwork.web.settings import Limits, StudioSettings
    from brushwork.web.video_service import VideoRequest, stylize_video_upload

    settings = StudioSettings(library_dir=tmp_path / "models", outputs_dir=tmp_path / "outputs",
                              limits=Limits(max_video_seconds=1.5))  # fmt: skip
    (settings.library_dir / "tiny.safetensors").write_bytes(tiny_model.read_bytes())
    library = StyleLibrary(settings.library_dir)
    clip = make_clip(tmp_path / "upload.mp4", frames=12, rate=12)
    done = stylize_video_upload(VideoRequest(clip=str(clip), style="tiny", stable=True, max_size=32), library, settings)
    count, rate, width, height, _, audio, _, _ = probe(done.video)
    assert (count, rate, width, height, audio) == (12, 12, 32, 24, "aac") and "sound kept" in done.message
    with pytest.raises(BrushworkError, match="up to 1.5 s"):
        stylize_video_upload(VideoRequest(clip=str(make_clip(tmp_path / "long.mp4", frames=24)), style="tiny"), library, settings)
    (tmp_path / "bad.mp4").write_bytes(b"junk" * 100)
    with pytest.raises(BrushworkError, match="^bad.mp4: not a readable video"):
        stylize_video_upload(VideoRequest(clip=str(tmp_path / "bad.mp4"), style="tiny"), library, settings)


def test_the_studio_page_has_a_video_tab(tmp_path):
    pytest.importorskip("gradio")
    from brushwork.web.app import build_app
    from brushwork.web.settings import StudioSettings

    demo, queue = build_app(StudioSettings(library_dir=tmp_path / "models", outputs_dir=tmp_path / "outputs"))
    try:
        ids = {block.elem_id for block in demo.blocks.values()}
        assert {"clip-upload", "video-style", "video-button", "video-result"} <= ids
    finally:
        queue.close()


def test_a_clip_run_loads_only_the_inference_core(tiny_model, tmp_path):
    import subprocess

    clip = make_clip(tmp_path / "clip.mp4", frames=3)
    code = (
        "import sys; from brushwork.cli import main; "
        f"assert main(['stylize', {str(tiny_model)!r}, {str(clip)!r}, '-o', {str(tmp_path / 'out.mp4')!r}, '--quiet', '--stable']) == 0; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('brushwork.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()
    assert "brushwork.inference.video" in loaded and (tmp_path / "out.mp4").is_file()
    heavy = [m for m in loaded if m.split(".")[1] in ("training", "evaluation", "perceptual", "web")
             and m not in ("brushwork.perceptual", "brushwork.perceptual.options")]  # fmt: skip
    assert not heavy, heavy
