"""The studio app: builds the Gradio page (Stylize, Video, Train, Styles) and serves it on one
address. Gradio is imported here only, so only `brushwork serve` pays for it."""

from __future__ import annotations

import logging
import os
import shutil

# Set before Gradio is imported: it reads them at import. The studio must work offline.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from brushwork.version import __version__  # noqa: E402
from brushwork.web import styles_tab, stylize_tab, train_tab, video_tab  # noqa: E402
from brushwork.web.jobs import JobQueue  # noqa: E402
from brushwork.web.library import StyleLibrary  # noqa: E402
from brushwork.web.settings import StudioSettings  # noqa: E402

REFRESH_S = 1.0  # how often an open page polls the training jobs and the style list
CACHE_AGE_S = 3600  # Gradio's copies of uploads and results are deleted after an hour
# System fonts: Gradio's default theme would fetch Google Fonts, which a local app must not need.
THEME = gr.themes.Default(font=[gr.themes.Font("system-ui"), gr.themes.Font("sans-serif")],
                          font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")])  # fmt: skip


def build_app(settings: StudioSettings) -> tuple[gr.Blocks, JobQueue]:
    """The page and the training queue behind it (call ``queue.close()`` when done)."""
    library = StyleLibrary(settings.library_dir)
    queue = JobQueue(settings.jobs_dir)
    with gr.Blocks(title="brushwork studio", analytics_enabled=False, delete_cache=(CACHE_AGE_S // 6, CACHE_AGE_S)) as demo:
        gr.Markdown(f"## brushwork studio {__version__}\nStylize photos and clips, train a style from a painting, manage styles.")
        timer = gr.Timer(REFRESH_S)
        with gr.Tabs():
            with gr.Tab("Stylize", id="stylize"):
                stylize_style = stylize_tab.build(library, settings)
            with gr.Tab("Video", id="video"):
                video_style = video_tab.build(library, settings)
            with gr.Tab("Train", id="train"):
                train_tab.build(queue, library, settings, timer)
            with gr.Tab("Styles", id="styles"):
                gallery, styles_choice = styles_tab.build(library, settings, demo)

        def refresh_styles(shown: list[str]):
            """New or deleted styles reach every page's lists (skipped while nothing changed)."""
            names = library.names()
            if names == shown:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), shown
            return (gr.update(choices=stylize_tab.style_choices(library)), styles_tab.gallery_items(library),
                    gr.update(choices=names), gr.update(choices=names), names)  # fmt: skip

        shown_styles = gr.State(library.names())
        timer.tick(refresh_styles, shown_styles, [stylize_style, gallery, styles_choice, video_style, shown_styles],
                   show_progress="hidden", queue=False)  # fmt: skip
    limits = settings.limits
    demo.queue(max_size=limits.queue_size, default_concurrency_limit=1)
    return demo, queue


def launch(settings: StudioSettings, block: bool = True) -> tuple[gr.Blocks, JobQueue]:
    """Start the server on settings.host:settings.port. With ``block`` it serves until Ctrl-C
    and then stops the training queue; otherwise it returns at once (tests, benchmarks)."""
    logging.basicConfig(level=logging.INFO, format="brushwork serve: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up requests
    demo, queue = build_app(settings)
    # Gradio refuses bigger uploads itself, before our own limit (with its message) is reached.
    hard_limit = 2 * settings.limits.max_upload_bytes
    demo.launch(
        server_name=settings.host, server_port=settings.port, share=False, inbrowser=False, show_error=False,
        max_file_size=hard_limit, theme=THEME, ssr_mode=False, mcp_server=False, pwa=False, quiet=True,
        prevent_thread_lock=not block, footer_links=[],
    )  # fmt: skip
    if block:
        queue.close()
        if settings.outputs_are_temporary:
            shutil.rmtree(settings.outputs_dir, ignore_errors=True)
    return demo, queue
