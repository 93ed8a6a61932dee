"""The Train page: upload a painting (or several) and photos, start a job, watch it live,
cancel it. Jobs live on disk (jobs.py), so a reload shows them as they are."""

from __future__ import annotations

import gradio as gr

from brushwork.images import find_images
from brushwork.web.jobs import ACTIVE, JobQueue
from brushwork.web.library import StyleLibrary
from brushwork.web.messages import report_errors
from brushwork.web.settings import StudioSettings
from brushwork.web.train_service import TrainRequest, describe_job, jobs_table, start_training

BACKBONE_CHOICES = ("efficientnet-lite0", "random")  # vgg19 needs a weights file a browser user cannot give


def _job_choices(queue: JobQueue) -> list[tuple[str, str]]:
    return [(f"{job.name} ({job.status}, {job.id})", job.id) for job in reversed(queue.jobs())]


def _upload_paths(files) -> list[str]:
    return [str(item) for item in (files or [])]


def build(queue: JobQueue, library: StyleLibrary, settings: StudioSettings, timer: gr.Timer) -> None:
    """Lay out the page inside the current gr.Tab and wire it to the job queue."""
    server_photos = len(find_images(settings.photos_dir)) if settings.photos_dir else 0
    with gr.Row():
        with gr.Column(scale=1):
            name = gr.Textbox(label="New style's name", placeholder="e.g. my_painting", elem_id="train-name")
            paintings = gr.File(label="Painting (or several paintings of one artist)", file_count="multiple",
                                type="filepath", elem_id="train-paintings")  # fmt: skip
            photos = gr.File(label="Photos to train on (a few dozen to a few hundred)", file_count="multiple",
                             type="filepath", elem_id="train-photos")  # fmt: skip
            use_server = gr.Checkbox(label=f"Use the server's photo folder instead ({server_photos} photos)",
                                     visible=settings.photos_dir is not None, elem_id="train-server-photos")  # fmt: skip
            with gr.Accordion("Training options", open=False):
                iterations = gr.Number(TrainRequest.iterations, label=f"Steps ({TrainRequest.iterations} take a few minutes on a laptop CPU)", precision=0,
                                       minimum=1, maximum=20000, elem_id="train-steps")  # fmt: skip
                batch_size = gr.Number(TrainRequest.batch_size, label="Photos per step", precision=0, minimum=1, maximum=32, elem_id="train-batch")
                crop = gr.Number(TrainRequest.crop, label="Crop size (px)", precision=0, minimum=48, maximum=512, elem_id="train-crop")
                backbone = gr.Dropdown(list(BACKBONE_CHOICES), value=BACKBONE_CHOICES[0], label="Loss network "
                                       "(random: only for quick tests; it cannot see style)", elem_id="train-backbone")  # fmt: skip
                max_strength = gr.Slider(0, 2, value=0, step=0.1, label="Strength control up to (0: off)")
            start = gr.Button("Start training", variant="primary", elem_id="train-start")
        with gr.Column(scale=2):
            status = gr.Markdown("", elem_id="train-status")
            job = gr.Dropdown(_job_choices(queue), label="Job", elem_id="job-choice")
            detail = gr.Markdown("", elem_id="job-detail")
            sample = gr.Image(label="Latest sample: photo | stylized", type="filepath", interactive=False, elem_id="job-sample")
            cancel = gr.Button("Cancel this job", variant="stop", elem_id="job-cancel")
            table = gr.Markdown(jobs_table(queue.jobs()), elem_id="jobs-table")

    @report_errors(lambda message: (message, gr.skip()))
    def on_start(name_value, painting_files, photo_files, server_value, steps, batch, crop_value, backbone_value, top):
        request = TrainRequest(
            name=name_value, paintings=_upload_paths(painting_files), photos=_upload_paths(photo_files),
            use_server_photos=bool(server_value), iterations=int(steps or 0), batch_size=int(batch or 0),
            crop=int(crop_value or 0), backbone=backbone_value, max_strength=float(top or 0),
        )  # fmt: skip
        created = start_training(request, queue, library, settings)
        return f"Queued **{created.name}** (job {created.id}).", gr.update(choices=_job_choices(queue), value=created.id)

    start.click(on_start, [name, paintings, photos, use_server, iterations, batch_size, crop, backbone, max_strength],
                [status, job], concurrency_limit=1)  # fmt: skip

    @report_errors(lambda message: message)
    def on_cancel(job_id):
        if not job_id:
            return "Pick a job to cancel."
        return queue.cancel(job_id)

    cancel.click(on_cancel, job, status)

    def refresh(job_id, shown_choices):
        """The live view: the chosen job (default: the newest active one), the table and the choices."""
        jobs = queue.jobs()
        choices = _job_choices(queue)
        if not job_id and jobs:
            active = [j for j in jobs if j.status in ACTIVE]
            job_id = (active or jobs)[-1].id
        current = next((j for j in jobs if j.id == job_id), None)
        text = describe_job(current) if current else ""
        picture = str(current.latest_sample()) if current and current.latest_sample() else None
        choice_update = gr.update(choices=choices, value=job_id) if choices != shown_choices else gr.skip()
        return text, picture, jobs_table(jobs), choice_update, choices

    shown = gr.State([])
    timer.tick(refresh, [job, shown], [detail, sample, table, job, shown], show_progress="hidden", queue=False)
    job.change(refresh, [job, shown], [detail, sample, table, job, shown], show_progress="hidden", queue=False)
