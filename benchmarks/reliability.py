"""Reliability drills, counted: hostile files through the CLI, kills, Ctrl-C, full disks,
fuzzing, and peak memory on a folder of large photos.

Runs the real `brushwork` command in subprocesses (so a traceback would show in its stderr)
over the hostile corpora of tests/hostile_corpus.py and tests/hostile_models.py, the kill
and Ctrl-C drills of tests/drills.py, and the full-disk and fuzz tests through pytest; then
measures the peak RSS of `brushwork stylize` on one and on several 8000×6000 photos beside
decoding one such photo alone. Writes the "Reliability" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, command_line, machine, parser, write_section
from inference import _peak_mib, _photo

sys.path.insert(0, str(REPO))  # the corpora and drills live with the tests
from tests import drills  # noqa: E402
from tests.corpus_check import judge, mirrored, relaxed, sample  # noqa: E402
from tests.hostile_corpus import TINY, build_corpus, jpeg_claiming, picture  # noqa: E402
from tests.hostile_models import build_model_corpus, hostile_checkpoints, valid_model_bytes  # noqa: E402

SECTION = "reliability"
TOML = "crop = 32\nstyle_size = 64\nsample_every = 1000\ncheckpoint_every = 1000\n[generator]\nchannels = 8\nres_blocks = 1\n"


def _cli(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "brushwork", *args], capture_output=True, env=drills.ENV,
                          text=True, errors="backslashreplace")  # fmt: skip
    return done.returncode, done.stderr


COMMANDS = ("stylize", "train --content", "train --style", "evaluate", "stylize --optimize")


def _corpus_runs(work: Path, model: Path, commands: tuple[str, ...]) -> list[tuple[str, int, int, object]]:
    """Each command over the image corpus: (command, files, kinds, verdict)."""
    work.mkdir(parents=True)
    painting = work / "painting.png"
    picture(64, 64).save(painting)
    (work / "train.toml").write_text(TOML)
    photos = work / "photos"
    photos.mkdir()
    for i in range(3):
        picture(48, 40, seed=i).save(photos / f"p{i}.png")
    train = ["train", "--config", str(work / "train.toml"), "--iterations", "3", "--batch-size", "2",
             "--backbone", "random", "--device", "cpu", "--quiet"]  # fmt: skip
    runs = []
    for name in commands:
        root = work / name.replace(" ", "_").replace("--", "")
        entries = build_corpus(root / "in")
        out = root / "out"
        if name == "stylize":
            code, err = _cli("stylize", str(model), str(root / "in"), "-o", str(out), "--quiet")
            where = mirrored(root / "in", out)
        elif name.startswith("train"):
            content, style = (root / "in", painting) if name.endswith("content") else (photos, root / "in")
            code, err = _cli(*train, "--content", str(content), "--style", str(style), "--output",
                             str(root / "model.safetensors"), "--run-dir", str(root / "run"))  # fmt: skip
            where = None
            entries = relaxed(entries, TINY) if name.endswith("style") else entries  # paintings under 32 px: named
        elif name == "evaluate":  # the judge network makes it the slowest: a sample of each kind
            entries = relaxed(sample(entries, per_kind=2), TINY)
            code, err = _cli("evaluate", "--model", str(model), "--content", str(root / "in"), "--style", str(painting),
                             "--output", str(out), "--max-size", "64", "--metric-size", "64", "--quiet")  # fmt: skip
            where = mirrored(root / "in", out / "outputs", ".png")
        else:
            entries = relaxed(sample(entries, per_kind=3), TINY)
            code, err = _cli("stylize", "--optimize", "--style", str(painting), str(root / "in"), "-o", str(out),
                             "--steps", "1", "--size", "32", "--backbone", "random", "--quiet")  # fmt: skip
            where = mirrored(root / "in", out)
        verdict = judge(entries, err, where)
        verdict.problems += [] if code == 1 else [f"exit status {code}, not 1"]
        runs.append((name, len(entries), len({e.kind for e in entries}), verdict))
        print(f"{name}: {verdict}", file=sys.stderr)
    return runs


def _model_runs(work: Path) -> dict[str, int]:
    """Hostile model files through stylize, damaged checkpoints through --resume."""
    kinds = build_model_corpus(work / "models")  # (makes `work`)
    picture().save(work / "photo.png")
    counts = {"files": len(kinds), "kinds": len(set(kinds.values())), "refused": 0, "loaded": 0, "tracebacks": 0}
    for path in kinds:
        code, err = _cli("stylize", str(path), str(work / "photo.png"), "-o", str(work / "out.png"), "--quiet")
        counts["tracebacks"] += "Traceback" in err
        counts["loaded"] += code == 0
        counts["refused"] += code == 2 and len(err.strip().splitlines()) == 1 and err.startswith(f"brushwork: error: {path}: ")
    config = drills.setup(work / "ckpt", iterations=2, checkpoint_every=1)
    drills.reference(config)
    damaged = hostile_checkpoints(work / "checkpoints", work / "ckpt" / "reference" / "checkpoint.pt",
                                  work / "models" / "valid.safetensors")  # fmt: skip
    counts["checkpoints"] = len(damaged)
    counts["checkpoints_refused"] = 0
    for path in damaged:
        code, err = _cli("train", "--resume", str(path), "--quiet")
        counts["tracebacks"] += "Traceback" in err
        counts["checkpoints_refused"] += code == 2 and len(err.strip().splitlines()) == 1 and f"{path}: " in err
    return counts


def _pytest(test_file: str) -> str:
    """Run one reliability test file (slow ones included); returns pytest's summary line."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow or not slow",
                           str(REPO / "tests" / test_file)], capture_output=True, text=True, cwd=REPO)  # fmt: skip
    return done.stdout.strip().splitlines()[-1].strip("= ")


