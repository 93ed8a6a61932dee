"""The Stylize page: a photo (upload or webcam), a style or a painting, the creative
controls, a before/after slider and the full-resolution download."""

from __future__ import annotations

import gradio as gr
import numpy as np
from PIL import Image

from brushwork.styles import DEFAULT_STYLE
from brushwork.web.library import StyleLibrary
from brushwork.web.messages import report_errors
from brushwork.web.settings import StudioSettings
from brushwork.web.stylize_service import (
    OUTPUT_FORMATS, PAINTING_CHOICE, StylizeRequest, result_folder, save_preview, stylize_upload,
)
from brushwork.web.uploads import display_name, open_upload


def style_choices(library: StyleLibrary) -> list[str]:
    return [*library.names(), PAINTING_CHOICE]


def drawn_mask(editor_value) -> Image.Image | None:
    """The strokes painted on the mask editor as a white-on-black mask; None if nothing was painted."""
    layers = (editor_value or {}).get("layers") or []
    alpha = None
    for layer in layers:
        if layer is None:
            continue
        layer_alpha = np.asarray(layer.convert("RGBA"))[..., 3]
        alpha = layer_alpha if alpha is None else np.maximum(alpha, layer_alpha)
    if alpha is None or not alpha.any():
        return None
    return Image.fromarray(np.where(alpha > 0, 255, 0).astype(np.uint8))


def build(library: StyleLibrary, settings: StudioSettings) -> gr.Dropdown:
    """Lay out the page inside the current gr.Tab and wire it; returns the style dropdown,
    which the app refreshes when a new style is trained or one is deleted."""
    limits = settings.limits
    with gr.Row():
        with gr.Column(scale=1):
            photo = gr.File(label="Photo", file_count="single", type="filepath", elem_id="photo-upload")
            with gr.Accordion("or take a webcam snapshot", open=False):
                webcam = gr.Image(sources=["webcam"], type="filepath", label="Webcam", elem_id="webcam")
            names = library.names()
            first = DEFAULT_STYLE if DEFAULT_STYLE in names else names[0]
            style = gr.Dropdown(style_choices(library), value=first, label="Style", elem_id="style-choice")
            with gr.Group(visible=False) as painting_box:
                painting = gr.File(label="Painting to optimise towards", type="filepath", elem_id="painting-upload")
                steps = gr.Slider(10, 500, value=100, step=10, label="Optimisation steps")
                size = gr.Slider(128, 1024, value=384, step=32, label="Longer side optimised at (px)")
            strength = gr.Slider(0, 1.5, value=1.0, step=0.05, label="Strength (models trained with strength control)")
            mix = gr.Textbox(label="Style mix (models of several styles)", placeholder="e.g. starry_night=0.7,great_wave=0.3")
            preserve = gr.Checkbox(label="Keep the photo's colours (take only the style's lightness)")
            with gr.Accordion("Mask: stylize only part of the photo", open=False):
                mask_editor = gr.ImageEditor(
                    label="Paint where the style goes", type="pil", sources=[], transforms=[], layers=False,
                    brush=gr.Brush(colors=["#ffffff"], color_mode="fixed"), elem_id="mask-editor",
                )  # fmt: skip
                mask_file = gr.File(label="or upload a mask (white: stylize, black: keep)", type="filepath")
                feather = gr.Slider(0, 64, value=0, step=1, label="Feather (px)")
            image_format = gr.Radio(list(OUTPUT_FORMATS), value="jpg", label="Download format")
            run = gr.Button("Stylize", variant="primary", elem_id="stylize-button")
        with gr.Column(scale=2):
            status = gr.Markdown("Upload a photo, pick a style, press Stylize.", elem_id="stylize-status")
            compare = gr.ImageSlider(label="Before / after", type="pil", interactive=False, elem_id="compare")
            download = gr.File(label="Full-resolution result", interactive=False, elem_id="download")

    def _photo_failed(message: str):
        return message, None, gr.skip()

    @report_errors(_photo_failed)
    def on_photo(path):
        if not path:
            return "Upload a photo, pick a style, press Stylize.", None, None
        image = open_upload(path, limits)
        small = str(save_preview(image, limits.preview_size, result_folder(settings) / "photo.jpg"))
        return f"{display_name(path)}: {image.width}×{image.height}, ready.", (small, small), small

    photo.upload(on_photo, photo, [status, compare, mask_editor])
    webcam.change(on_photo, webcam, [status, compare, mask_editor])

    def on_style(name):
        return gr.update(visible=name == PAINTING_CHOICE)

    style.change(on_style, style, painting_box)

    def _stylize_failed(message: str):
        return message, gr.skip(), None

    @report_errors(_stylize_failed)
    def on_run(photo_path, webcam_path, style_name, painting_path, steps_value, size_value, strength_value,
               mix_value, preserve_value, editor_value, mask_path, feather_value, format_value,
               progress=gr.Progress(track_tqdm=True)):  # fmt: skip
        source = photo_path or webcam_path
        if not source:
            return "Upload a photo (or take a webcam snapshot) first.", gr.skip(), None
        mask = open_upload(mask_path, limits) if mask_path else drawn_mask(editor_value)
        request = StylizeRequest(
            photo=source, style=style_name, strength=strength_value, mix=mix_value or "", preserve_color=preserve_value,
            mask=mask, feather=int(feather_value), painting=painting_path, steps=int(steps_value), size=int(size_value),
            image_format=format_value,
        )  # fmt: skip
        result = stylize_upload(request, library, settings)
        return result.message, (str(result.before), str(result.after)), str(result.download)

    inputs = [photo, webcam, style, painting, steps, size, strength, mix, preserve, mask_editor, mask_file, feather, image_format]
    run.click(on_run, inputs, [status, compare, download], concurrency_limit=limits.stylize_workers, concurrency_id="stylize",
              api_name="stylize")  # fmt: skip
    return style
