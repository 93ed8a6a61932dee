"""The Video page: upload a clip, pick a style and its controls, get the stylized clip back."""

from __future__ import annotations

import gradio as gr

from brushwork.styles import DEFAULT_STYLE
from brushwork.web.library import StyleLibrary
from brushwork.web.messages import report_errors
from brushwork.web.settings import StudioSettings
from brushwork.web.video_service import VideoRequest, stylize_video_upload


def build(library: StyleLibrary, settings: StudioSettings) -> gr.Dropdown:
    """Lay out the page inside the current gr.Tab and wire it; returns the style dropdown
    (refreshed by the app when styles change)."""
    limits = settings.limits
    with gr.Row():
        with gr.Column(scale=1):
            clip = gr.Video(label=f"Clip (up to {limits.max_video_seconds:g} s)", sources=["upload"], elem_id="clip-upload")
            names = library.names()
            style = gr.Dropdown(names, value=DEFAULT_STYLE if DEFAULT_STYLE in names else names[0], label="Style",
                                elem_id="video-style")  # fmt: skip
            strength = gr.Slider(0, 1.5, value=1.0, step=0.05, label="Strength (models trained with strength control)")
            mix = gr.Textbox(label="Style mix (models of several styles)", placeholder="e.g. starry_night=0.7,great_wave=0.3")
            preserve = gr.Checkbox(label="Keep the clip's colours")
            stable = gr.Checkbox(label="Stable: blend along the motion (less shimmer, slower)", elem_id="video-stable")
            size = gr.Slider(128, 1920, value=640, step=32, label="Longer side (px)")
            run = gr.Button("Stylize clip", variant="primary", elem_id="video-button")
        with gr.Column(scale=2):
            status = gr.Markdown("Upload a clip, pick a style, press Stylize clip.", elem_id="video-status")
            result = gr.Video(label="Stylized", interactive=False, elem_id="video-result")

    def _failed(message: str):
        return message, None

    @report_errors(_failed)
    def on_run(clip_path, style_name, strength_value, mix_value, preserve_value, stable_value, size_value,
               progress=gr.Progress(track_tqdm=True)):  # fmt: skip
        if not clip_path:
            return "Upload a clip first.", None
        request = VideoRequest(clip=clip_path, style=style_name, strength=strength_value, mix=mix_value or "",
                               preserve_color=preserve_value, stable=stable_value, max_size=int(size_value))  # fmt: skip
        done = stylize_video_upload(request, library, settings)
        return done.message, str(done.video)

    run.click(on_run, [clip, style, strength, mix, preserve, stable, size], [status, result],
              concurrency_limit=limits.stylize_workers, concurrency_id="stylize", api_name="stylize_video")  # fmt: skip
    return style
