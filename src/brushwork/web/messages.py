"""What the page shows when something goes wrong: one line, never a traceback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from brushwork.errors import BrushworkError, describe

log = logging.getLogger("brushwork.web")


def refusal(text: str) -> str:
    """A refusal or failure as the page's status line."""
    return f"**Refused:** {text}"


def report_errors(failed: Callable[[str], tuple]) -> Callable:
    """Decorate a page handler so that a BrushworkError (a user's bad file or option) or an
    unexpected exception becomes ``failed(message)``, the handler's outputs for that case.
    Unexpected ones are logged with their traceback on the server, not sent to the page."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except BrushworkError as exc:
                return failed(refusal(str(exc)))
            except Exception as exc:  # a bug: the user gets one line, the log the traceback
                log.exception("studio handler %s failed", handler.__name__)
                return failed(refusal(f"internal error ({type(exc).__name__}: {describe(exc)}); see the server log"))

        return wrapper

    return decorate