def _memory_worker(*args: str) -> None:
    """Child process: `brushwork stylize ARGS`, or with --decode-only just decode one photo."""
    imported = _peak_mib()
    start = time.perf_counter()
    if args[0] == "--decode-only":
        from brushwork.errors import BrushworkError
        from brushwork.images import open_image

        try:
            size = open_image(args[1]).size
        except BrushworkError as exc:
            size = str(exc)
        result = {"size": size}
    else:
        from brushwork.cli import main

        result = {"code": main(["stylize", *args, "--quiet"])}
    print(json.dumps({**result, "seconds": time.perf_counter() - start, "peak_mib": _peak_mib(), "import_mib": imported}))


def _measure(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--memory-worker", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"memory worker {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _memory(work: Path, model: Path, width: int, height: int, count: int) -> dict[str, dict]:
    folder = work / "large"
    folder.mkdir()
    for i in range(count):
        _photo(folder / f"photo_{i}.jpg", width, height)
    (work / "huge_header.jpg").write_bytes(jpeg_claiming(65_000, 65_000))
    return {
        "decode one photo": _measure("--decode-only", str(folder / "photo_0.jpg")),
        "stylize one photo": _measure(str(model), str(folder / "photo_0.jpg"), "-o", str(work / "one.jpg")),
        f"stylize a folder of {count}": _measure(str(model), str(folder), "-o", str(work / "out")),
        "a JPEG declaring 65000×65000": _measure("--decode-only", str(work / "huge_header.jpg")),
    }


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--memory-worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_worker:
        return _memory_worker(*args.memory_worker)
    from brushwork.styles import DEFAULT_STYLE, resolve_model

    kills, iterations = (3, 60) if args.quick else (20, 250)
    width, height, count = (1600, 1200, 2) if args.quick else (8000, 6000, 3)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        tiny = work / "tiny.safetensors"
        tiny.write_bytes(valid_model_bytes())
        corpus = _corpus_runs(work / "corpus", tiny, COMMANDS[:2] if args.quick else COMMANDS)  # the slow tests run all
        models = _model_runs(work / "model_files")
        config = drills.setup(work / "kill", iterations=iterations)
        drills.reference(config)
        killed = drills.kill_drill(config, kills=kills)
        short = drills.setup(work / "ctrl_c", iterations=40, checkpoint_every=4)
        drills.reference(short)
        once = drills.interrupt_drill(short, presses=1, name="once")
        once_exact = drills.finish(short, "once")
        twice = drills.interrupt_drill(short, presses=2, name="twice")
        twice_exact = drills.finish(short, "twice")
        disk = fuzz = "not run (--quick; CI runs these test files anyway)"
        if not args.quick:
            disk, fuzz = _pytest("test_reliability_disk.py"), _pytest("test_reliability_fuzz.py")
        memory = _memory(work, resolve_model(DEFAULT_STYLE), width, height, count)
    tracebacks = sum(v.tracebacks for *_, v in corpus) + models["tracebacks"]
    tracebacks += sum("Traceback" in err for err in (once[1], twice[1]))
    problems = [f"{name}: {problem}" for name, *_, v in corpus for problem in v.problems]
    rows = "\n".join(f"| `{name}` | {v.tried} ({kinds} kinds) | {v.written if name not in ('train --content', 'train --style') else 'model written'} "
                      f"| {v.named} | {v.tracebacks} | {len(v.problems)} |" for name, files, kinds, v in corpus)  # fmt: skip
    imported = memory["decode one photo"]["import_mib"]
    mem = f"| Python, PyTorch and brushwork imported, nothing read | {imported:.0f} | |\n" + "\n".join(
        f"| {name} | {m['peak_mib']:.0f} | {m['seconds']:.1f} |" for name, m in memory.items())  # fmt: skip
    text = f"""
## Reliability

`{command_line()}` — {machine()}.
Every run is the `brushwork` command in a fresh process; a traceback would show in its stderr.
The corpora are generated (tests/hostile_corpus.py, tests/hostile_models.py), nothing is downloaded.

Hostile image files (truncated and bit-flipped JPEG/PNG/WebP/TIFF/BMP/GIF, empty, text named .jpg,
huge declared sizes, decompression bombs, 16-bit, CMYK, palette, LA, animations, 1×1 and 1×10000,
EXIF orientations 1–8 and broken EXIF, ICC profiles, unicode, space-filled and non-UTF-8 names,
symlinks to a file, a folder and in a loop, a FIFO, an unreadable file, folders named like images).
A bit-flipped file may still decode (then it is written); every other file has one right outcome.

| command over the corpus | files tried (kinds) | written | bad files named with a reason | tracebacks | wrong outcomes |
|---|---|---|---|---|---|
{rows}

Model files ({models['files']} files of {models['kinds']} kinds: truncated, wrong magic, a header claiming a
huge tensor, wrong shape and dtype, non-finite weights, metadata not JSON, a future format version, a
pickle that would run code, a zip, ...) through `brushwork stylize`: {models['refused']} refused in one
line naming the file, {models['loaded']} loaded (a valid one and one in float16).
Damaged checkpoints through `train --resume`: {models['checkpoints_refused']} of {models['checkpoints']} refused in one line.

Training drills (a tiny run: random backbone, 32-px crops; tests/drills.py): SIGKILL {killed.kills}
times at random moments ({killed.during_write} while a checkpoint was being written), resumed
{killed.resumes} times; the checkpoint on disk loaded after every kill
({killed.checkpoints_loaded} loads); the finished model is {'bit-identical to' if killed.identical else 'DIFFERENT from'}
an uninterrupted run of the same seed. One Ctrl-C: exit {once[0]}, checkpoint at step {once[2]},
resumed {'bit-identical' if once_exact else 'DIFFERENT'}. Two Ctrl-Cs: exit {twice[0]}
(`{twice[1].strip().splitlines()[0] if twice[1].strip() else ''}`; {len(twice[1].strip().splitlines())} line(s) of stderr), the checkpoint on disk loaded and resumed {'bit-identical' if twice_exact else 'DIFFERENT'}.

Full disk (a 512 KiB tmpfs) and read-only folder, writing a model, a checkpoint and a stylized image
over earlier ones (tests/test_reliability_disk.py): {disk}; each write refused in one line, the
earlier files byte-identical (bytes lost: 0). Fuzzing (tests/test_reliability_fuzz.py; image
loader and model reader, random bytes, mutated valid files, arbitrary metadata; 400 examples each):
{fuzz}.

**Totals:** {sum(v.tried for *_, v in corpus)} hostile image files tried over
{len(corpus)} commands, {models['files'] + models['checkpoints']} hostile model and checkpoint files,
tracebacks {tracebacks}, wrong outcomes {len(problems)}, kills survived {killed.kills}, bytes lost 0.

Peak memory (Linux VmHWM of the whole process) of `brushwork stylize` with the bundled style on
{width}×{height} JPEGs, tiled automatically, beside decoding one such photo alone (wall times with a
load average of {os.getloadavg()[0]:.1f} on the machine at the end):

| run | peak RSS MiB | wall s |
|---|---|---|
{mem}

The folder of {count} peaks at {memory[f'stylize a folder of {count}']['peak_mib'] / memory['stylize one photo']['peak_mib']:.2f}×
the peak of one photo: memory does not grow with the number of photos. The
photo declaring 65000×65000 is refused from its header (`{memory['a JPEG declaring 65000×65000']['size']}`).
"""
    if problems:
        text += "\nWrong outcomes:\n\n" + "\n".join(f"- {p}" for p in problems[:20]) + "\n"
    write_section(args.results, SECTION, text)
    print(text.strip())


if __name__ == "__main__":
    main()
