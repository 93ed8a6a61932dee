"""The Styles page: every style with its thumbnail and `brushwork info` metadata, a download
of its .safetensors file, and deletion of trained styles (bundled ones are never deleted)."""

from __future__ import annotations

import shutil
import uuid

import gradio as gr

from brushwork.inference.modelfile import summary_rows
from brushwork.web.library import StyleLibrary
from brushwork.web.messages import report_errors
from brushwork.web.settings import StudioSettings


def gallery_items(library: StyleLibrary) -> list[tuple]:
    return [(entry.thumbnail(), entry.name + ("" if entry.bundled else " (trained)")) for entry in library.entries()]


def info_markdown(library: StyleLibrary, name: str) -> str:
    entry = library.find(name)
    rows = summary_rows(entry.info, entry.path.name if not entry.bundled else f"{entry.path.name} (bundled)")
    table = "\n".join(f"| {key} | {str(value).replace('|', '/')} |" for key, value in rows)
    return "| | |\n|---|---|\n" + table


def build(library: StyleLibrary, settings: StudioSettings, page: gr.Blocks) -> tuple[gr.Gallery, gr.Dropdown]:
    """Lay out the page inside the current gr.Tab; returns the gallery and the style dropdown,
    which the app refreshes when the library changes."""
    names = library.names()
    gallery = gr.Gallery(gallery_items(library), label="Styles", columns=8, height=300, object_fit="contain", allow_preview=False,
                         elem_id="styles-gallery")  # fmt: skip
    with gr.Row():
        with gr.Column(scale=1):
            choice = gr.Dropdown(names, value=names[0] if names else None, label="Style", elem_id="styles-choice")
            download = gr.File(label="Model file (.safetensors)", interactive=False, elem_id="styles-download")
            delete = gr.Button("Delete this trained style", variant="stop", elem_id="styles-delete")
            status = gr.Markdown("", elem_id="styles-status")
        with gr.Column(scale=2):
            info = gr.Markdown(info_markdown(library, names[0]) if names else "", elem_id="styles-info")

    @report_errors(lambda message: (message, None, "", gr.skip()))
    def on_choice(name):
        if not name:
            return "", None, "", gr.update(interactive=False)
        entry = library.find(name)
        # A copy in the server's outputs folder, so the page serves nothing from the style library itself.
        copy = settings.outputs_dir / uuid.uuid4().hex / entry.path.name
        copy.parent.mkdir(parents=True)
        shutil.copyfile(entry.path, copy)
        return info_markdown(library, name), str(copy), "", gr.update(interactive=not entry.bundled)

    gr.on([choice.change, page.load], on_choice, choice, [info, download, status, delete])

    @report_errors(lambda message: (message, gr.skip(), gr.skip()))
    def on_delete(name):
        message = library.delete(name)
        names = library.names()
        return message, gallery_items(library), gr.update(choices=names, value=names[0] if names else None)

    delete.click(on_delete, choice, [status, gallery, choice])
    return gallery, choice
