"""A batch job on Ray Data: a pool of actors, each holding the model once, stylizes a stream
of (source, output) rows; this process records each result in the manifest as it arrives.

Each actor writes its outputs itself, through the same function as `brushwork stylize`
(inference/stylize.py's stylize_pair: decode, stylize, encode, atomic write), so the bytes are
the CLI's; the output folder must be one every worker can write (a shared mount on a cluster).
The model travels to the actors as bytes, so the workers need no copy of it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from brushwork.batch.manifest import Manifest, file_digest
from brushwork.batch.sources import is_uri, plan_sources
from brushwork.errors import BrushworkError, describe
from brushwork.images import IMAGE_EXTENSIONS
from brushwork.inference.stylize import Stylizer, stylize_pair
from brushwork.styles import resolve_model

RAY_HINT = "--ray needs Ray: pip install 'brushwork[ray]'"
# The Stylizer options that change the pictures (and so name the job in its manifest).
PICTURE_OPTIONS = ("tile", "engine", "precision", "strength", "mix", "preserve_color")
MAX_BLOCK = 64  # images per Ray block at most: a killed job loses at most its blocks in flight


@dataclass
class DatasetReport:
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: "path: reason", as the CLI's
    already_done: int = 0  # images an earlier run of the same job had finished (the manifest)
    workers: int = 0  # the actor pool's size (0: nothing left to do, no pool started)
    name: str = ""  # the style's, as the Stylizer names it


class Painter:
    """One model copy of the actor pool: stylizes the rows it is given, an image at a time."""

    def __init__(self, model: bytes, suffix: str, options: dict[str, Any], max_size: int | None, threads: int):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.folder = tempfile.TemporaryDirectory(prefix="brushwork-")
        path = Path(self.folder.name, "model" + suffix)
        path.write_bytes(model)
        self.stylizer = Stylizer.from_file(path, **options)
        self.max_size = max_size

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        sources, destinations = [str(s) for s in batch["source"]], [str(d) for d in batch["destination"]]
        errors = [self.one(source, Path(destination)) for source, destination in zip(sources, destinations)]
        return {"source": sources, "destination": destinations, "error": errors}

    def one(self, source: str, destination: Path) -> str:
        """"" once `source` is stylized to `destination`, else the one-line reason why not."""
        if not is_uri(source):
            return stylize_pair(self.stylizer, Path(source), destination, self.max_size) or ""
        local = Path(self.folder.name, "input" + Path(source).suffix)
        try:
            import pyarrow.fs as pafs

            fs, path = pafs.FileSystem.from_uri(source)
            with fs.open_input_stream(path) as stream:
                local.write_bytes(stream.read())
        except (OSError, ValueError) as exc:
            return f"{source}: cannot read ({describe(exc)})"
        try:
            problem = stylize_pair(self.stylizer, local, destination, self.max_size)
        finally:
            local.unlink(missing_ok=True)
        return problem.replace(str(local), source) if problem else ""


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise BrushworkError(RAY_HINT) from None
    return ray


def _connect(ray, address: str | None) -> None:
    """Join the Ray cluster at `address` (None or "local": start one on this machine, unless
    RAY_ADDRESS names one); a Ray already started in this process is used as it is."""
    import logging

    if not ray.is_initialized():
        try:
            ray.init(address=None if address in (None, "local") else address, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BrushworkError(f"--ray {address or 'local'}: cannot connect to Ray ({describe(exc)})") from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # this process shows its own, per image
    context.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def stylize_dataset(
    model: str | Path,
    inputs: list[str | Path],
    output: str | Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    max_size: int | None = None,
    fmt: str | None = None,
    progress: bool = True,
    **options: Any,
) -> DatasetReport:
    """Stylize every image of `inputs` (files, folders, or URIs such as s3://bucket/photos)
    into the folder `output` on a Ray cluster, as `brushwork stylize MODEL INPUT... -o OUTPUT`
    would: the same output names and bytes, bad files reported and the rest written.

    ``address``: the cluster (see :func:`ray.init`; None starts a local one). ``workers``: the
    actor pool's size, each actor one model copy (default: one per GPU of the cluster, else one
    per `cpus_per_worker` of its CPUs). ``options``: the Stylizer's (device, tile, engine,
    precision, strength, mix, preserve_color). Images a run of the same job finished (its
    manifest in `output`) are skipped, so a killed job, started again, does the rest.
    """
    output = Path(output)
    if output.suffix.lower() in IMAGE_EXTENSIONS:
        raise BrushworkError(f"{output}: a Ray job writes a folder; give -o a folder")
    if workers is not None and workers < 1:
        raise BrushworkError(f"--workers must be at least 1 (got {workers})")
    if cpus_per_worker < 1:
        raise BrushworkError(f"--cpus-per-worker must be at least 1 (got {cpus_per_worker})")
    ray = _import_ray()
    path = resolve_model(model)
    # A bad model or option fails here, at once, not in every worker.
    name = Stylizer.from_file(path, **{**options, "device": "cpu", "compile": False}).name
    pairs, problems = plan_sources([str(item) for item in inputs], output, fmt)
    job = {"model": file_digest(path), "max_size": max_size, "format": fmt,
           **{name: options.get(name) for name in PICTURE_OPTIONS}}  # fmt: skip
    manifest = Manifest(output, job)
    finished = manifest.finished()
    todo = [(source, destination) for source, destination in pairs if finished.get(source) != str(destination)]
    report = DatasetReport(already_done=len(pairs) - len(todo), name=name)
    results: dict[str, str] = {}
    if todo:
        _connect(ray, address)
        report.workers = _run(ray, todo, path, options, max_size, workers, cpus_per_worker, manifest, results, progress)
    for source, destination in todo:  # the report in input order, as the CLI's
        if results.get(source):
            report.failed.append(results[source])
        elif source in results:
            report.written.append(destination)
    report.failed[:0] = problems
    return report


def _run(ray, todo, model: Path, options, max_size, workers, cpus_per_worker, manifest, results, progress) -> int:
    """Stream `todo` through the actor pool, recording each result; returns the pool's size."""
    resources = ray.cluster_resources()
    device = str(options.get("device", "auto"))
    gpus = int(resources.get("GPU", 0)) if device.split(":")[0] in ("auto", "cuda") else 0
    size = workers or gpus or max(1, int(resources.get("CPU", 1) // cpus_per_worker))
    actor_options = {**options, "device": "cuda" if gpus else "cpu"}  # Ray shows each actor its own GPU
    block = max(1, min(MAX_BLOCK, len(todo) // (8 * size)))
    blocks = -(-len(todo) // block)
    size = min(size, blocks)  # more actors than blocks would wait idle
    rows = [{"source": source, "destination": str(destination)} for source, destination in todo]
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        Painter,
        fn_constructor_kwargs={"model": model.read_bytes(), "suffix": model.suffix, "options": actor_options,
                               "max_size": max_size, "threads": 0 if gpus else cpus_per_worker},
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=1 if gpus else cpus_per_worker, num_gpus=1 if gpus else 0,
    )  # fmt: skip
    manifest.open()
    bar = tqdm(total=len(todo), desc=f"stylize on Ray ({size} workers)", unit="img", disable=not progress)
    try:
        for row in dataset.iter_rows():
            source, destination, error = str(row["source"]), str(row["destination"]), str(row["error"])
            manifest.record(source, destination, error)
            results[source] = error
            bar.update(1)
    except ray.exceptions.RayError as exc:
        raise BrushworkError(f"the Ray job stopped ({describe(exc)}); {len(results)} image(s) done are kept in "
                             f"{manifest.path}: the same command does the rest") from None  # fmt: skip
    finally:
        bar.close()
        manifest.close()
    return size
