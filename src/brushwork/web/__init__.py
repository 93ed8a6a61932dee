"""The web studio (`brushwork serve`): stylize, train and manage styles from a browser.

Needs the optional extra ``brushwork[web]`` (Gradio). Nothing here is imported by
``import brushwork`` or by the other commands; app.py imports Gradio itself.
"""

INSTALL_HINT = "the web studio needs Gradio: pip install 'brushwork[web]'"
